/**
 * conv2d and fusedConv2d with their gradients. The forward pass is one
 * implicit GEMM with bias and activation fused in its epilogue (or im2col +
 * the engine's GEMM for filters beyond the uniform blocks; src/ops/_conv_impl.ts).
 *
 * Legend: x [N,H,W,C] (NHWC), filter [KH,KW,C,F] (HWIO), y [N,OH,OW,F];
 * M = N·OH·OW output pixels.
 */
import { unaryGradKernel } from "../../shaders/elementwise.ts";
import type { FusedActivation } from "../../shaders/matmul.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record, withTape } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { formatShape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { gemmPlan, im2colFilterGrad, im2colForward, im2colInputGrad, implicitGemm } from "./_conv_impl.ts";
import { checkRank4, type Padding, window2D } from "./_window.ts";
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
  const M = g.N * g.OH * g.OW;
  // Decided now: nothing differentiates x later if the tape does not watch it (the first layer's image).
  const needDx = isWatched(x);
  const plan = gemmPlan(KH * KW, C, F);
  const y = withTape(null, () =>
    plan
      ? implicitGemm(x, filter, g, plan, false, [g.N, g.OH, g.OW, F], bias, activation, alpha)
      : im2colForward(x, filter, g, bias, activation, alpha).view([g.N, g.OH, g.OW, F])
  );
  const inputs = bias ? [x, filter, bias] : [x, filter];
  return record(y, inputs, (dy, [x, filter, y]) => {
    const dy2 = dy.view([M, F]);
    // NOTE: the fusable activations' derivatives need only y (see ops/matmul.ts).
    const dz = activation === "linear" ? dy2 : activationGrad(activation, y.view([M, F]), dy2, alpha);
    // dW = colsᵀ·dz; dx = col2im(dz·Wᵀ), as a transposed implicit GEMM; dbias = Σₘ dz
    const dFilter = im2colFilterGrad(x, dz, g, filter.shape);
    let dx: Tensor | null = null;
    if (needDx) {
      const back = gemmPlan(KH * KW, F, C);
      dx = back ? implicitGemm(dz, filter, g, back, true, x.shape) : im2colInputGrad(dz, filter, g);
    }
    return bias ? [dx, dFilter, sum(dz, 0)] : [dx, dFilter];
  }, activation === "linear" ? [x, filter] : [x, filter, y]);
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
