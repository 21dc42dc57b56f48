/**
 * matMul and the fused dense kernel: C = act(op(A)·op(B) + bias) as one GEMM
 * (bias and activation in its epilogue). Rank 2, or rank 3 with a batch (a
 * batch of 1 broadcasts).
 */
import {
  BAND,
  type FusedActivation,
  GEMM_PLANS,
  gemmConfig,
  type GemmPlan,
  matMulKernel,
  type MatMulVariant,
  packKernel,
  splitKSumKernel,
  textureMatMulKernel,
  type TextureMatMulVariant,
  WINDOW_K,
  WINDOW_VEC4,
  windowedMatMulKernel,
  type WindowedMatMulVariant,
} from "../../shaders/matmul.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { tunedChoice } from "../gpu/autotune.ts";
import { runtime } from "../gpu/runtime.ts";
import { formatShape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { padMatrix } from "./_pad.ts";
import { alignOf, bandsPay, WINDOW_FLOATS, windowAt, windowed } from "./_uniform_window.ts";
import { asTensor, checkDType } from "./_util.ts";
import { randomNormal } from "./creation.ts";
import { activationAndBiasGrads, activationGradFromOutput } from "./elementwise.ts";
import { sumTo } from "./reduce.ts";

/** M·N·K from which llvmpipe takes the windowed path (below, packing and dispatching cost more than they save). */
const WINDOWED_MIN_WORK = 1 << 21;
/** Windows bound per operand (2·4 + params ≤ the 12 uniform buffers WebGPU guarantees). */
const WINDOWS = 4;

function storageTiling(): Omit<MatMulVariant, "activation"> {
  // Workgroups are one 8-wide SIMD row: llvmpipe runs x in steps of 8 lanes. 16x16,
  // not 16x32: ~20% slower on the small products left to this path, but a third of
  // the (first-run) compile time, ~2 s instead of ~7 s per activation.
  return runtime().ctx.isFallbackAdapter
    ? { tm: 16, tn: 16, wgx: 8, wgy: 1 }
    : { tm: 4, tn: 4, wgx: 16, wgy: 16 };
}

/** Whether the windowed GEMM can take this product: its windows, packed operands and grid fit the limits. */
function windowedFits({ M, N, K, aBatch, bBatch }: Dims): boolean {
  if (K === 0) return false; // C = act(bias): no k to loop over, no window to bind
  const { limits } = runtime().device;
  const packedBytes = (rows: number, batches: number) =>
    (batches * Math.ceil(rows / BAND) * BAND * K + 4 * WINDOW_VEC4) * 4;
  return limits.maxUniformBuffersPerShaderStage >= 2 * WINDOWS + 1 &&
    limits.maxUniformBufferBindingSize >= WINDOW_VEC4 * 16 &&
    Math.max(packedBytes(M, aBatch), packedBytes(N, bBatch)) <= limits.maxStorageBufferBindingSize &&
    Math.max(Math.ceil(K / 8), Math.ceil(Math.max(M, N) / BAND) * (BAND / 8)) <=
      limits.maxComputeWorkgroupsPerDimension;
}

/** Whether, untuned, llvmpipe takes the windowed path: a band is 64 rows / columns, so narrower products (the 10 logits of a classifier) waste most of it. */
function largeEnoughToWindow({ M, N, K }: Dims): boolean {
  return M * N * K >= WINDOWED_MIN_WORK && M >= 48 && N >= 48 && K >= 32;
}

const ceil4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Whether the texture GEMM can take this product: each operand, its rows
 * padded to whole texels (textureGemm), fits in one texture.
 */
function textureFits({ M, N, K, aBatch, bBatch }: Dims): boolean {
  const { maxFloats } = runtime().textures;
  return K > 0 && aBatch * ceil4(M) * ceil4(K) <= maxFloats && bBatch * ceil4(K) * ceil4(N) <= maxFloats;
}

/** The GEMM implementations: a path and, for textures, the tile per invocation. */
const GEMMS: Record<GemmPlan, (g: Gemm) => void> = {
  storage: (g) => storageGemm(g),
  uniform: (g) => uniformGemm(g),
  windowed: (g) => windowedGemm(g),
  texture8x16: (g) => textureGemm(g, 8, 16),
  texture16x32: (g) => textureGemm(g, 16, 32),
  texture32x32: (g) => textureGemm(g, 32, 32),
  texture32x64: (g) => textureGemm(g, 32, 64),
};

/** M·N·K from which a product is autotuned; below, one dispatch's fixed cost dominates every path. */
const TUNED_MIN_WORK = 1 << 18;
/**
 * M·N·K from which a GEMM that is slow to compile the first time (LLVM on llvmpipe; Mesa's disk cache keeps
 * it after) is a tuning candidate; the others compile in about a second. The 16x32 texture tile and the
 * windowed kernels take several seconds, not worth it for products of a millisecond or less (at batch 256
 * the MLP's h·W2 and hᵀ·dY, whose h no longer fits a uniform window: texture8x16 vs storage). The 32x32
 * tile takes ~17 s a variant, for ~20% on the MLP's dW1 = Xᵀ·dH (784x128x128, K short: fewer, larger tiles
 * amortize each invocation's fixed work) and nothing on its forward (bench/gemm_variants.md v12). The 32x64
 * tile takes ~60 s a variant, for 17-23% over 32x32 from 512³ to 2048³ (forced, v14); from 512³ only, so
 * that the CLI's models at their default batch sizes (the MLP's largest product: 784x128x256) never compile it.
 */
const CANDIDATE_MIN_WORK: Partial<Record<GemmPlan, number>> = {
  windowed: 1 << 20,
  texture16x32: 1 << 20,
  texture32x32: 1 << 23,
  texture32x64: 1 << 27,
};

/**
 * Which GEMM runs (numbers: bench/gemm_variants.md). On llvmpipe a storage
 * load costs ~30 cycles per invocation and float against ~2 for a uniform
 * load, ~5 for a texel (4 floats) and ~0.1 for an FMA (Mesa 22.3 loops over
 * the 8 SIMD lanes for every storage access). So there, large products read
 * their operands from textures or through 64 KiB uniform windows; small or
 * narrow ones, where copies and extra dispatches do not pay, use the storage
 * kernel with a large register block. On a real GPU, the storage kernel with
 * 4x4 per thread in 16x16 workgroups is the usual winner.
 *
 * Products of at least TUNED_MIN_WORK are autotuned (src/gpu/autotune.ts)
 * among the implementations that can take them (those slow to compile only
 * from their CANDIDATE_MIN_WORK); until tuned, and below that size, llvmpipe
 * takes the windowed path for large products, the uniform one where both operands
 * fit a 64 KiB window, everything else the storage one. `gemmConfig.path`
 * forces a path.
 */
function gemmPlan(g: Gemm): GemmPlan {
  const { dims, transposeA, transposeB } = g;
  const texture = textureFits(dims);
  // Which implementations can take this product (a tuned class spans sizes that some of them cannot).
  const takes: Record<GemmPlan, boolean> = {
    storage: true,
    uniform: uniformFits(dims),
    windowed: windowedFits(dims),
    texture8x16: texture,
    texture16x32: texture,
    texture32x32: texture,
    texture32x64: texture,
  };
  const forced = gemmConfig.path;
  if (forced !== "auto") return takes[forced] ? forced : "storage";
  const fallback: GemmPlan = takes.windowed && runtime().ctx.isFallbackAdapter && largeEnoughToWindow(dims)
    ? "windowed"
    : takes.uniform
    ? "uniform"
    : "storage";
  const { M, N, K, batch } = dims;
  const work = M * N * K * batch;
  if (work < TUNED_MIN_WORK) return fallback;
  const key = `gemm/${transposeA ? "t" : "n"}${transposeB ? "t" : "n"}/${batch}/` +
    [M, N, K].map((n) => 2 ** Math.ceil(Math.log2(n))).join("x");
  const choice = tunedChoice(key, fallback, () => ({
    candidates: GEMM_PLANS.filter((plan) => takes[plan] && work >= (CANDIDATE_MIN_WORK[plan] ?? 0)),
    reps: Math.max(1, Math.min(200, Math.round(2e8 / (2 * work)))),
    setup: () => {
      const a = randomNormal(g.a.shape, 0, 1, 1), b = randomNormal(g.b.shape, 0, 1, 2);
      const c = empty(dims.outShape);
      const trial: Gemm = { ...g, a, b, c, bias: undefined };
      return {
        run: (plan: string) => GEMMS[plan as GemmPlan](trial),
        dispose: () => [a, b, c].forEach((t) => t.dispose()),
      };
    },
  })) as GemmPlan;
  // The winner was timed on the first product of its class; e.g. the uniform GEMM may not take a larger one.
  return takes[choice] ? choice : fallback;
}

/** The operands and options of {@linkcode fusedMatMul}. */
export interface FusedMatMulConfig {
  /** [M,K] ([K,M] when transposeA), or with a leading batch axis. */
  a: Tensor;
  /** [K,N] ([N,K] when transposeB), or with a leading batch axis. */
  b: Tensor;
  /** Read `a` transposed (no copy). */
  transposeA?: boolean;
  /** Read `b` transposed (no copy). */
  transposeB?: boolean;
  /** Added to each row of the product; shape [N]. */
  bias?: Tensor;
  /** Applied last, in the GEMM's epilogue; "linear" (none) by default. */
  activation?: FusedActivation;
  /** The slope of leakyRelu / the scale of elu. */
  alpha?: number;
}

/**
 * op(A)·op(B) over the last two axes (rank 2, or rank 3 with a batch; a batch
 * of 1 broadcasts). `transposeA`/`transposeB` read the operand transposed,
 * with no copy.
 *
 * @param a [M, K], or [K, M] when `transposeA`; optionally with a leading batch axis.
 * @param b [K, N], or [N, K] when `transposeB`.
 * @param transposeA Read `a` as its transpose.
 * @param transposeB Read `b` as its transpose.
 * @returns [M, N] (with the batch axis if either operand has one).
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const a = wg.tensor([[1, 2], [3, 4]]);
 * const b = wg.tensor([[5, 6], [7, 8]]);
 * assertEquals(await wg.matMul(a, b).array(), [[19, 22], [43, 50]]);
 * assertEquals(await wg.matMul(a, b, false, true).array(), [[17, 23], [39, 53]]);
 * ```
 */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  return fusedMatMul({ a, b, transposeA, transposeB });
}

