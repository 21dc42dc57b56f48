/**
 * Metrics: per-example functions as in `tf.metrics` (labels first), and the
 * identifiers `compile` accepts. "accuracy"/"acc" become binary, categorical
 * or sparse categorical accuracy from the shapes of labels and outputs, the
 * rule Keras's compile uses.
 */
import { accuracyKernel, type AccuracyKind } from "../../shaders/metrics.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { abs, square, sub } from "../ops/elementwise.ts";
import { mean } from "../ops/reduce.ts";
import { formatShape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import type { LossKind } from "./losses.ts";

/** A metric function: labels first; per-example values (or a scalar) that fit averages over the epoch. */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** @internal The accuracy kernel on predictions [..., C]; `threshold` is 0.5 for probabilities, 0 for logits. */
export function accuracyOf(kind: AccuracyKind, yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  const c = yPred.shape[yPred.rank - 1] ?? 1;
  const rowShape = yPred.shape.slice(0, -1);
  const rows = c === 0 ? 0 : yPred.size / c;
  const wantLabels = kind === "sparse" ? rowShape : yPred.shape;
  const labelsFit = yTrue.size === (kind === "sparse" ? rows : yPred.size) &&
    yTrue.dtype === (kind === "sparse" ? "int32" : "float32");
  if (!labelsFit || yPred.dtype !== "float32") {
    throw new ShapeError(
      `${kind} accuracy: labels ${formatShape(yTrue.shape)} ${yTrue.dtype} do not fit predictions ` +
        `${formatShape(yPred.shape)}: expected ${kind === "sparse" ? "int32" : "float32"} ${
          formatShape(wantLabels)
        }`,
    );
  }
  const out = empty(rowShape);
  if (rows > 0) {
    runtime().dispatch(accuracyKernel, { kind }, [yPred.buffer, yTrue.buffer, out.buffer], {
      rows,
      c,
      threshold,
    }, grid1D(rows));
  }
  return out;
}

/**
 * Per example, the fraction of values where (yPred > 0.5) equals yTrue (0 or 1).
 * @param yTrue Labels, 0 or 1, shaped as yPred.
 * @param yPred Probabilities [..., C].
 * @returns [...] (yPred's shape without the last axis).
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { binaryAccuracy } from "./metrics.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const acc = binaryAccuracy(wg.tensor([[1], [0]]), wg.tensor([[0.9], [0.7]]));
 * assertEquals([...await acc.data()], [1, 0]);
 * ```
 */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return accuracyOf("binary", yTrue, yPred);
}

/**
 * Per example, 1 where argMax(yPred) equals argMax(yTrue) (one-hot labels), else 0.
 *
 * @param yTrue The targets.
 * @param yPred The model's outputs.
 * @returns One value per example, [batch].
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const hits = wg.metrics.categoricalAccuracy(wg.tensor([[0, 1], [1, 0]]), wg.tensor([[0.2, 0.8], [0.3, 0.7]]));
 * assertEquals(Array.from(await hits.data()), [1, 0]);
 * ```
 */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return accuracyOf("categorical", yTrue, yPred);
}

/**
 * Per example, 1 where argMax(yPred) equals the int32 class index yTrue, else 0.
 *
 * @param yTrue The targets.
 * @param yPred The model's outputs.
 * @returns One value per example, [batch].
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const labels = wg.tensor([1, 0], [2], "int32");
 * const hits = wg.metrics.sparseCategoricalAccuracy(labels, wg.tensor([[0.2, 0.8], [0.3, 0.7]]));
 * assertEquals(Array.from(await hits.data()), [1, 0]);
 * ```
 */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return accuracyOf("sparse", yTrue, yPred);
}

