/**
 * Losses, reduced to their mean as TensorFlow.js does by default (the mean
 * over elements; for the softmax losses, over examples). Argument order is
 * tfjs's: labels first.
 */
import { LABEL_OUT_OF_RANGE, softmaxCrossEntropyKernel } from "../../shaders/softmax.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record, withTape } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { defineAssertion, runtime } from "../gpu/runtime.ts";
import { formatShape, shapesEqual } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { abs, mul, neg, sigmoidCrossEntropyWithLogits, square, sub } from "./elementwise.ts";
import { mean } from "./reduce.ts";
import { logSoftmax } from "./softmax.ts";
import { reshape } from "./transform.ts";

defineAssertion(
  LABEL_OUT_OF_RANGE,
  ([label, row, classes]) =>
    `sparseSoftmaxCrossEntropy: label ${label | 0} of example ${row} is out of range [0, ${classes})`,
);

function checkSameShape(op: string, labels: Tensor, predictions: Tensor): void {
  checkDType(op, "labels", labels);
  checkDType(op, "predictions", predictions);
  if (!shapesEqual(labels.shape, predictions.shape)) {
    throw new ShapeError(
      `${op}: labels ${formatShape(labels.shape)} and predictions ${
        formatShape(predictions.shape)
      } differ in shape`,
    );
  }
}

/**
 * mean((predictions - labels)²)
 *
 * @param labels The targets, same shape as `predictions`.
 * @param predictions The model's outputs.
 * @returns A scalar: the mean over all elements.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const loss = wg.losses.meanSquaredError(wg.tensor([0, 1]), wg.tensor([1, 1]));
 * assertAlmostEquals((await loss.data())[0], 0.5); // ((1-0)² + 0) / 2
 * ```
 */
export function meanSquaredError(labels: Tensor, predictions: Tensor): Tensor {
  checkSameShape("meanSquaredError", labels, predictions);
  return mean(square(sub(predictions, labels)));
}

/**
 * mean(|predictions - labels|) (Keras: mean absolute error).
 *
 * @param labels The targets, same shape as `predictions`.
 * @param predictions The model's outputs.
 * @returns A scalar: the mean over all elements.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const loss = wg.losses.absoluteDifference(wg.tensor([0, 1]), wg.tensor([2, 1]));
 * assertAlmostEquals((await loss.data())[0], 1); // (2 + 0) / 2
 * ```
 */
export function absoluteDifference(labels: Tensor, predictions: Tensor): Tensor {
  checkSameShape("absoluteDifference", labels, predictions);
  return mean(abs(sub(predictions, labels)));
}

/**
 * Binary cross-entropy of labels in [0, 1] against logits, stable for any logit.
 *
 * @param labels Targets in [0, 1], the shape of `logits`.
 * @param logits Unbounded scores; the probability is sigmoid(logits).
 * @returns A scalar: the mean binary cross-entropy.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const loss = wg.losses.sigmoidCrossEntropy(wg.tensor([1]), wg.tensor([0])); // p = 0.5
 * assertAlmostEquals((await loss.data())[0], Math.log(2), 1e-6);
 * ```
 */
export function sigmoidCrossEntropy(labels: Tensor, logits: Tensor): Tensor {
  checkSameShape("sigmoidCrossEntropy", labels, logits);
  return mean(sigmoidCrossEntropyWithLogits(logits, labels));
}

/**
 * Cross-entropy of softmax(logits) against one-hot (or probability) labels, [batch, classes].
 *
 * @param labels One-hot (or probability) rows, [batch, classes].
 * @param logits Unnormalized scores, [batch, classes].
 * @returns A scalar: the mean over the batch.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const loss = wg.losses.softmaxCrossEntropy(wg.tensor([[0, 1]]), wg.tensor([[0, 0]])); // p = [0.5, 0.5]
 * assertAlmostEquals((await loss.data())[0], Math.log(2), 1e-6);
 * ```
 */
export function softmaxCrossEntropy(labels: Tensor, logits: Tensor): Tensor {
  const z = asTensor(logits);
  const y = asTensor(labels);
  checkSameShape("softmaxCrossEntropy", y, z);
  return fusedSoftmaxCrossEntropy("softmaxCrossEntropy", y, z, false);
}

