/**
 * The two ways conv2d runs (src/ops/conv.ts holds the op and its gradient
 * rule): implicit GEMM with the filter in uniform blocks (shaders/conv_gemm.ts),
 * and im2col + the engine's GEMM (shaders/conv.ts, ops/matmul.ts), kept for
 * filters too large for the uniform blocks and as the measured alternative
 * (bench/conv_variants.md).
 * Legend: x [N,H,W,C], filter [KH,KW,C,F] (HWIO), dz/y [N,OH,OW,F], M = N·OH·OW,
 * K = KH·KW·C, Kp = K rounded up to a multiple of 4.
 */
import { col2imKernel, im2colKernel } from "../../shaders/conv.ts";
import {
  BLOCK_VEC4,
  convGemmKernel,
  type ConvGemmVariant,
  convWorkgroup,
  packFilterKernel,
} from "../../shaders/conv_gemm.ts";
import { FILTER_GRAD_WG, filterGradKernel } from "../../shaders/conv_grad.ts";
import {
  convTextureKernel,
  type ConvTextureMode,
  type ConvTextureVariant,
} from "../../shaders/conv_texture.ts";
import type { FusedActivation } from "../../shaders/matmul.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { runtime } from "../gpu/runtime.ts";
import { ShapeError } from "../errors.ts";
import { formatShape, type Shape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import type { FusedConv2DConfig } from "./conv.ts";
import { asTensor, checkDType } from "./_util.ts";
import {
  alignOf,
  bandsPay,
  emptyWindowed,
  gcd,
  imagesPerWindow,
  WINDOW_FLOATS,
  windowAt,
  windowed,
} from "./_uniform_window.ts";
import { checkRank4, type Window2D, window2D, windowsInside, windowUniforms } from "./_window.ts";
import { fusedMatMul, matMul } from "./matmul.ts";
import { padMatrix } from "./_pad.ts";
import { sum } from "./reduce.ts";

/**
 * Knobs for bench/ and experiments, not API. `algorithm`: "auto" = the texture
 * kernels where they fit on llvmpipe, else the implicit GEMM with the filter in
 * uniform blocks when it fits them, else im2col + GEMM; "texture", "uniform",
 * "im2col" force one where it can run.
 * `tm`, `tc`: tile overrides; `band: false`: never read images through uniform windows;
 * `textureTm`: rows per invocation of the texture forward and input gradient (see textureTm).
 */
export const convConfig: {
  algorithm: "auto" | "texture" | "uniform" | "im2col";
  tm?: number;
  tc?: number;
  band?: boolean;
  textureTm?: 16 | 32;
} = {
  algorithm: "auto",
};

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
    // Registers: TM rows × OC columns of accumulators per invocation. NOTE: TM = 16 ran ~10%
    // faster (CPU time) on conv2 but took 22 s to compile on llvmpipe (bench/conv_variants.md).
    return { oc, chunks: Math.ceil(cout / oc), kb, ubos: Math.ceil(khw / kb), tm: convConfig.tm ?? 8 };
  }
  return null;
}