/**
 * act(op(A)·op(B) + bias) as one GEMM with the bias and activation in its
 * epilogue: the dense layer's forward pass in one dispatch (on llvmpipe, for
 * large products: two packing dispatches, then one per 64x64 block of C).
 *
 * @param config The operands, transposes, optional bias [N] and activation.
 * @returns act(op(A)·op(B) + bias), [M, N].
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[1, -2]]);
 * const w = wg.tensor([[1, 0], [0, 1]]);
 * const y = wg.fusedMatMul({ a: x, b: w, bias: wg.tensor([0.5, 0.5]), activation: "relu" });
 * assertEquals(await y.array(), [[1.5, 0]]);
 * ```
 */
export function fusedMatMul(config: FusedMatMulConfig): Tensor {
  const {
    transposeA = false,
    transposeB = false,
    activation = "linear",
    alpha = activation === "elu" ? 1 : 0.2,
  } = config;
  const a = asTensor(config.a);
  const b = asTensor(config.b);
  checkDType("matMul", "a", a);
  checkDType("matMul", "b", b);
  const bias = config.bias === undefined ? undefined : asTensor(config.bias);
  const dims = checkDims(a, b, transposeA, transposeB, bias);
  const c = empty(dims.outShape);
  if (c.size > 0) {
    const gemm: Gemm = { a, b, bias, c, dims, transposeA, transposeB, activation, alpha };
    GEMMS[gemmPlan(gemm)](gemm);
  }
  const inputs = bias ? [a, b, bias] : [a, b];
  // Decided now, while the tape is active: a product with data (a first layer's x) skips dA.
  const needA = isWatched(a), needB = isWatched(b);
  return record(c, inputs, (dy, [a, b, c]) => {
    // NOTE: every fusable activation's derivative can be written in y alone
    // (x > 0 ⟺ y > 0 for relu, elu, leakyRelu), so y stands in for x.
    const [dz, dBias] = activation === "linear"
      ? [dy, bias && sumTo(dy, bias.shape)]
      : bias
      ? activationAndBiasGrads(activation, c, dy, alpha, bias)
      : [activationGradFromOutput(activation, c, dy, alpha), undefined];
    const [da, db] = matMulGrads(a, b, dz, transposeA, transposeB, needA, needB);
    return dBias ? [da, db, dBias] : [da, db];
  }, [a, b, c]);
}

