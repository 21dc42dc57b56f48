/**
 * The two ways conv2d runs (src/ops/conv.ts holds the op and its gradient
 * rule): implicit GEMM with the filter in uniform blocks (shaders/conv_gemm.ts),
 * and im2col + the engine's GEMM (shaders/conv.ts, ops/matmul.ts), kept for
 * filters too large for the uniform blocks and as the measured alternative
 * (bench/conv_variants.md).
 * Legend: x [N,H,W,C], filter [KH,KW,C,F] (HWIO), dz/y [N,OH,OW,F], M = N·OH·OW,
 * K = KH·KW·C, Kp = K rounded up to a multiple of 4.
 */
import { col2imKernel, im2colKernel, padRowsKernel } from "../../shaders/conv.ts";
import {
  BLOCK_VEC4,
  CONV_WG,
  convGemmKernel,
  type ConvGemmVariant,
  packFilterKernel,
} from "../../shaders/conv_gemm.ts";
import type { FusedActivation } from "../../shaders/matmul.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { runtime } from "../gpu/runtime.ts";
import type { Shape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { type Window2D, windowUniforms } from "./_window.ts";
import { fusedMatMul, matMul } from "./matmul.ts";
import { sum } from "./reduce.ts";

/** Which algorithm conv2d uses: "auto" = implicit GEMM when the filter fits the uniform blocks. */
export const convConfig: { algorithm: "auto" | "im2col" } = { algorithm: "auto" };

/** Uniform blocks a dispatch binds at most (WebGPU guarantees 12 uniform buffers per stage). */
const MAX_UBOS = 4;
const BLOCK_BYTES = BLOCK_VEC4 * 16;

/** How the filter splits into uniform blocks: OC output columns per chunk, KB kernel positions per block. */
export interface GemmPlan {
  oc: number;
  chunks: number;
  kb: number;
  ubos: number;
  tm: number;
}

/** A plan for out[., COUT] = Σ over KHW positions × CIN channels, or null when the filter is too large. */
export function gemmPlan(khw: number, cin: number, cout: number): GemmPlan | null {
  if (convConfig.algorithm === "im2col" || cin === 0 || cout === 0) return null;
  for (let oc = Math.min(64, Math.ceil(cout / 4) * 4); oc >= 4; oc -= 4) {
    const kb = Math.floor((4 * BLOCK_VEC4) / (cin * oc));
    if (kb < 1 || Math.ceil(khw / kb) > MAX_UBOS) continue;
    // Registers: TM rows × OC columns of accumulators per invocation.
    return { oc, chunks: Math.ceil(cout / oc), kb, ubos: Math.ceil(khw / kb), tm: oc >= 64 ? 4 : 8 };
  }
  return null;
}

/** The filter packed into the plan's uniform blocks (see packFilterKernel). */
function packFilter(filter: Tensor, p: GemmPlan, transposed: boolean): Tensor {
  const [KH, KW, C, F] = filter.shape;
  const packed = empty([p.chunks * p.ubos * 4 * BLOCK_VEC4]);
  runtime().dispatch(packFilterKernel, { transposed }, [filter.buffer, packed.buffer], {
    total: packed.size,
    KHW: KH * KW,
    C,
    F,
    OC: p.oc,
    KB: p.kb,
    ubos: p.ubos,
  }, grid1D(packed.size));
  return packed;
}

/**
 * out [rows, COUT] = act(implicit GEMM of `src` with the filter + bias):
 * forward (src = x, rows = M, COUT = F) or transposed (src = dz, rows = N·H·W, COUT = C).
 */
export function implicitGemm(
  src: Tensor,
  filter: Tensor,
  g: Window2D,
  p: GemmPlan,
  transposed: boolean,
  outShape: Shape,
  bias?: Tensor,
  activation: FusedActivation = "linear",
  alpha = 0,
): Tensor {
  const [, , C, F] = filter.shape;
  const [CIN, COUT] = transposed ? [F, C] : [C, F];
  const out = empty(outShape);
  const rows = out.size / COUT;
  if (out.size === 0) return out;
  const packed = packFilter(filter, p, transposed);
  const variant: ConvGemmVariant = {
    transposed,
    vecOut: COUT % 4 === 0,
    oc: p.oc,
    tm: p.tm,
    ubos: p.ubos,
    bias: bias !== undefined,
    activation,
  };
  const groups = grid1D(Math.ceil(rows / (CONV_WG * p.tm)), 1);
  for (let j = 0; j < p.chunks; j++) {
    const blocks = Array.from({ length: p.ubos }, (_, b) => ({
      buffer: packed.buffer,
      offset: (j * p.ubos + b) * BLOCK_BYTES,
      size: BLOCK_BYTES,
    }));
    runtime().dispatch(
      convGemmKernel,
      variant,
      [src.buffer, ...blocks, ...(bias ? [bias.buffer] : []), out.buffer],
      { rows, ...windowUniforms(g), CIN, COUT, col0: j * p.oc, KB: p.kb, alpha },
      groups,
    );
  }
  packed.dispose();
  return out;
}

// ---- im2col + GEMM ----

/** The column matrix's row stride: K rounded up to a multiple of 4 so the GEMM reads it as vec4. */
export function paddedK(K: number): number {
  return Math.ceil(K / 4) * 4;
}

/** x [N,H,W,C] → cols [M, Kp]. */
export function im2col(x: Tensor, g: Window2D, K: number, Kp: number): Tensor {
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
export function col2im(dcols: Tensor, g: Window2D, Kp: number): Tensor {
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
export function filterMatrix(filter: Tensor, Kp: number): Tensor {
  const [KH, KW, C, F] = filter.shape;
  const K = KH * KW * C;
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

/** act(im2col(x)·W + bias) as [M, F]. */
export function im2colForward(
  x: Tensor,
  filter: Tensor,
  g: Window2D,
  bias: Tensor | undefined,
  activation: FusedActivation,
  alpha: number,
): Tensor {
  const [KH, KW, C] = filter.shape;
  const Kp = paddedK(KH * KW * C);
  const cols = im2col(x, g, KH * KW * C, Kp);
  const w2 = filterMatrix(filter, Kp);
  const y = fusedMatMul({ a: cols, b: w2, bias, activation, alpha });
  cols.dispose();
  w2.dispose();
  return y;
}

/** dx = col2im(dz·W₂ᵀ), dz [M, F]. */
export function im2colInputGrad(dz: Tensor, filter: Tensor, g: Window2D): Tensor {
  const [KH, KW, C] = filter.shape;
  const Kp = paddedK(KH * KW * C);
  const w2 = filterMatrix(filter, Kp);
  return col2im(matMul(dz, w2, false, true), g, Kp);
}

/**
 * dW = colsᵀ·dz, [Kp, F], returned as the filter's shape. The sum over M is
 * long and the result small, so it is split over S groups of images (a batched
 * GEMM gives S partial products, then one sum): more parallel work.
 */
export function im2colFilterGrad(x: Tensor, dz: Tensor, g: Window2D, shape: Shape): Tensor {
  const [KH, KW, C, F] = shape;
  const Kp = paddedK(KH * KW * C);
  const cols = im2col(x, g, KH * KW * C, Kp);
  const M = cols.shape[0];
  const S = splitCount(g.N, M, Kp, F);
  const dW = S === 1
    ? matMul(cols, dz, true, false)
    : sum(matMul(cols.view([S, M / S, Kp]), dz.view([S, M / S, F]), true, false), 0);
  // NOTE: a [Kp, F] buffer read as [K, F] is its first K rows: the zero padding rows drop off.
  return dW.view(shape);
}

/** Groups of images for the filter gradient: a divisor of N, so enough GEMM tiles keep every core busy. */
function splitCount(N: number, M: number, Kp: number, F: number): number {
  // One GEMM tile covers about 64×64 of the result; aim for ~16 tiles, each summing >= 256 rows.
  const tiles = Math.ceil(Kp / 64) * Math.ceil(F / 64);
  let best = 1;
  for (let s = 1; s <= N; s++) {
    if (N % s === 0 && s * tiles <= 16 && M / s >= 256) best = s;
  }
  return best;
}