/** The filter (and bias) packed into the plan's uniform blocks (see packFilterKernel). */
function packFilter(filter: Tensor, p: GemmPlan, transposed: boolean, bias?: Tensor): Tensor {
  const [KH, KW, C, F] = filter.shape;
  const blocks = p.chunks * p.ubos;
  const packed = empty([blocks * 4 * BLOCK_VEC4 + (bias ? p.chunks * 64 : 0)]);
  runtime().dispatch(
    packFilterKernel,
    { transposed, bias: bias !== undefined },
    [filter.buffer, ...(bias ? [bias.buffer] : []), packed.buffer],
    { total: packed.size, KHW: KH * KW, C, F, OC: p.oc, KB: p.kb, ubos: p.ubos, blocks },
    grid1D(packed.size),
  );
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
  const out = emptyWindowed(outShape); // y is read through uniform windows in the backward pass
  const rows = out.size / COUT;
  if (out.size === 0) return out;
  const packed = packFilter(filter, p, transposed, bias);
  const biasAt = p.chunks * p.ubos * BLOCK_BYTES;
  // Band: whole source images per uniform window, ipw·(floats of an image) ≤ 16384 and 256-byte aligned.
  const imageFloats = transposed ? g.OH * g.OW * F : g.H * g.W * C;
  const ipw = convConfig.band === false ? 0 : imagesPerWindow(imageFloats);
  const windows = ipw > 0 ? Math.ceil(g.N / ipw) : 0;
  // Source windows per dispatch: enough rows for 4 workgroups (2 per core here), as few windows as
  // that takes (each extra window costs a uniform load and a select per input value).
  const perGroup = 8 * p.tm;
  const perDispatch = Math.min(windows, 4, Math.ceil((4 * perGroup) / Math.max(1, ipw * (rows / g.N))));
  const variant: ConvGemmVariant = {
    transposed,
    vecOut: COUT % 4 === 0,
    oc: p.oc,
    tm: p.tm,
    ubos: p.ubos,
    bias: bias !== undefined,
    activation,
    band: perDispatch,
  };
  const dispatches = ipw > 0 ? Math.ceil(windows / perDispatch) : 1;
  const source = ipw > 0 ? windowed(src, windows, ipw * imageFloats) : src;
  const rowsPerImage = rows / g.N;
  for (let d = 0; d < dispatches; d++) {
    const n0 = ipw > 0 ? d * perDispatch * ipw : 0;
    const row0 = n0 * rowsPerImage;
    const rowEnd = ipw > 0 ? Math.min(g.N, n0 + perDispatch * ipw) * rowsPerImage : rows;
    // windows past the last image are bound (to window 0) and never read
    const srcBindings = ipw > 0
      ? Array.from({ length: perDispatch }, (_, b) => {
        const k = d * perDispatch + b;
        return windowAt(source, (k < windows ? k : 0) * ipw * imageFloats);
      })
      : [source.buffer];
    for (let j = 0; j < p.chunks; j++) {
      const blocks = Array.from({ length: p.ubos }, (_, b) => ({
        buffer: packed.buffer,
        offset: (j * p.ubos + b) * BLOCK_BYTES,
        size: BLOCK_BYTES,
      }));
      const biasWindow = bias ? [{ buffer: packed.buffer, offset: biasAt + j * 256, size: 256 }] : [];
      runtime().dispatch(
        convGemmKernel,
        variant,
        [...srcBindings, ...blocks, ...biasWindow, out.buffer],
        {
          row0,
          rowEnd,
          n0,
          ipw: ipw > 0 ? ipw : g.N, // storage: every image is "in window 0"
          ...windowUniforms(g),
          CIN,
          COUT,
          col0: j * p.oc,
          KB: p.kb,
          alpha,
        },
        grid1D(Math.ceil((rowEnd - row0) / (convWorkgroup(variant) * p.tm)), 1),
      );
    }
  }
  if (source !== src) source.dispose();
  packed.dispose();
  return out;
}

/**
 * dW [KH,KW,C,F] and dbias [F] of conv2d in one implicit GEMM (shaders/conv_grad.ts),
 * dz = act'(y)·dy fused in; null when F is not a multiple of 4 up to 64.
 */