type Dims = ReturnType<typeof checkDims>;

/** One GEMM's operands and options, as fusedMatMul resolved them. */
interface Gemm {
  a: Tensor;
  b: Tensor;
  bias: Tensor | undefined;
  c: Tensor;
  dims: Dims;
  transposeA: boolean;
  transposeB: boolean;
  activation: FusedActivation;
  alpha: number;
}

/** C = act(op(A)·op(B) + bias) in one dispatch of the storage kernel. */
function storageGemm(g: Gemm): void {
  // NOTE: without a bias, `a` fills the bias binding (never read: hasBias = 0),
  // so one pipeline serves both; two read-only bindings of a buffer are legal.
  directGemm(g, { activation: g.activation, ...storageTiling() }, [g.a.buffer, g.b.buffer]);
}

/**
 * Whether both operands fit whole in one 64 KiB uniform window each, on an
 * adapter where uniform loads pay (llvmpipe: ~2 cycles against ~30 for storage).
 */
function uniformFits({ M, N, K, aBatch, bBatch }: Dims): boolean {
  const { limits } = runtime().device;
  return bandsPay() && K > 0 && limits.maxUniformBufferBindingSize >= WINDOW_FLOATS * 4 &&
    limits.maxUniformBuffersPerShaderStage >= 3 &&
    Math.max(aBatch * M * K, bBatch * K * N) <= WINDOW_FLOATS;
}

