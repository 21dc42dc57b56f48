/**
 * conv2d and fusedConv2d as im2col + one GEMM (bias and activation fused
 * into the GEMM's epilogue), with gradients as GEMMs over the same column matrix.
 *
 * Legend: x [N,H,W,C] (NHWC), filter [KH,KW,C,F] (HWIO), y [N,OH,OW,F];
 * M = N·OH·OW output pixels, K = KH·KW·C, Kp = K rounded up to a multiple of
 * 4 (the column matrix's row stride; see shaders/conv.ts).
 */
import { col2imKernel, im2colKernel, padRowsKernel } from "../../shaders/conv.ts";
import { unaryGradKernel } from "../../shaders/elementwise.ts";
import type { FusedActivation } from "../../shaders/matmul.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record, withTape } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { formatShape, type Shape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { checkRank4, type Padding, type Window2D, window2D, windowUniforms } from "./_window.ts";
import { fusedMatMul, matMul } from "./matmul.ts";
import { sum } from "./reduce.ts";

export type { Padding } from "./_window.ts";

/** Options of `fusedConv2d`: a conv layer's forward pass (conv, + bias, activation) in one GEMM. */
export interface FusedConv2DConfig {
  /** Input, NHWC [N, H, W, C]. */
  x: Tensor;
  /** Filters, HWIO [KH, KW, C, F]. */
  filter: Tensor;
  /** Stride, or [strideHeight, strideWidth]. */
  strides: number | readonly [number, number];
  /** "valid" (no padding) or "same" (TensorFlow's rule: output ceil(H/stride), odd pixel at the bottom/right). */
  pad: Padding;
  /** Added to each output channel; shape [F]. */
  bias?: Tensor;
  /** Applied after the bias, in the GEMM's epilogue. */
  activation?: FusedActivation;
  /** The slope of leakyRelu / the scale of elu. */
  alpha?: number;
}

/**
 * 2-D convolution (cross-correlation, as in TensorFlow) of NHWC `x` with
 * HWIO `filter`.
 *
 * @param x Input [N, H, W, C].
 * @param filter Filters [KH, KW, C, F].
 * @param strides Stride, or [strideHeight, strideWidth].
 * @param pad "valid" or "same" (TensorFlow's asymmetric rule: the extra pixel goes bottom/right).
 * @returns [N, OH, OW, F].
 * @example
 * ```ts
 * import { conv2d, tensor } from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * const y = conv2d(x, tensor([1, 1, 1, 1], [2, 2, 1, 1]), 1, "valid"); // sums each 2x2 window
 * assertEquals([...await y.data()], [10]);
 * ```
 */
export function conv2d(
  x: Tensor,
  filter: Tensor,
  strides: number | readonly [number, number],
  pad: Padding,
): Tensor {
  return fusedConv2d({ x, filter, strides, pad });
}

/**
 * act(conv2d(x, filter) + bias) with the bias and activation fused into the
 * GEMM's epilogue: a conv layer's forward pass is im2col + one GEMM.
 *
 * @param config See FusedConv2DConfig.
 * @returns [N, OH, OW, F].
 */
export function fusedConv2d(config: FusedConv2DConfig): Tensor {
  const { strides, pad, activation = "linear" } = config;
  const alpha = config.alpha ?? (activation === "elu" ? 1 : 0.2);
  const x = asTensor(config.x);
  const filter = asTensor(config.filter);
  checkDType("conv2d", "x", x);
  checkDType("conv2d", "filter", filter);
  checkRank4("conv2d", "x", x.shape);
  checkRank4("conv2d", "filter (HWIO)", filter.shape);
  const [KH, KW, C, F] = filter.shape;
  if (C !== x.shape[3]) {
    throw new ShapeError(
      `conv2d: channel mismatch: x ${formatShape(x.shape)} (NHWC) has ${x.shape[3]} channels, ` +
        `the filter ${formatShape(filter.shape)} (HWIO) expects ${C}`,
    );
  }
  const g = window2D("conv2d", x.shape, [KH, KW], strides, pad);
  const bias = config.bias === undefined ? undefined : asTensor(config.bias);
  if (bias !== undefined) {
    checkDType("conv2d", "bias", bias);
    if (bias.rank !== 1 || bias.shape[0] !== F) {
      throw new ShapeError(`conv2d: bias must have shape [${F}] (one per filter), got ${formatShape(bias.shape)}`);
    }
  }
  const M = g.N * g.OH * g.OW, K = KH * KW * C, Kp = paddedK(K);
  // Decided now: nothing differentiates x later if the tape does not watch it (the first layer's image).
  const needDx = isWatched(x);
  const [cols, w2, y2] = withTape(null, () => {
    const cols = im2col(x, g, K, Kp);
    const w2 = filterMatrix(filter, K, Kp);
    return [cols, w2, fusedMatMul({ a: cols, b: w2, bias, activation, alpha })];
  });
  const y = y2.view([g.N, g.OH, g.OW, F]);
  const inputs = bias ? [x, filter, bias] : [x, filter];
  record(y, inputs, (dy, [cols, w2, y2]) => {
    const dy2 = dy.view([M, F]);
    // NOTE: the fusable activations' derivatives need only y (see ops/matmul.ts).
    const dz = activation === "linear" ? dy2 : activationGrad(activation, y2, dy2, alpha);
    // dW = colsᵀ·dz (its first K rows), dx = col2im(dz·W₂ᵀ), dbias = Σₘ dz
    const dFilter = filterGrad(cols, dz, g.N, filter.shape);
    const dx = needDx ? col2im(matMul(dz, w2, false, true), g, Kp) : null;
    return bias ? [dx, dFilter, sum(dz, 0)] : [dx, dFilter];
  }, activation === "linear" ? [cols, w2] : [cols, w2, y2]);
  for (const t of [cols, w2, y2]) t.dispose(); // the tape keeps views of what it saved
  return y;
}

