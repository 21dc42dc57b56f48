/**
 * conv2d and fusedConv2d with their gradients. The forward pass is one
 * implicit GEMM with bias and activation fused in its epilogue (or im2col +
 * the engine's GEMM for filters beyond the uniform blocks; src/ops/_conv_impl.ts).
 *
 * Legend: x [N,H,W,C] (NHWC), filter [KH,KW,C,F] (HWIO), y [N,OH,OW,F];
 * M = N·OH·OW output pixels.
 */
import type { FusedActivation } from "../../shaders/matmul.ts";
import { valueAndGrads } from "../autograd/gradients.ts";
import { isWatched, record, withTape } from "../autograd/tape.ts";
import { tunedChoice } from "../gpu/autotune.ts";
import { runtime } from "../gpu/runtime.ts";
import { ShapeError } from "../errors.ts";
import type { Shape } from "../shape.ts";
import { type Tensor, tidy } from "../tensor.ts";
import { randomNormal, zeros } from "./creation.ts";
import {
  checkConv,
  convConfig,
  gemmPlan,
  im2colFilterGrad,
  im2colForward,
  im2colInputGrad,
  implicitFilterGrad,
  implicitGemm,
  textureConvFilterGrad,
  textureConvFits,
  textureConvForward,
  textureConvInputGrad,
} from "./_conv_impl.ts";
import type { Padding, Window2D } from "./_window.ts";
import { activationGradFromOutput } from "./elementwise.ts";
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
 * import { ready } from "../gpu/runtime.ts";
 * import { conv2d } from "./conv.ts";
 * import { tensor } from "./creation.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready();
 * const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
 * const y = conv2d(x, tensor([1, 1, 1, 1], [2, 2, 1, 1]), 1, "valid"); // sums of the 2x2 windows
 * assertEquals(y.shape, [1, 2, 2, 1]);
 * assertEquals([...await y.data()], [12, 16, 24, 28]);
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
 * GEMM's epilogue: a conv layer's forward pass is one dispatch per band of
 * images. Its gradient with respect to x, the filter and the bias is recorded
 * when a gradient is asked for (dx is skipped when nothing differentiates x).
 *
 * @param config See FusedConv2DConfig.
 * @param outputSize Compute only the first [rows, columns] of each output
 *   image (what a "valid" max pool after the layer reads; fusedConv2dMaxPool
 *   passes it); by default all of them.
 * @returns [N, OH, OW, F] ([N, rows, columns, F] with `outputSize`).
 * @example
 * ```ts
 * import { ready } from "../gpu/runtime.ts";
 * import { fusedConv2d } from "./conv.ts";
 * import { tensor } from "./creation.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready();
 * const x = tensor([1, -2, 3, -4], [1, 2, 2, 1]);
 * const filter = tensor([1, 10], [1, 1, 1, 2]); // two 1x1 filters
 * const y = fusedConv2d({ x, filter, strides: 1, pad: "same", bias: tensor([0, 5]), activation: "relu" });
 * assertEquals([...await y.data()], [1, 15, 0, 0, 3, 35, 0, 0]);
 * ```
 */
export function fusedConv2d(config: FusedConv2DConfig, outputSize?: readonly [number, number]): Tensor {
  const { x, filter, bias, g: full, activation, alpha } = checkConv(config);
  const [OH, OW] = outputSize ?? [full.OH, full.OW];
  if (!(OH >= 1 && OH <= full.OH && OW >= 1 && OW <= full.OW)) {
    throw new ShapeError(
      `conv2d: outputSize [${OH},${OW}] must lie within the output [${full.OH},${full.OW}]`,
    );
  }
  // The kernels take the output's size from the geometry and read x by its own: a smaller OH, OW crops.
  const g = { ...full, OH, OW };
  const [KH, KW, C, F] = filter.shape;
  const M = g.N * g.OH * g.OW;
  // Decided now: nothing differentiates x later if the tape does not watch it (the first layer's image).
  const needDx = isWatched(x);
  const texture = useTextureConv(config, x, filter.shape, g, needDx, outputSize);
  const plan = gemmPlan(KH * KW, C, F);
  const y = withTape(
    null,
    () =>
      texture
        ? textureConvForward(x, filter, g, bias, activation, alpha)
        : plan
        ? implicitGemm(x, filter, g, plan, false, [g.N, g.OH, g.OW, F], bias, activation, alpha)
        : im2colForward(x, filter, g, bias, activation, alpha).view([g.N, g.OH, g.OW, F]),
  );
  const inputs = bias ? [x, filter, bias] : [x, filter];
  return record(y, inputs, (dy, [x, filter, y]) => {
    // dz = act'(y)·dy (NOTE: the fusable activations' derivatives need only y, see ops/matmul.ts).
    // dW = colsᵀ·dz and dbias = Σₘ dz: one implicit GEMM; dx = col2im(dz·Wᵀ): a transposed implicit GEMM.
    const dy2 = dy.view([M, F]);
    const y2 = y.view([M, F]);
    const act = activation === "linear" ? undefined : activation;
    if (texture) {
      // dz is formed inside the filter gradient's kernel when nothing else needs it (a first layer);
      // else once, in a pass: re-deriving it inside both gradient kernels' inner loops cost ~8% more
      // CPU on the MNIST CNN's conv2 (bench/conv_variants.md).
      const fused = act && !needDx ? { activation: act, y: y2, alpha } : undefined;
      const dz = act && needDx ? activationGradFromOutput(act, y2, dy2, alpha) : dy2;
      const dx = needDx ? textureConvInputGrad(dz, filter, g) : null;
      const { dW, dBias } = textureConvFilterGrad(x, dz, g, filter.shape, fused);
      return bias ? [dx, dW, dBias] : [dx, dW];
    }
    // dz is formed inside the filter gradient's kernel when nothing else needs it and few invocations
    // share a row there (C ≤ 2: one invocation covers every kernel position, as in a first layer);
    // else once, for all (otherwise each (position, channel block) invocation would recompute it).
    const dz = act && !needDx && C <= 2
      ? undefined
      : act
      ? activationGradFromOutput(act, y2, dy2, alpha)
      : dy2;
    let dx: Tensor | null = null;
    if (dz && needDx) {
      const back = gemmPlan(KH * KW, F, C);
      dx = back ? implicitGemm(dz, filter, g, back, true, x.shape) : im2colInputGrad(dz, filter, g);
    }
    const grads = dz
      ? implicitFilterGrad(x, dz, undefined, g, filter.shape, "linear", alpha)
      : implicitFilterGrad(x, dy2, y2, g, filter.shape, activation, alpha);
    const { dW, dBias } = grads ??
      fallbackFilterGrad(x, dz ?? activationGradFromOutput(act!, y2, dy2, alpha), g, filter.shape);
    return bias ? [dx, dW, dBias] : [dx, dW];
  }, [x, filter, y]);
}