/**
 * The storage kernel with both operands bound as whole 64 KiB uniform windows
 * (a padded copy where a tensor's buffer is shorter): small products, e.g. a
 * classifier's 10 logits, where storage loads dominate and a texture's copies
 * and padding cost more than the product.
 */
function uniformGemm(g: Gemm): void {
  const [ta, tb] = [g.a, g.b].map((t) => windowed(t, 1, 0));
  // 8x8 outputs per invocation: of 4x4, 4x8, 8x4, 8x8 and 16x4, the best over the MLP's three 10-wide products.
  const variant: MatMulVariant = {
    activation: g.activation,
    tm: 8,
    tn: 8,
    wgx: 8,
    wgy: 1,
    uniformOperands: true,
  };
  directGemm(g, variant, [windowAt(ta, 0), windowAt(tb, 0)]);
  for (const [copy, t] of [[ta, g.a], [tb, g.b]]) if (copy !== t) copy.dispose();
}

/** One dispatch of matMulKernel with the operands bound as given (storage buffers or uniform windows). */
function directGemm(
  { a, bias, c, dims, transposeA, transposeB, alpha }: Gemm,
  variant: MatMulVariant,
  operands: (GPUBuffer | GPUBufferBinding)[],
): void {
  const { M, N, K } = dims;
  const buffers = [...operands, (bias ?? a).buffer, c.buffer];
  runtime().dispatch(matMulKernel, variant, buffers, {
    M,
    N,
    K,
    aBatchStride: dims.aBatch === 1 ? 0 : M * K,
    bBatchStride: dims.bBatch === 1 ? 0 : K * N,
    aRowStride: transposeA ? 1 : K,
    aKStride: transposeA ? M : 1,
    bKStride: transposeB ? 1 : N,
    bColStride: transposeB ? K : 1,
    hasBias: bias ? 1 : 0,
    alpha,
  }, [
    Math.ceil(M / (variant.tm * variant.wgx)),
    Math.ceil(N / (variant.tn * variant.wgy)),
    dims.batch,
  ]);
}

/** Below this many invocations (8 per workgroup), one product splits its K: every core gets work. */
const SPLIT_K_INVOCATIONS = 32;
/** The fewest k's a slice of a split K sums. */
const SPLIT_K_MIN = 64;

/**
 * How a texture GEMM of TM x TN tiles splits K: Ks k's (a multiple of 4) per
 * slice. Few tiles and a long K split, so that every core gets work, unless
 * the operands padded to slices·Ks k's would not fit their textures.
 */
