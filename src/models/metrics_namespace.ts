/** The `wg.metrics` namespace: per-example metric functions as in `tf.metrics` (labels first). */
export {
  binaryAccuracy,
  categoricalAccuracy,
  meanAbsoluteError,
  meanSquaredError,
  type MetricFn,
  type MetricIdentifier,
  sparseCategoricalAccuracy,
} from "./metrics.ts";
