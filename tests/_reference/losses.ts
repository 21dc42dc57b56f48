/**
 * Float64 references of the losses, each reduced to its mean as TensorFlow.js
 * does by default: over all elements, and over examples for the softmax
 * losses (C = the class axis, the last). Argument order is tfjs's: labels first.
 */
import { type Arr, fsum, scalarArr, Sum } from "./array.ts";
import { BINARY_REF } from "./elementwise.ts";
import { rowStats } from "./softmax.ts";

/** mean over elements of f(label, prediction). */
function meanOf(labels: Arr, predictions: Arr, f: (y: number, p: number) => number): Arr {
  const s = new Sum();
  for (let i = 0; i < labels.data.length; i++) s.add(f(labels.data[i], predictions.data[i]));
  return scalarArr(s.value / labels.data.length);
}

/** mean((p - y)²) */
export const meanSquaredError = (labels: Arr, predictions: Arr): Arr =>
  meanOf(labels, predictions, (y, p) => (p - y) ** 2);

/** mean(|p - y|) */
export const absoluteDifference = (labels: Arr, predictions: Arr): Arr =>
  meanOf(labels, predictions, (y, p) => Math.abs(p - y));

/** mean of the logistic loss of logits z against labels y in [0, 1]. */
export const sigmoidCrossEntropy = (labels: Arr, logits: Arr): Arr =>
  meanOf(labels, logits, (y, z) => BINARY_REF.sigmoidCrossEntropy(z, y));

/** Per example: Σ_j y_j·(logΣexp(z) - z_j) over its label row y; the mean over examples. */
export function softmaxCrossEntropy(labels: Arr, logits: Arr): Arr {
  const c = logits.shape[logits.shape.length - 1];
  const rows = logits.data.length / c;
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    // (m - z_j) + log s rather than lse - z_j: no cancellation of two logits of 1e4.
    const { m, s } = rowStats(logits, r);
    const row = new Sum();
    for (let j = 0; j < c; j++) {
      row.add(labels.data[r * c + j] * ((m - logits.data[r * c + j]) + Math.log(s)));
    }
    losses[r] = row.value;
  }
  return scalarArr(fsum(losses) / rows);
}

/** Per example: logΣexp(z) - z_label, labels being int32 class indices; the mean over examples. */
export function sparseSoftmaxCrossEntropy(labels: Arr, logits: Arr): Arr {
  const c = logits.shape[logits.shape.length - 1];
  const rows = logits.data.length / c;
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const { m, s } = rowStats(logits, r);
    losses[r] = (m - logits.data[r * c + labels.data[r]]) + Math.log(s);
  }
  return scalarArr(fsum(losses) / rows);
}