/** The column matrix's row stride: K rounded up to a multiple of 4 so the GEMM reads it as vec4. */
function paddedK(K: number): number {
  return Math.ceil(K / 4) * 4;
}

/** x [N,H,W,C] → cols [M, Kp]. */
function im2col(x: Tensor, g: Window2D, K: number, Kp: number): Tensor {
  const cols = empty([g.N * g.OH * g.OW, Kp]);
  const vec = g.C % 4 === 0;
  const total = cols.size / (vec ? 4 : 1);
  if (total > 0) {
    runtime().dispatch(im2colKernel, { vec }, [x.buffer, cols.buffer], {
      total,
      ...windowUniforms(g),
      K,
      Kp,
    }, grid1D(total));
  }
  return cols;
}

/** dcols [M, Kp] → dx [N,H,W,C], summing every window position each pixel appeared in. */
function col2im(dcols: Tensor, g: Window2D, Kp: number): Tensor {
  const dx = empty([g.N, g.H, g.W, g.C]);
  const vec = g.C % 4 === 0;
  const total = dx.size / (vec ? 4 : 1);
  if (total > 0) {
    runtime().dispatch(col2imKernel, { vec }, [dcols.buffer, dx.buffer], {
      total,
      ...windowUniforms(g),
      Kp,
    }, grid1D(total));
  }
  return dx;
}

/** filter [KH,KW,C,F] as the GEMM's [Kp, F] operand: a view when Kp = K, else a zero-padded copy. */
function filterMatrix(filter: Tensor, K: number, Kp: number): Tensor {
  const F = filter.shape[3];
  if (Kp === K) return filter.view([K, F]);
  const w2 = empty([Kp, F]);
  if (w2.size > 0) {
    runtime().dispatch(padRowsKernel, undefined, [filter.buffer, w2.buffer], {
      total: w2.size,
      n: Math.max(K * F, 1),
    }, grid1D(w2.size));
  }
  return w2;
}

/**
 * dW = colsᵀ·dz, [Kp, F], returned as the filter's shape. The sum over M is
 * long and the result small, so it is split over S groups of images (a batched
 * GEMM gives S partial products, then one sum): more parallel work.
 */
function filterGrad(cols: Tensor, dz: Tensor, N: number, shape: Shape): Tensor {
  const [M, Kp] = cols.shape;
  const F = dz.shape[1];
  const S = splitCount(N, M, Kp, F);
  const dW = S === 1
    ? matMul(cols, dz, true, false)
    : sum(matMul(cols.view([S, M / S, Kp]), dz.view([S, M / S, F]), true, false), 0);
  // NOTE: a [Kp, F] buffer read as [K, F] is its first K rows: the zero padding rows drop off.
  return dW.view(shape);
}

/** Groups of images for filterGrad: a divisor of N, so enough GEMM tiles keep every core busy. */
function splitCount(N: number, M: number, Kp: number, F: number): number {
  // One GEMM tile covers about 64×64 of the result; aim for ~16 tiles, each summing >= 256 rows.
  const tiles = Math.ceil(Kp / 64) * Math.ceil(F / 64);
  let best = 1;
  for (let s = 1; s <= N; s++) {
    if (N % s === 0 && s * tiles <= 16 && M / s >= 256) best = s;
  }
  return best;
}

/** dz = act'(y)·dy from the activation's output (the GEMM epilogue's activation). */
function activationGrad(activation: FusedActivation, y: Tensor, dy: Tensor, alpha: number): Tensor {
  const dz = empty(y.shape);
  if (dz.size > 0) {
    runtime().dispatch(
      unaryGradKernel,
      { op: activation as Exclude<FusedActivation, "linear"> },
      [y.buffer, y.buffer, dy.buffer, dz.buffer],
      { n: dz.size, alpha },
      grid1D(dz.size),
    );
  }
  return dz;
}