function splitK({ M, N, K, aBatch, bBatch, batch }: Dims, tm: number, tn: number) {
  const tiles = Math.ceil(M / tm) * Math.ceil(N / tn) * batch;
  const split = batch === 1 && tiles < SPLIT_K_INVOCATIONS
    ? Math.max(1, Math.min(Math.ceil(SPLIT_K_INVOCATIONS / tiles), Math.floor(K / SPLIT_K_MIN)))
    : 1;
  const Ks = ceil4(Math.ceil(K / split)), slices = Math.ceil(K / Ks);
  const { maxFloats } = runtime().textures;
  const fits = Math.max(aBatch * ceil4(M), bBatch * ceil4(N)) * Ks * slices <= maxFloats;
  return fits ? { Ks, slices } : { Ks: ceil4(K), slices: 1 };
}

/**
 * C = act(op(A)·op(B) + bias): both operands copied into textures, then one
 * dispatch. A product of few tiles and a long K (a classifier's 10 logits of a
 * wide layer: one workgroup) splits K into slices that run as a batch of
 * partial products, added up (with bias and activation) by a second dispatch.
 */
function textureGemm(
  { a, b, bias, c, dims, transposeA, transposeB, activation, alpha }: Gemm,
  tm: number,
  tn: number,
): void {
  const { M, N, K, aBatch, bBatch, batch } = dims;
  const gpu = runtime();
  const { Ks, slices } = splitK(dims, tm, tn);
  const [Mp, Np, Kp] = [ceil4(M), ceil4(N), Ks * slices];
  // Stored A: [M, K], or [K, M] when transposed; B: [K, N], or [N, K]. Zero-padded to rows of whole texels
  // and to Kp k's (a texel never straddles two rows; padded k's add 0; padded rows and columns of C are
  // never stored): e.g. the 10 logits of a classifier.
  const ap = transposeA ? padMatrix(a, aBatch, K, M, Kp, Mp) : padMatrix(a, aBatch, M, K, M, Kp);
  const bp = transposeB ? padMatrix(b, bBatch, N, K, N, Kp) : padMatrix(b, bBatch, K, N, Kp, Np);
  const at = gpu.texture(ap.buffer, ap.size);
  const bt = gpu.texture(bp.buffer, bp.size);
  for (const [padded, x] of [[ap, a], [bp, b]]) if (padded !== x) padded.dispose();
  // Texels from one batch (or slice of K) to the next.
  const [aBatchTexels, bBatchTexels] = slices > 1
    ? [(transposeA ? Ks * Mp : Ks) / 4, (transposeB ? Ks : Ks * Np) / 4]
    : [aBatch === 1 ? 0 : ap.size / aBatch / 4, bBatch === 1 ? 0 : bp.size / bBatch / 4];
  const out = slices > 1 ? empty([slices, M, N]) : c;
  const lanes = laneGrid(Math.ceil(M / tm), Math.ceil(N / tn));
  const variant: TextureMatMulVariant = {
    activation: slices > 1 ? "linear" : activation,
    tm,
    tn,
    aT: transposeA,
    bT: transposeB,
    vecOut: N % 4 === 0,
  };
  gpu.dispatch(textureMatMulKernel, variant, [at, bt, (bias ?? a).buffer, out.buffer], {
    M,
    N,
    K: Ks,
    aBatchTexels,
    bBatchTexels,
    aLine: (transposeA ? Mp : Kp) / 4,
    bLine: (transposeB ? Kp : Np) / 4,
    lanesX: lanes.x,
    lanesXLog2: Math.log2(lanes.x),
    hasBias: bias && slices === 1 ? 1 : 0,
    alpha,
  }, [lanes.groupsX, lanes.groupsY, batch * slices]);
  if (slices === 1) return;
  gpu.dispatch(splitKSumKernel, { activation }, [out.buffer, (bias ?? out).buffer, c.buffer], {
    n: M * N,
    N,
    slices,
    hasBias: bias ? 1 : 0,
    alpha,
  }, grid1D(M * N));
  out.dispose();
}

/**
 * A workgroup's 8 lanes as x row blocks by 8 / x column blocks (TileLayout
 * "laneGrid" in shaders/matmul.ts): the x that launches the fewest lanes for
 * this many tiles (llvmpipe runs a workgroup's 8 lanes even past the edge),
 * and the workgroup counts.
 */
