/**
 * Loss identifiers for `compile` (tfjs camelCase names and Keras snake_case
 * aliases) and the losses themselves, reduced as Keras reduces them: the
 * mean over the last axis per example, then the mean over the batch.
 * When the last layer ends in softmax (sigmoid) and the loss is a
 * (binary) cross-entropy, the model hands the logits to the fused, stable
 * kernel instead (Keras does the same through `_keras_logits`).
 */
import { ShapeError } from "../errors.ts";
import {
  absoluteDifference,
  meanSquaredError as mseOp,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
} from "../ops/losses.ts";
import { add, div, log, maximum, minimum, mul, neg, sub } from "../ops/elementwise.ts";
import { mean, sum } from "../ops/reduce.ts";
import { oneHot, reshape } from "../ops/transform.ts";
import { formatShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";

/** A loss function: labels first, as in tfjs; returns a scalar (or per-example values, then averaged). */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Keras's epsilon: probabilities are clipped to [ε, 1-ε] before a log. */
export const EPSILON = 1e-7;

/** Which built-in loss. */
export type LossKind = "mse" | "mae" | "binary" | "categorical" | "sparse";

const LOSS_NAMES: Record<LossIdentifier, LossKind> = {
  meanSquaredError: "mse",
  mse: "mse",
  mean_squared_error: "mse",
  meanAbsoluteError: "mae",
  mae: "mae",
  mean_absolute_error: "mae",
  binaryCrossentropy: "binary",
  binary_crossentropy: "binary",
  categoricalCrossentropy: "categorical",
  categorical_crossentropy: "categorical",
  sparseCategoricalCrossentropy: "sparse",
  sparse_categorical_crossentropy: "sparse",
};

/** The loss names `compile` accepts: tfjs's camelCase and Keras's snake_case and short names. */
export type LossIdentifier =
  | "meanSquaredError"
  | "mse"
  | "mean_squared_error"
  | "meanAbsoluteError"
  | "mae"
  | "mean_absolute_error"
  | "binaryCrossentropy"
  | "binary_crossentropy"
  | "categoricalCrossentropy"
  | "categorical_crossentropy"
  | "sparseCategoricalCrossentropy"
  | "sparse_categorical_crossentropy";

/** A compiled loss: what it is called in history/model.json and how to compute it. */
export interface LossSpec {
  /** The name as given (or the function's name), stored in model.json's training config. */
  readonly name: string;
  /** The built-in kind, or null for a user function. */
  readonly kind: LossKind | null;
  /** The user function, for kind null. */
  readonly fn: LossFn | null;
}

/** Looks a loss up by name (throwing with the list of known names) or wraps a function. */
export function resolveLoss(identifier: string | LossFn): LossSpec {
  if (typeof identifier === "function") {
    return { name: identifier.name || "custom_loss", kind: null, fn: identifier };
  }
  const kind = Object.hasOwn(LOSS_NAMES, identifier) ? LOSS_NAMES[identifier as LossIdentifier] : undefined;
  if (kind === undefined) {
    throw new Error(
      `unknown loss '${identifier}': expected a function (yTrue, yPred) => Tensor or one of ` +
        Object.keys(LOSS_NAMES).join(", "),
    );
  }
  return { name: identifier, kind, fn: null };
}

/** The activation a loss of `kind` fuses with the model's last activation, if it can. */
export function fusableActivation(
  kind: LossKind | null,
  lastActivation: string | undefined,
): "softmax" | "sigmoid" | null {
  if ((kind === "categorical" || kind === "sparse") && lastActivation === "softmax") return "softmax";
  if (kind === "binary" && lastActivation === "sigmoid") return "sigmoid";
  return null;
}

/**
 * The batch loss (a scalar) of `output` against labels. `fused` says the
 * output is logits whose activation the loss applies (see fusableActivation).
 * Sparse labels arrive as int32 [B] (the model reshapes [B, 1]).
 */
export function computeLoss(
  spec: LossSpec,
  yTrue: Tensor,
  output: Tensor,
  fused: "softmax" | "sigmoid" | null,
): Tensor {
  if (spec.fn !== null) {
    const value = spec.fn(yTrue, output);
    return value.rank === 0 ? value : mean(value);
  }
  switch (spec.kind!) {
    case "mse":
      return mseOp(yTrue, output);
    case "mae":
      return absoluteDifference(yTrue, output);
    case "binary":
      return fused === "sigmoid" ? sigmoidCrossEntropy(yTrue, output) : binaryCrossentropy(yTrue, output);
    case "categorical":
      return fused === "softmax"
        ? softmaxCrossEntropy(yTrue, output)
        : categoricalCrossentropy(yTrue, output);
    case "sparse":
      return fused === "softmax"
        ? sparseSoftmaxCrossEntropy(yTrue, output)
        : sparseCategoricalCrossentropy(yTrue, output);
  }
}

/** p clipped to [ε, 1-ε] (the gradient is zero outside, as tf.clip_by_value's). */
function clip(p: Tensor): Tensor {
  return minimum(maximum(p, EPSILON), 1 - EPSILON);
}

/**
 * Keras's binary cross-entropy on probabilities:
 * -mean(y·log(p + ε) + (1-y)·log(1 - p + ε)), p clipped to [ε, 1-ε].
 */
export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  checkSameShape("binaryCrossentropy", yTrue, yPred);
  const p = clip(yPred);
  const positive = mul(yTrue, log(add(p, EPSILON)));
  const negative = mul(sub(1, yTrue), log(add(sub(1, p), EPSILON)));
  return neg(mean(add(positive, negative)));
}

/**
 * Keras's categorical cross-entropy on probabilities: each row is
 * renormalized to sum 1 and clipped, then -Σ y·log(p) per example, mean over the batch.
 */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  checkSameShape("categoricalCrossentropy", yTrue, yPred);
  const p = clip(div(yPred, sum(yPred, -1, true)));
  return neg(mean(sum(mul(yTrue, log(p)), -1)));
}

/** Categorical cross-entropy against int32 class indices [B] (one-hot encoded on the GPU). */
export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  const classes = yPred.shape[yPred.rank - 1];
  if (yTrue.dtype !== "int32") {
    throw new ShapeError("sparseCategoricalCrossentropy: labels must be int32 class indices");
  }
  return categoricalCrossentropy(reshape(oneHot(yTrue, classes), yPred.shape), yPred);
}

function checkSameShape(op: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.rank !== yPred.rank || yTrue.shape.some((d, i) => d !== yPred.shape[i])) {
    throw new ShapeError(
      `${op}: labels ${formatShape(yTrue.shape)} and predictions ${formatShape(yPred.shape)} differ in shape`,
    );
  }
}