/** Forward + backward work from which a conv is autotuned; below it, one dispatch's fixed cost dominates. */
const TUNED_MIN_FLOPS = 1 << 23;

/**
 * Whether conv2d runs the texture kernels (shaders/conv_texture.ts) or the
 * implicit GEMM with the filter in uniform blocks. Where both can, large
 * convs are autotuned (src/gpu/autotune.ts) on a trial forward + backward
 * pass of the same shape (no dx for a first layer); until tuned, and for small ones, llvmpipe takes
 * the texture kernels (a texel costs a fraction of a storage load there:
 * bench/conv_variants.md) and other adapters the uniform blocks.
 */
function useTextureConv(
  config: FusedConv2DConfig,
  x: Tensor,
  filterShape: Shape,
  g: Window2D,
  needDx: boolean,
  outputSize?: readonly [number, number],
): boolean {
  if (!textureConvFits(x, filterShape, g)) return false;
  if (convConfig.algorithm !== "auto") return convConfig.algorithm === "texture";
  const fallback = runtime().ctx.isFallbackAdapter ? "texture" : "uniform";
  const [KH, KW, C, F] = filterShape;
  const flops = 6 * g.N * g.OH * g.OW * KH * KW * C * F;
  if (flops < TUNED_MIN_FLOPS) return fallback === "texture";
  const key = `conv/${2 ** Math.ceil(Math.log2(g.N))}x${g.H}x${g.W}x${C}/${KH}x${KW}x${F}/` +
    `${g.SH}x${g.SW}/${g.padT}x${g.padL}${needDx ? "" : "/no-dx"}${outputSize ? `/out${g.OH}x${g.OW}` : ""}`;
  return tunedChoice(key, fallback, () => ({
    candidates: ["texture", "uniform"],
    reps: Math.max(1, Math.min(20, Math.round(1e9 / flops))),
    setup: () => {
      const xs = randomNormal(x.shape, 0, 1, 1), filter = randomNormal(filterShape, 0, 1, 2);
      const dy = randomNormal([g.N, g.OH, g.OW, F], 0, 1, 3);
      const trial = (xs: Tensor, filter: Tensor) =>
        fusedConv2d({ ...config, x: xs, filter, bias: undefined }, outputSize);
      return {
        run: (algorithm) => {
          convConfig.algorithm = algorithm as typeof convConfig.algorithm;
          try {
            tidy(() => {
              // recorded; tidy frees the results. A first layer (x not watched) computes no dx.
              if (needDx) valueAndGrads(trial)([xs, filter], dy);
              else valueAndGrads((filter: Tensor) => trial(xs, filter))([filter], dy);
            });
          } finally {
            convConfig.algorithm = "auto";
          }
        },
        dispose: () => [xs, filter, dy].forEach((t) => t.dispose()),
      };
    },
  })) === "texture";
}

/** dW and dbias by im2col + GEMM and a reduction (F not a multiple of 4, or above 64; an empty batch). */
function fallbackFilterGrad(x: Tensor, dz: Tensor, g: Window2D, shape: readonly number[]) {
  if (dz.size === 0) return { dW: zeros(shape), dBias: zeros([shape[3]]) };
  return { dW: im2colFilterGrad(x, dz, g, shape), dBias: sum(dz, 0) };
}
