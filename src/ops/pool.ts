/**
 * maxPool and avgPool over NHWC tensors, with their gradients.
 * Legend: x [N,H,W,C], y [N,OH,OW,C]; a KH×KW window moves by strides.
 */
import { poolGradKernel, poolKernel, type PoolVariant } from "../../shaders/pool.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record } from "../autograd/tape.ts";
import { runtime } from "../gpu/runtime.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { pair, type Padding, type Window2D, window2D, windowUniforms } from "./_window.ts";

/**
 * Max pooling of NHWC `x`. Padded positions never win.
 *
 * NOTE: ties go to exactly one input, the first of the window in row-major
 * order (top-left first), and the gradient flows to it alone.
 *
 * @param x Input [N, H, W, C].
 * @param filterSize Window size, or [height, width].
 * @param strides Stride, or [strideHeight, strideWidth].
 * @param pad "valid" or "same" (TensorFlow's rule, extra padding bottom/right).
 * @returns [N, OH, OW, C].
 * @example
 * ```ts
 * import { maxPool, tensor } from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = tensor([1, 5, 3, 2], [1, 2, 2, 1]);
 * assertEquals([...await maxPool(x, 2, 2, "valid").data()], [5]);
 * ```
 */
export function maxPool(
  x: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: Padding,
): Tensor {
  return pool("max", x, filterSize, strides, pad);
}

/**
 * Average pooling of NHWC `x`. With "same" padding each window's mean is over
 * its real inputs only (padded positions are not counted), as in TensorFlow.
 *
 * @param x Input [N, H, W, C].
 * @param filterSize Window size, or [height, width].
 * @param strides Stride, or [strideHeight, strideWidth].
 * @param pad "valid" or "same".
 * @returns [N, OH, OW, C].
 * @example
 * ```ts
 * import { avgPool, tensor } from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = tensor([1, 5, 3, 3], [1, 2, 2, 1]);
 * assertEquals([...await avgPool(x, 2, 2, "valid").data()], [3]);
 * ```
 */
export function avgPool(
  x: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: Padding,
): Tensor {
  return pool("avg", x, filterSize, strides, pad);
}

function pool(
  op: "max" | "avg",
  input: Tensor,
  filterSize: number | readonly [number, number],
  strides: number | readonly [number, number],
  pad: Padding,
): Tensor {
  const name = op === "max" ? "maxPool" : "avgPool";
  const x = asTensor(input);
  checkDType(name, "x", x);
  const g = window2D(name, x.shape, pair(name, "filterSize", filterSize), strides, pad);
  const vec = g.C % 4 === 0;
  // The arg-max is kept only when a gradient may be asked for.
  const withArg = op === "max" && isWatched(x);
  const y = empty([g.N, g.OH, g.OW, g.C]);
  const arg = withArg ? empty(y.shape, "int32") : null;
  dispatch(poolKernel, { op, vec, withArg }, [x.buffer, y.buffer, ...(arg ? [arg.buffer] : [])], g, y.size);
  // max: dx = dy at each window's arg-max; avg: dx = Σ dy / (real inputs in the window)
  record(y, [x], (dy, [arg]) => {
    const dx = empty(x.shape);
    const buffers = [dy.buffer, ...(op === "max" ? [arg.buffer] : []), dx.buffer];
    dispatch(poolGradKernel, { op, vec }, buffers, g, dx.size);
    return [dx];
  }, arg ? [arg] : []);
  arg?.dispose(); // the tape keeps a view
  return y;
}

function dispatch(
  kernel: typeof poolKernel,
  variant: PoolVariant,
  buffers: GPUBuffer[],
  g: Window2D,
  size: number,
): void {
  const total = size / (variant.vec ? 4 : 1);
  if (total === 0) return;
  runtime().dispatch(kernel, variant, buffers, { total, ...windowUniforms(g) }, grid1D(total));
}