function laneGrid(rowTiles: number, colTiles: number) {
  let best = { x: 8, groupsX: 0, groupsY: 0, lanes: Infinity };
  for (const x of [8, 4, 2, 1]) {
    const groupsX = Math.ceil(rowTiles / x), groupsY = Math.ceil(colTiles / (8 / x));
    const lanes = 8 * groupsX * groupsY;
    if (lanes < best.lanes) best = { x, groupsX, groupsY, lanes };
  }
  return best;
}

/**
 * op(X) [batches][rows, K] packed into bands (see BAND in shaders/matmul.ts),
 * with one window of slack after the end: any window starting at a k < K of
 * any band lies inside the buffer. X is read through uniform windows of whole
 * lines (rows of its stored layout) where the alignment allows, else from storage.
 */
function packBands(x: Tensor, rows: number, K: number, transposed: boolean, batches: number): Tensor {
  const bands = Math.ceil(rows / BAND);
  const batchFloats = bands * K * BAND;
  const p = empty([batches * batchFloats + 4 * WINDOW_VEC4]);
  const common = {
    K,
    rowStride: transposed ? 1 : K,
    kStride: transposed ? rows : 1,
    batchStride: rows * K,
    batchFloats,
  };
  // Stored layout: `outer` lines of `inner` floats; a window holds `lines` whole lines, 256-byte aligned.
  const [outer, inner] = transposed ? [K, rows] : [rows, K];
  const align = alignOf(inner);
  const lines = Math.floor(4 * WINDOW_VEC4 / inner / align) * align;
  if (lines === 0 || (batches > 1 && (outer * inner) % 64 !== 0)) {
    runtime().dispatch(packKernel, { window: false }, [x.buffer, p.buffer], {
      ...common,
      k0: 0,
      kEnd: K,
      row0: 0,
      rowEnd: rows,
      batch0: 0,
      x0: 0,
    }, [Math.ceil(K / 8), Math.ceil(rows / 8), batches]);
    return p;
  }
  // The last window may reach past the tensor's buffer: then read a padded copy.
  const lastWindow = (batches - 1) * outer * inner + Math.floor((outer - 1) / lines) * lines * inner;
  const needed = (lastWindow + 4 * WINDOW_VEC4) * 4;
  const src = x.buffer.size >= needed ? x : empty([needed / 4]);
  if (src !== x) runtime().copy(x.buffer, 0, src.buffer, 0, x.size * 4);
  for (let z = 0; z < batches; z++) {
    for (let l0 = 0; l0 < outer; l0 += lines) {
      const l1 = Math.min(outer, l0 + lines);
      const x0 = (z * outer + l0) * inner;
      const [k0, kEnd, row0, rowEnd] = transposed ? [l0, l1, 0, rows] : [0, K, l0, l1];
      runtime().dispatch(
        packKernel,
        { window: true },
        [{ buffer: src.buffer, offset: x0 * 4, size: WINDOW_VEC4 * 16 }, p.buffer],
        { ...common, k0, kEnd, row0, rowEnd, batch0: z, x0 },
        [Math.ceil((kEnd - k0) / 8), Math.ceil((rowEnd - row0) / 8), 1],
      );
    }
  }
  if (src !== x) src.dispose();
  return p;
}

/**
 * C = act(op(A)·op(B) + bias) through uniform windows: pack both operands,
 * then one dispatch per 64x64 block of C and span of WINDOWS·WINDOW_K k's;
 * later spans add to C, the last applies bias and activation.
 */
