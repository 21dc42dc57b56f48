/** softmax and logSoftmax over the last axis, with their row-wise gradients. */
import { softmaxGradKernel, softmaxKernel } from "../../shaders/softmax.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { record } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";

function rowwise(op: "softmax" | "logSoftmax", input: Tensor, axis: number): Tensor {
  const x = asTensor(input);
  checkDType(op, "logits", x);
  if (x.rank === 0 || (axis !== -1 && axis !== x.rank - 1)) {
    throw new ShapeError(
      `${op}: only the last axis is supported, got axis ${axis} of a rank-${x.rank} tensor`,
    );
  }
  const log = op === "logSoftmax";
  const c = x.shape[x.rank - 1];
  const rows = c === 0 ? 0 : x.size / c;
  const y = empty(x.shape);
  if (y.size > 0) runtime().dispatch(softmaxKernel, { log }, [x.buffer, y.buffer], { rows, c }, grid1D(rows));
  // softmax: dx = y·(dy - Σdy·y);  logSoftmax: dx = dy - exp(y)·Σdy
  return record(y, [x], (dy, [y]) => {
    const dx = empty(y.shape);
    if (dx.size > 0) {
      runtime().dispatch(
        softmaxGradKernel,
        { log },
        [y.buffer, dy.buffer, dx.buffer],
        { rows, c },
        grid1D(rows),
      );
    }
    return [dx];
  }, [y]);
}

/**
 * exp(x) / Σ exp(x) over the last axis, computed stably (max subtracted).
 *
 * @param logits The input tensor.
 * @param axis The axis to normalize over (default -1, the last).
 * @returns Probabilities: positive, summing to 1 along `axis`; the same shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const p = wg.softmax(wg.tensor([[0, Math.log(3)]]));
 * (await p.data()).forEach((v, i) => assertAlmostEquals(v, [0.25, 0.75][i], 1e-5));
 * ```
 */
export function softmax(logits: Tensor, axis = -1): Tensor {
  return rowwise("softmax", logits, axis);
}

/**
 * log(softmax(x)) over the last axis, computed stably as x - max - log Σ exp(x - max).
 *
 * @param logits The input tensor.
 * @param axis The axis to normalize over (default -1, the last).
 * @returns log(softmax(logits)), computed stably; the same shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const l = wg.logSoftmax(wg.tensor([[0, Math.log(3)]]));
 * (await l.data()).forEach((v, i) => assertAlmostEquals(v, [Math.log(0.25), Math.log(0.75)][i], 1e-5));
 * ```
 */
export function logSoftmax(logits: Tensor, axis = -1): Tensor {
  return rowwise("logSoftmax", logits, axis);
}