export function implicitFilterGrad(
  x: Tensor,
  dy: Tensor,
  y: Tensor | undefined,
  g: Window2D,
  shape: Shape,
  activation: FusedActivation,
  alpha: number,
): { dW: Tensor; dBias: Tensor } | null {
  const [KH, KW, C, F] = shape;
  const M = g.N * g.OH * g.OW;
  if (convConfig.algorithm === "im2col" || F % 4 !== 0 || F > 64 || M === 0 || C === 0) return null;
  const fused = activation !== "linear";
  const rowsPerImage = g.OH * g.OW, imageFloats = g.H * g.W * C;
  // Band mode: ipw whole images per dispatch, their x in one uniform window and their dy (y)
  // rows in another, each ≤ 16384 floats and 256-byte aligned. Else R rows of dy per window, x from storage.
  const alignX = alignOf(imageFloats), alignD = alignOf(rowsPerImage * F);
  const bandAlign = (alignX * alignD) / gcd(alignX, alignD);
  const ipwMax = Math.min(WINDOW_FLOATS / imageFloats, WINDOW_FLOATS / (rowsPerImage * F));
  const ipw = convConfig.band === false || !bandsPay() ? 0 : Math.floor(ipwMax / bandAlign) * bandAlign;
  const band = ipw > 0;
  const alignR = alignOf(F);
  const R = band ? ipw * rowsPerImage : Math.floor(WINDOW_FLOATS / F / alignR) * alignR;
  const windows = Math.ceil(M / R);
  const dys = windowed(dy, windows, R * F);
  const ys = fused ? windowed(y!, windows, R * F) : undefined;
  const xs = band ? windowed(x, windows, ipw * imageFloats) : x;
  const ubos = band ? 1 : Math.min(fused ? 4 : 8, windows);
  const dispatches = Math.ceil(windows / ubos);
  // An invocation: TK kernel positions × TC channels × F columns. Few channels (a first layer):
  // all positions at once, so each dz row (and its activation derivative) is read once per row.
  const tc = convConfig.tc ?? (C % 4 === 0 ? 4 : C % 2 === 0 ? 2 : 1);
  const tk = C <= 2 ? Math.min(KH * KW + 1, 10) : 1;
  const blocks = Math.ceil((KH * KW + 1) / tk) * Math.ceil(C / tc);
  // Enough invocations for every core; a split still sums >= 16 rows of each window.
  const perDispatch = band ? 64 : 256;
  const S = Math.max(1, Math.min(Math.ceil(perDispatch / blocks), Math.floor(R / 16)));
  const rowFloats = (KH * KW + 1) * C * F;
  const partial = empty([dispatches * S * rowFloats]);
  const invocations = blocks * S;
  for (let d = 0; d < dispatches; d++) {
    const bindings: GPUBufferBinding[] = [];
    for (let b = 0; b < ubos; b++) {
      const k = d * ubos + b < windows ? d * ubos + b : 0; // a window past M: bound, never read
      bindings.push({ buffer: dys.buffer, offset: k * R * F * 4, size: WINDOW_FLOATS * 4 });
      if (ys) bindings.push({ buffer: ys.buffer, offset: k * R * F * 4, size: WINDOW_FLOATS * 4 });
    }
    const xBinding = band
      ? { buffer: xs.buffer, offset: d * ipw * imageFloats * 4, size: WINDOW_FLOATS * 4 }
      : xs.buffer;
    runtime().dispatch(
      filterGradKernel,
      { tk, tc, fc: F / 4, ubos, activation, band },
      [xBinding, ...bindings, partial.buffer],
      {
        ...windowUniforms(g),
        rowEnd: M,
        n0: band ? d * ipw : 0,
        F,
        R,
        row0: d * ubos * R,
        S,
        slice0: d * S,
        xLast: band ? WINDOW_FLOATS - 1 : Math.max(x.size - 1, 0),
        alpha,
      },
      [Math.ceil(invocations / FILTER_GRAD_WG)],
    );
  }
  for (const t of [dys, ys, xs]) if (t && t !== dy && t !== y && t !== x) t.dispose();
  const total = sum(partial.view([dispatches * S, rowFloats]), 0);
  // NOTE: the first KH·KW·C·F floats are dW (a prefix view); dbias is the row (khw = KHW, c = 0).
  const dBias = empty([F]);
  runtime().copy(total.buffer, KH * KW * C * F * 4, dBias.buffer, 0, F * 4);
  return { dW: total.view(shape), dBias };
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
  return Kp === K ? filter.view([K, F]) : padMatrix(filter, 1, K, F, Kp, F, [Kp, F]);
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

// ---- texture implicit GEMM ----

/**
 * Whether the texture kernels (shaders/conv_texture.ts) can take this conv: F a multiple of 4 (C
 * too, or x is read a float at a time: scalarC), every operand within one texture.
 */
export function textureConvFits(x: Tensor, filterShape: Shape, g: Window2D): boolean {
  const [KH, KW, C, F] = filterShape;
  const { maxFloats } = runtime().textures;
  return convConfig.algorithm !== "im2col" && F % 4 === 0 && C > 0 && F > 0 &&
    g.N * g.OH * g.OW > 0 && Math.max(x.size, KH * KW * C * F, g.N * g.OH * g.OW * F) <= maxFloats;
}

const textureTn = (cols: number) => (cols >= 32 ? 32 : cols >= 16 ? 16 : 8);
/** Rows per invocation of the texture filter gradient, and of small convs' other kernels. */
const TEXTURE_TM = 16;
/** M·N·K from which llvmpipe's texture forward and input gradient take 32 rows per invocation. */
const LARGE_TILE_MIN_WORK = 1 << 23;

/**
 * Rows per invocation of a texture conv kernel. On llvmpipe 32 rows halve the
 * filter's texel loads per FMA: the Keras MNIST CNN's conv2 forward and input
 * gradient took 15% and 23% less time (bench/conv_variants.md, v11), its filter
 * gradient no less (16 there). Small convs keep 16 (a 32-row variant's first
 * LLVM compile takes ~15 s more), and so do images read a float at a time
 * (scalarC: C = 1 or 3), where 32 rows were not measured.
 */
function textureTm(mode: ConvTextureMode, scalarC: boolean, M: number, N: number, K: number): number {
  if (mode === "filterGrad") return TEXTURE_TM;
  if (convConfig.textureTm !== undefined) return convConfig.textureTm;
  const large = !scalarC && M * N * K >= LARGE_TILE_MIN_WORK;
  return runtime().ctx.isFallbackAdapter && large ? 32 : TEXTURE_TM;
}

/** The activation whose derivative the filter gradient applies to dy on the fly, and y. */
export interface FusedGrad {
  activation: Exclude<FusedActivation, "linear">;
  y: Tensor;
  alpha: number;
}

function dispatchTextureConv(
  mode: ConvTextureMode,
  src: Tensor,
  wt: Tensor,
  bias: Tensor | undefined,
  out: Tensor,
  g: Window2D,
  F: number,
  dims: { M: number; N: number; rows: number; slices: number },
  activation: FusedActivation,
  alpha: number,
  fused?: FusedGrad,
): void {
  const gpu = runtime();
  // The sum per output: KH·KW·C products forward, KH·KW·F for the input gradient.
  const K = g.KH * g.KW * (mode === "inputGrad" ? F : g.C);
  const scalarC = mode !== "inputGrad" && g.C % 4 !== 0;
  const variant: ConvTextureVariant = {
    mode,
    activation,
    tm: textureTm(mode, scalarC, dims.M, dims.N, K),
    tn: textureTn(dims.N),
    unitStride: g.SH === 1 && g.SW === 1,
    inside: mode === "filterGrad" && windowsInside(g),
    scalarC,
    gradOf: fused?.activation,
    vecOut: dims.N % 4 === 0,
  };
  const textures = [src, wt, ...(fused ? [fused.y] : [])].map((t) => gpu.texture(t.buffer, t.size));
  const rowBlocks = Math.ceil(dims.M / variant.tm), colBlocks = Math.ceil(dims.N / variant.tn);
  // filterGrad: slices along x with the row blocks (few rows, many slices: textureGemmMain's batchAlongX).
  const grid: [number, number, number] = mode === "filterGrad"
    ? [Math.ceil((rowBlocks * dims.slices) / 8), colBlocks, 1]
    : [Math.ceil(rowBlocks / 8), colBlocks, dims.slices];
  // NOTE: without a bias, wt's buffer fills its binding (never read: hasBias = 0).
  gpu.dispatch(convTextureKernel, variant, [...textures, (bias ?? wt).buffer, out.buffer], {
    ...windowUniforms(g),
    F,
    M: dims.M,
    N: dims.N,
    rows: dims.rows,
    sliceRows: Math.ceil(dims.rows / dims.slices),
    rowBlocks,
    batches: dims.slices,
    hasBias: bias ? 1 : 0,
    alpha: fused?.alpha ?? alpha,
  }, grid);
}

/** y [N,OH,OW,F] = act(conv2d(x, filter) + bias), image and filter read from textures. */
export function textureConvForward(
  x: Tensor,
  filter: Tensor,
  g: Window2D,
  bias: Tensor | undefined,
  activation: FusedActivation,
  alpha: number,
): Tensor {
  const F = filter.shape[3];
  const y = empty([g.N, g.OH, g.OW, F]);
  const M = g.N * g.OH * g.OW;
  dispatchTextureConv(
    "forward",
    x,
    filter,
    bias,
    y,
    g,
    F,
    { M, N: F, rows: M, slices: 1 },
    activation,
    alpha,
  );
  return y;
}

/** dx [N,H,W,C] of conv2d from dz [N·OH·OW, F]. */
export function textureConvInputGrad(dz: Tensor, filter: Tensor, g: Window2D): Tensor {
  const [, , C, F] = filter.shape;
  const dx = empty([g.N, g.H, g.W, C]);
  const M = g.N * g.H * g.W;
  dispatchTextureConv(
    "inputGrad",
    dz,
    filter,
    undefined,
    dx,
    g,
    F,
    { M, N: C, rows: M, slices: 1 },
    "linear",
    0,
  );
  return dx;
}

/**
 * dW [KH,KW,C,F] and dbias [F] of conv2d from dz [N·OH·OW, F] (or from dy
 * and y, with `fused`), in one kernel (dbias as an extra row). The sum over
 * the output pixels is long and dW small: it is split into slices that run
 * in parallel (partial sums each), then added up.
 */
export function textureConvFilterGrad(x: Tensor, dz: Tensor, g: Window2D, shape: Shape, fused?: FusedGrad) {
  const [KH, KW, C, F] = shape;
  const rows = g.N * g.OH * g.OW, M = KH * KW * C + 4;
  // ~512 invocations (64 workgroups of 8) over (slice, row block, column block), each slice >= 64 m's.
  const blocks = Math.ceil(M / TEXTURE_TM) * Math.ceil(F / textureTn(F));
  const slices = Math.max(1, Math.min(Math.round(512 / blocks), Math.floor(rows / 64)));
  const partial = empty([slices, M, F]);
  dispatchTextureConv(
    "filterGrad",
    x,
    dz,
    undefined,
    partial,
    g,
    F,
    { M, N: F, rows, slices },
    "linear",
    0,
    fused,
  );
  const total = slices === 1 ? partial : sum(partial, 0);
  if (total !== partial) partial.dispose();
  // NOTE: the first KH·KW·C·F floats are dW (a prefix view); dbias is the next row.
  const dBias = empty([F]);
  runtime().copy(total.buffer, (M - 4) * F * 4, dBias.buffer, 0, F * 4);
  return { dW: total.view(shape), dBias };
}

/** A conv's operands checked (errors name both shapes) and its window geometry. */
export function checkConv(config: FusedConv2DConfig) {
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
      throw new ShapeError(
        `conv2d: bias must have shape [${F}] (one per filter), got ${formatShape(bias.shape)}`,
      );
    }
  }
  return { x, filter, bias, g, activation, alpha };
}