/**
 * Per example, the mean of (yPred - yTrue)² over the last axis.
 *
 * @param yTrue The targets.
 * @param yPred The model's outputs.
 * @returns One value per example, [batch].
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const e = wg.metrics.meanSquaredError(wg.tensor([[0, 0], [1, 1]]), wg.tensor([[1, 1], [1, 3]]));
 * assertEquals(Array.from(await e.data()), [1, 2]);
 * ```
 */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor): Tensor {
  return mean(square(sub(yPred, yTrue)), -1);
}

/**
 * Per example, the mean of |yPred - yTrue| over the last axis.
 *
 * @param yTrue The targets.
 * @param yPred The model's outputs.
 * @returns One value per example, [batch].
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const e = wg.metrics.meanAbsoluteError(wg.tensor([[0, 0], [1, 1]]), wg.tensor([[1, 1], [1, 3]]));
 * assertEquals(Array.from(await e.data()), [1, 1]);
 * ```
 */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor): Tensor {
  return mean(abs(sub(yPred, yTrue)), -1);
}

type BuiltinMetric = "accuracy" | AccuracyKind | "mse" | "mae";

const METRIC_NAMES: Record<MetricIdentifier, BuiltinMetric> = {
  accuracy: "accuracy",
  acc: "accuracy",
  binaryAccuracy: "binary",
  binary_accuracy: "binary",
  categoricalAccuracy: "categorical",
  categorical_accuracy: "categorical",
  sparseCategoricalAccuracy: "sparse",
  sparse_categorical_accuracy: "sparse",
  meanSquaredError: "mse",
  mse: "mse",
  mean_squared_error: "mse",
  meanAbsoluteError: "mae",
  mae: "mae",
  mean_absolute_error: "mae",
};

/** The metric names `compile` accepts (a function `(yTrue, yPred) => Tensor` also works). */
export type MetricIdentifier =
  | "accuracy"
  | "acc"
  | "binaryAccuracy"
  | "binary_accuracy"
  | "categoricalAccuracy"
  | "categorical_accuracy"
  | "sparseCategoricalAccuracy"
  | "sparse_categorical_accuracy"
  | "meanSquaredError"
  | "mse"
  | "mean_squared_error"
  | "meanAbsoluteError"
  | "mae"
  | "mean_absolute_error";

/** A compiled metric: its key in history and logs (the name as given), and what it computes. */
export interface MetricSpec {
  readonly key: string;
  readonly builtin: BuiltinMetric | null;
  readonly fn: MetricFn | null;
}

/** Looks a metric up (throwing with the known names) or wraps a function (its key is the function's name). */
export function resolveMetric(identifier: string | MetricFn): MetricSpec {
  if (typeof identifier === "function") {
    return { key: identifier.name || "metric", builtin: null, fn: identifier };
  }
  const builtin = Object.hasOwn(METRIC_NAMES, identifier)
    ? METRIC_NAMES[identifier as MetricIdentifier]
    : undefined;
  if (builtin === undefined) {
    throw new Error(
      `unknown metric '${identifier}': expected a function (yTrue, yPred) => Tensor or one of ` +
        Object.keys(METRIC_NAMES).join(", "),
    );
  }
  return { key: identifier, builtin, fn: null };
}

/**
 * Keras's choice of accuracy (compile_utils): binary if the output has one
 * value per example, sparse if the labels lack the class axis (or have size
 * 1 there while the output has several), else categorical.
 */
export function accuracyKind(
  labelShape: readonly number[],
  outputShape: readonly (number | null)[],
): AccuracyKind {
  const outLast = outputShape.at(-1);
  if (outLast === 1) return "binary";
  const sparse = labelShape.length < outputShape.length || (labelShape.at(-1) === 1 && outLast !== 1);
  return sparse ? "sparse" : "categorical";
}

/** The label dtype a loss and metrics need: int32 class indices for the sparse ones. */
export function labelsAreSparse(
  loss: LossKind | null,
  metrics: readonly MetricSpec[],
  auto: AccuracyKind,
): boolean {
  if (loss === "sparse") return true;
  return metrics.some((m) => m.builtin === "sparse" || (m.builtin === "accuracy" && auto === "sparse"));
}
