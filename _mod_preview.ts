/**
 * Preview of mod.ts with the layers API exports (scratch file; deleted after the doc lint).
 * @module
 */
export * from "./mod.ts";
export { loadLayersModel, type SaveOptions, type SaveResult } from "./src/models/save.ts";
export {
  type ModelCompileArgs,
  type ModelEvaluateArgs,
  Sequential,
  sequential,
  type SequentialArgs,
  type TrainingConfig,
} from "./src/models/sequential.ts";
export type { ModelFitArgs } from "./src/models/fit.ts";
export type { HostData, ModelData } from "./src/models/data.ts";
export type { ProgressWriter } from "./src/models/progress.ts";
export type { LossFn, LossIdentifier } from "./src/models/losses.ts";
export type { OptimizerIdentifier, OptimizerJSON } from "./src/models/optimizers.ts";
export type { CallArgs, Layer, LayerArgs, LayerConfig, LayerWeight, SymbolicShape } from "./src/layers/layer.ts";
export type { Callback, CustomCallbackArgs, History, Logs, TrainingParams } from "./src/models/callbacks.ts";
export type { MetricFn, MetricIdentifier } from "./src/models/metrics.ts";
export type { NamedTensor, Optimizer, OptimizerConfig } from "./src/optimizers/optimizer.ts";
export type { OptimizerKind } from "./shaders/optimizers.ts";
export type { Initializer, InitializerConfig, InitializerIdentifier } from "./src/initializers.ts";
/** Layer factories as in `tf.layers`. */
export * as layers from "./src/layers/layers_namespace.ts";
/** Metric functions as in `tf.metrics`. */
export * as metrics from "./src/models/metrics_namespace.ts";
/** Keras's callbacks. */
export * as callbacks from "./src/models/callbacks_namespace.ts";
/** Weight initializers. */
export * as initializers from "./src/initializers.ts";