/**
 * Cross-entropy of softmax(logits) [batch, classes] against int32 class indices [batch].
 *
 * @param labels int32 class indices, [batch]; an index out of range is reported at the next readback.
 * @param logits Unnormalized scores, [batch, classes].
 * @returns A scalar: the mean over the batch.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const labels = wg.tensor([2], [1], "int32");
 * const loss = wg.losses.sparseSoftmaxCrossEntropy(labels, wg.tensor([[0, 0, 0, 0]])); // p = 1/4 each
 * assertAlmostEquals((await loss.data())[0], Math.log(4), 1e-6);
 * ```
 */
export function sparseSoftmaxCrossEntropy(labels: Tensor, logits: Tensor): Tensor {
  const z = asTensor(logits);
  const y = asTensor(labels);
  checkDType("sparseSoftmaxCrossEntropy", "labels", y, "int32");
  checkDType("sparseSoftmaxCrossEntropy", "logits", z);
  if (z.rank < 1 || !shapesEqual(y.shape, z.shape.slice(0, -1))) {
    throw new ShapeError(
      `sparseSoftmaxCrossEntropy: labels ${formatShape(y.shape)} must be logits ${formatShape(z.shape)} ` +
        "without the last (class) axis",
    );
  }
  return fusedSoftmaxCrossEntropy("sparseSoftmaxCrossEntropy", y, z, true);
}

/** Logits up to which one workgroup computes the loss and its mean (a batch of 256 x 10: 2,560). */
const MEAN_IN_KERNEL_MAX = 65536;

/**
 * One kernel gives the per-example loss and dz = softmax·Σy - y. When only the
 * logits are differentiated (a training step), dz comes out scaled by 1/rows
 * and the mean and its gradient are one tape node: dlogits = dLoss·dz, one
 * dispatch instead of the mean's broadcast and scale and the row scale. For
 * up to MEAN_IN_KERNEL_MAX logits the kernel also takes the mean itself.
 */
function fusedSoftmaxCrossEntropy(op: string, labels: Tensor, logits: Tensor, sparse: boolean): Tensor {
  const c = logits.shape[logits.rank - 1] ?? 0;
  if (c === 0) throw new ShapeError(`${op}: logits ${formatShape(logits.shape)} have no classes`);
  const rows = logits.size / c;
  // dlabels = dLoss_row · (logΣexp(z) - z) = -dLoss_row · logSoftmax(z), for dense labels that something
  // differentiates (asked now, so a training step, whose labels are data, pays nothing for it)
  const labelGrad = !sparse && isWatched(labels);
  const rt = runtime();
  const dz = empty(logits.shape);
  const dispatch = (loss: Tensor, mean: boolean) =>
    rt.dispatch(
      softmaxCrossEntropyKernel,
      { sparse, mean },
      [logits.buffer, labels.buffer, loss.buffer, dz.buffer, ...(sparse ? [rt.statusBuffer] : [])],
      { rows, c, dzScale: labelGrad ? 1 : 1 / rows },
      mean ? [1] : grid1D(rows),
    );
  if (!labelGrad) {
    let loss: Tensor;
    if (rows > 0 && logits.size <= MEAN_IN_KERNEL_MAX) {
      loss = empty([]);
      dispatch(loss, true);
    } else {
      const rowLoss = empty(logits.shape.slice(0, -1));
      if (rows > 0) dispatch(rowLoss, false);
      loss = withTape(null, () => mean(rowLoss));
      rowLoss.dispose();
    }
    record(loss, [logits], (dLoss, [dz]) => [mul(dz, dLoss)], [dz]);
    dz.dispose();
    return loss;
  }
  const rowLoss = empty(logits.shape.slice(0, -1));
  if (rows > 0) dispatch(rowLoss, false);
  // dlogits = dLoss_row · (softmax·Σy - y), dz computed in the forward pass
  record(
    rowLoss,
    [logits, labels],
    (dLoss, [dz, z]) => {
      const d = reshape(dLoss, [...dLoss.shape, 1]);
      return [mul(dz, d), mul(logSoftmax(z), neg(d))];
    },
    [dz, logits],
  );
  dz.dispose(); // the tape holds a view when it recorded one
  return mean(rowLoss);
}
