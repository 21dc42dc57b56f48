/**
 * maxPool and avgPool over NHWC tensors, with their gradients.
 * Legend: x [N,H,W,C], y [N,OH,OW,C]; a KH×KW window moves by strides.
 */
import { poolConfig, poolGradKernel, poolKernel, type PoolVariant } from "../../shaders/pool.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record } from "../autograd/tape.ts";
import { runtime } from "../gpu/runtime.ts";
import type { Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { emptyWindowed, imagesPerWindow, windowAt, windowed } from "./_uniform_window.ts";
import { type Padding, pair, type Window2D, window2D, windowsTile, windowUniforms } from "./_window.ts";

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
 * import { ready } from "../gpu/runtime.ts";
 * import { maxPool } from "./pool.ts";
 * import { tensor } from "./creation.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready();
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
 * import { ready } from "../gpu/runtime.ts";
 * import { avgPool } from "./pool.ts";
 * import { tensor } from "./creation.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready();
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
  // Both are read through uniform windows downstream (the next conv layer, the backward pass).
  const y = emptyWindowed([g.N, g.OH, g.OW, g.C]);
  const arg = withArg ? emptyWindowed(y.shape) : null; // h·W + w as f32 (shaders/pool.ts)
  dispatch(poolKernel, { op, vec, withArg }, [x], [y, ...(arg ? [arg] : [])], g, g.OH, g.H * g.W * g.C);
  // max: dx = dy at each window's arg-max; avg: dx = Σ dy / (real inputs in the window)
  record(y, [x], (dy, [arg]) => {
    const dx = emptyWindowed(x.shape); // often a conv layer's dy, read through uniform windows
    const disjoint = windowsTile(g);
    const rows = disjoint ? g.OH : g.H; // the kernel's invocations: per row of dy, or of dx
    dispatch(
      poolGradKernel,
      { op, vec, disjoint },
      op === "max" ? [dy, arg] : [dy],
      [dx],
      g,
      rows,
      g.OH * g.OW * g.C,
    );
    return [dx];
  }, arg ? [arg] : []);
  arg?.dispose(); // the tape keeps a view
  return y;
}

/**
 * Runs a pool kernel over `outputs` (y forward, dx backward), gathering from
 * `sources` (images of `imageFloats` floats): through uniform windows of whole
 * images, one dispatch per window, when an image fits one; else from storage.
 * One invocation per image row (`rows` of them per image) × channel group.
 */
function dispatch(
  kernel: typeof poolKernel,
  variant: Omit<PoolVariant, "band">,
  sources: Tensor[],
  outputs: Tensor[],
  g: Window2D,
  rows: number,
  imageFloats: number,
): void {
  if (outputs[0].size === 0) return;
  const total = g.N * rows * (g.C / (variant.vec ? 4 : 1));
  const gpu = runtime();
  // On llvmpipe, 4-channel texels from texture copies: cheaper than storage or uniform-window reads.
  const fits = sources.every((t) => t.size <= gpu.textures.maxFloats);
  if (variant.vec && gpu.ctx.isFallbackAdapter && poolConfig.texture && fits) {
    const textures = sources.map((t) => gpu.texture(t.buffer, t.size));
    gpu.dispatch(
      kernel,
      { ...variant, band: false, texture: true },
      [...textures, ...outputs.map((t) => t.buffer)],
      { first: 0, total, n0: 0, ...windowUniforms(g) },
      grid1D(total),
    );
    return;
  }
  const ipw = imagesPerWindow(imageFloats);
  const band = ipw > 0;
  const bands = band ? Math.ceil(g.N / ipw) : 1;
  const padded = band ? sources.map((t) => windowed(t, bands, ipw * imageFloats)) : sources;
  const perImage = total / g.N;
  for (let k = 0; k < bands; k++) {
    const n0 = band ? k * ipw : 0;
    const first = n0 * perImage, end = band ? Math.min(g.N, n0 + ipw) * perImage : total;
    runtime().dispatch(
      kernel,
      { ...variant, band },
      [
        ...padded.map((t) => (band ? windowAt(t, n0 * imageFloats) : t.buffer)),
        ...outputs.map((t) => t.buffer),
      ],
      { first, total: end, n0, ...windowUniforms(g) },
      grid1D(end - first),
    );
  }
  padded.forEach((t, i) => t !== sources[i] && t.dispose());
}