function windowedGemm({ a, b, bias, c, dims, transposeA, transposeB, activation, alpha }: Gemm): void {
  const { M, N, K } = dims;
  // op(B) [K,N] is packed as its transpose's rows: column j of op(B) is row j of [N,K].
  const ap = packBands(a, M, K, transposeA, dims.aBatch);
  const bp = packBands(b, N, K, !transposeB, dims.bBatch);
  const variant: WindowedMatMulVariant = { activation, tm: 8, tn: 16, windows: WINDOWS };
  const bandsA = Math.ceil(M / BAND), bandsB = Math.ceil(N / BAND);
  const span = WINDOWS * WINDOW_K;
  // The w-th window of a band from k0 on (unused slots repeat the last one: the kernel skips them).
  const windows = (p: Tensor, band: number, k0: number, kLen: number) =>
    Array.from({ length: WINDOWS }, (_, w) => ({
      buffer: p.buffer,
      offset: (band * K + k0 + Math.min(w, Math.ceil(kLen / WINDOW_K) - 1) * WINDOW_K) * BAND * 4,
      size: WINDOW_VEC4 * 16,
    }));
  for (let z = 0; z < dims.batch; z++) {
    const za = dims.aBatch === 1 ? 0 : z, zb = dims.bBatch === 1 ? 0 : z;
    for (let k0 = 0; k0 < K; k0 += span) {
      const kLen = Math.min(span, K - k0);
      for (let rb = 0; rb < bandsA; rb++) {
        const aw = windows(ap, za * bandsA + rb, k0, kLen);
        for (let cb = 0; cb < bandsB; cb++) {
          runtime().dispatch(
            windowedMatMulKernel,
            variant,
            [...aw, ...windows(bp, zb * bandsB + cb, k0, kLen), (bias ?? a).buffer, c.buffer],
            {
              M,
              N,
              kLen,
              r0: rb * BAND,
              c0: cb * BAND,
              cOffset: z * M * N,
              accumulate: k0 > 0 ? 1 : 0,
              finalize: k0 + span >= K ? 1 : 0,
              hasBias: bias ? 1 : 0,
              alpha,
            },
            [BAND / (8 * variant.tm), BAND / variant.tn, 1],
          );
        }
      }
    }
  }
  ap.dispose();
  bp.dispose();
}

/**
 * dA, dB of C = op(A)·op(B), each as one GEMM with transposes folded into the
 * kernel variant; one not needed (an operand no gradient flows to) is null.
 */
function matMulGrads(
  a: Tensor,
  b: Tensor,
  dc: Tensor,
  tA: boolean,
  tB: boolean,
  needA: boolean,
  needB: boolean,
): [Tensor | null, Tensor | null] {
  // Each product as [left, right, transposeLeft, transposeRight].
  let da: [Tensor, Tensor, boolean, boolean], db: [Tensor, Tensor, boolean, boolean];
  if (!tA && !tB) { // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC
    da = [dc, b, false, true];
    db = [a, dc, true, false];
  } else if (!tA && tB) { // C = A·Bᵀ: dA = dC·B, dB = dCᵀ·A
    da = [dc, b, false, false];
    db = [dc, a, true, false];
  } else if (tA && !tB) { // C = Aᵀ·B: dA = B·dCᵀ, dB = A·dC
    da = [b, dc, false, true];
    db = [a, dc, false, false];
  } else { // C = Aᵀ·Bᵀ: dA = Bᵀ·dCᵀ, dB = dCᵀ·Aᵀ
    da = [b, dc, true, true];
    db = [dc, a, true, true];
  }
  // A broadcast batch (rank 2 or batch 1) sums its gradient over the batch.
  return [
    needA ? sumTo(matMul(...da), a.shape) : null,
    needB ? sumTo(matMul(...db), b.shape) : null,
  ];
}

function checkDims(a: Tensor, b: Tensor, tA: boolean, tB: boolean, bias: Tensor | undefined) {
  const describe = () => `${formatShape(a.shape)}${tA ? "ᵀ" : ""} · ${formatShape(b.shape)}${tB ? "ᵀ" : ""}`;
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new ShapeError(`matMul: operands must be rank 2 or 3, got ${describe()}`);
  }
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const M = tA ? aCols : aRows, K = tA ? aRows : aCols;
  const kb = tB ? bCols : bRows, N = tB ? bRows : bCols;
  if (K !== kb) {
    throw new ShapeError(`matMul: inner dimensions differ (${K} vs ${kb}) in ${describe()}`);
  }
  const aBatch = a.rank === 3 ? a.shape[0] : 1;
  const bBatch = b.rank === 3 ? b.shape[0] : 1;
  if (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1) {
    throw new ShapeError(`matMul: batch sizes differ (${aBatch} vs ${bBatch}) in ${describe()}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) {
    throw new ShapeError(
      `matMul: bias must have shape [${N}] for ${describe()}, got ${formatShape(bias.shape)}`,
    );
  }
  if (bias) checkDType("matMul", "bias", bias);
  const batch = Math.max(aBatch, bBatch);
  const outShape = a.rank === 3 || b.rank === 3 ? [batch, M, N] : [M, N];
  return { batch, M, N, K, aBatch, bBatch, outShape };
}
