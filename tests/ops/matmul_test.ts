/**
 * Property tests of matMul and fusedMatMul: transposes, batches (either side,
 * or a batch of 1, broadcast), bias and every fused activation, M, N, K drawn
 * from sizes that straddle the vec4 paths and the 64x64 tile (1, 3, 4, 17, 67, ...).
 * M, N = rows and columns of C, K = the inner dimension.
 *
 * Tolerances: the GEMM sums K products with fma, so an element of C is within
 * (K + 1)·U·Σ|a·b| (+|bias|) of exact, in any summation order; the activation
 * adds its own error and passes the sum's on scaled by its Lipschitz constant.
 * A gradient is again a GEMM (over N for dA, M for dB, then the batch) of dz,
 * whose error (from the activation's derivative) is carried through |B| or |A|.
 */
import fc from "fast-check";
import * as wg from "../../mod.ts";
import { type FusedActivation, gemmConfig } from "../../shaders/matmul.ts";
import { assert, assertEquals } from "@std/assert";
import { runtime } from "../../src/gpu/runtime.ts";
import type * as matmulOps from "../../src/ops/matmul.ts";
import type { Arr } from "../_reference/array.ts";
import { matMul, matMulDims, type MatMulParams } from "../_reference/matmul.ts";
import { dim, fill, Random, type Sampler, uniform, withExtremes } from "../_helpers/arbitrary.ts";
import { UNARY_BOUNDS } from "../_helpers/bounds.ts";
import { type Case, checkOp, described, type OpSpec, U } from "../_helpers/check_op.ts";

/** fusedMatMul's parameters (xs[2], when present, is the bias). */
type Params = MatMulParams;

/** Batch layouts: none, both batched, only A or only B, and A's batch of 1 broadcast against B's. */
const BATCHES = ["none", "both", "a", "b", "a1"] as const;

/** f'(z) of each fused activation, from z and y = f(z). */
const DERIVATIVE: Record<FusedActivation, (z: number, y: number, alpha: number) => number> = {
  linear: () => 1,
  relu: (z) => (z > 0 ? 1 : 0),
  sigmoid: (_, y) => y * (1 - y),
  tanh: (_, y) => 1 - y * y,
  elu: (z, y, a) => (z > 0 ? 1 : y + a),
  leakyRelu: (z, _, a) => (z > 0 ? 1 : a),
  step: () => 0,
};

/** f''(z): how far the GEMM's error in z moves f'(z) (0 for the piecewise-linear ones). */
const CURVATURE: Record<FusedActivation, (z: number, y: number, alpha: number) => number> = {
  linear: () => 0,
  relu: () => 0,
  sigmoid: (_, y) => y * (1 - y) * (1 - 2 * y),
  tanh: (_, y) => -2 * y * (1 - y * y),
  elu: (z, y, a) => (z > 0 ? 0 : y + a),
  leakyRelu: () => 0,
  step: () => 0,
};

/**
 * Cases of C = act(op(A)·op(B) + bias). `values` fills A and B; `biasValues`
 * (if given) a bias of [N].
 */
function cases(
  activations: readonly FusedActivation[],
  values: Sampler,
  biasValues?: Sampler,
  dims: fc.Arbitrary<number> = dim,
): fc.Arbitrary<Case<Params>> {
  return fc.record({
    M: dims,
    N: dims,
    K: dims,
    batch: fc.constantFrom(...BATCHES),
    size: fc.constantFrom(2, 3),
    transposeA: fc.boolean(),
    transposeB: fc.boolean(),
    activation: fc.constantFrom(...activations),
    alpha: fc.constantFrom(Math.fround(0.2), 1.5),
    seed: fc.integer(),
  }).map(({ M, N, K, batch, size, seed, ...p }) => {
    const rng = new Random(seed);
    const a = p.transposeA ? [K, M] : [M, K], b = p.transposeB ? [N, K] : [K, N];
    const aBatch = { none: [], both: [size], a: [size], b: [], a1: [1] }[batch];
    const bBatch = { none: [], both: [size], a: [], b: [size], a1: [size] }[batch];
    const xs = [fill([...aBatch, ...a], values, rng), fill([...bBatch, ...b], values, rng)];
    if (biasValues) xs.push(fill([N], biasValues, rng));
    return described({ xs, params: p, seed });
  });
}

const ref = ([a, b, bias]: Arr[], p: Params) => matMul(a, b, bias, p);
const abs = (xs: Arr[]) => xs.map((x) => ({ ...x, data: x.data.map(Math.abs) }));

/** z = op(A)·op(B) + bias and its error bound (K + 1)·U·(Σ|a·b| + |bias|), K fmas and the bias add. */
function preActivation(c: Case<Params>): { z: Float64Array; zErr: Float64Array } {
  const p = c.params, linear = { ...p, activation: "linear" as const };
  const { K } = matMulDims(c.xs[0].shape, c.xs[1].shape, p.transposeA, p.transposeB);
  return { z: ref(c.xs, linear).data, zErr: ref(abs(c.xs), linear).data.map((m) => (K + 1) * U * m) };
}

/** Per element of C: z's error through the activation, plus the activation's own error. */
function forwardTol({ case: c, want }: { case: Case<Params>; want: Arr }): Float64Array {
  const p = c.params, { z, zErr } = preActivation(c);
  if (p.activation === "linear") return zErr;
  const act = UNARY_BOUNDS[p.activation];
  return want.data.map((y, i) => act.lipschitz(p.alpha) * zErr[i] + act.forward(z[i], y, p.alpha));
}

/**
 * Σ_i w_i·|∂z_i/∂x_k[j]| for every element j of input k (0 = A, 1 = B, 2 = bias), z = op(A)·op(B) + bias:
 * how per-output errors w of dz reach the gradient of input k.
 */
function throughGemm(k: number, w: Float64Array, xs: Arr[], p: Params): Float64Array {
  const [a, b] = xs;
  const { batch, M, N, K, aBatch, bBatch } = matMulDims(a.shape, b.shape, p.transposeA, p.transposeB);
  const out = new Float64Array(xs[k].data.length);
  for (let s = 0; s < batch; s++) {
    const aBase = (aBatch === 1 ? 0 : s) * M * K, bBase = (bBatch === 1 ? 0 : s) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const wi = w[(s * M + m) * N + n];
        if (k === 2) out[n] += wi;
        else {
          for (let kk = 0; kk < K; kk++) {
            const ia = aBase + (p.transposeA ? kk * M + m : m * K + kk);
            const ib = bBase + (p.transposeB ? n * K + kk : kk * N + n);
            if (k === 0) out[ia] += wi * Math.abs(b.data[ib]);
            else out[ib] += wi * Math.abs(a.data[ia]);
          }
        }
      }
    }
  }
  return out;
}

/** Terms one gradient element sums: a GEMM over N (dA) or M (dB), then over the batch; the bias's over batch·M. */
function gradTerms(c: Case<Params>, k: number): number {
  const { batch, M, N } = matMulDims(c.xs[0].shape, c.xs[1].shape, c.params.transposeA, c.params.transposeB);
  return [N + batch, M + batch, M * batch][k];
}

function spec(
  name: string,
  activations: readonly FusedActivation[],
  values: Sampler,
  bias?: Sampler,
  dims?: fc.Arbitrary<number>,
) {
  const s: OpSpec<Params> = {
    name,
    cases: cases(activations, values, bias, dims),
    gpu: ([a, b, bias], p) =>
      name === "matMul" ? wg.matMul(a, b, p.transposeA, p.transposeB) : wg.fusedMatMul({ ...p, a, b, bias }),
    ref,
    forwardTol,
    gradTol: ({ case: c, want, input, cotangent, index, mag }) => {
      const p = c.params, { z, zErr } = preActivation(c);
      // error of dz = f'(z)·c per element of C: the derivative kernel's own, and f'' times z's error;
      // carried through the GEMM
      const dzErr = p.activation === "linear" ? null : want.data.map((y, i) => {
        const act = p.activation as Exclude<FusedActivation, "linear">, ci = cotangent[i];
        const dz = Math.abs(ci * DERIVATIVE[act](z[i], y, p.alpha));
        const moved = Math.abs(ci * CURVATURE[act](z[i], y, p.alpha)) * zErr[i];
        return UNARY_BOUNDS[act].grad(dz, z[i], y, ci, p.alpha) + moved;
      });
      const carried = dzErr ? throughGemm(input, dzErr, c.xs, p) : null;
      return mag.map((m, e) => gradTerms(c, input) * U * m + (carried ? carried[index[e]] : 0));
    },
    // Each checked element costs 6 evaluations of the reference (batch·M·N·K multiply-adds): about 10⁷ per
    // input and case, so the rare 3x67x67x67 case checks the first and last elements (the GPU central
    // differences of matMul cover all of them).
    gradElements: ({ xs, params: p }) => {
      const { batch, M, N, K } = matMulDims(xs[0].shape, xs[1].shape, p.transposeA, p.transposeB);
      return Math.max(2, Math.min(48, Math.floor(1e7 / (6 * batch * M * N * K))));
    },
  };
  return s;
}

const floats = withExtremes(uniform(-2, 2), [0, 100, -100]);
/** Small integers and a half-integer bias: z = A·B + bias is exact and ≥ 1/2 from the kinks at 0. */
const ints: Sampler = (rng) => rng.int(7) - 3;
const halves: Sampler = (rng) => rng.int(9) - 4 + 0.5;

const matMulSpec = spec("matMul", ["linear"], floats);
// matMul is linear in A and in B: also check its VJP against central differences of the GPU forward.
matMulSpec.linear = { inputs: [0, 1], gradUlps: gradTerms };
matMulSpec.numRuns = 25;

/** Every export of src/ops/matmul.ts has its specs here (an op added without a test does not compile). */
const MATMUL_TESTS: Record<keyof typeof matmulOps, OpSpec<Params>[]> = {
  matMul: [matMulSpec],
  fusedMatMul: [
    spec("fusedMatMul (smooth activations)", ["linear", "sigmoid", "tanh"], floats, floats),
    spec("fusedMatMul (kinked activations)", ["relu", "elu", "leakyRelu", "step"], ints, halves),
  ],
};

for (const s of Object.values(MATMUL_TESTS).flat()) {
  Deno.test(`${s.name}: forward = float64 reference, gradients = central differences`, () => checkOp(s));
}

// The shapes above are small, so "auto" runs the uniform-operand kernel on llvmpipe and the storage one
// on a GPU: each GEMM, forced, on sizes where K and the stored rows are multiples of 4 or not (the
// texture kernel then reads zero-padded copies; the windowed one pads its packed bands), around the
// tiles (8x16 outputs per invocation in 8-wide workgroups: 1, 17, 67 vs 4, 20, 68). Every operand here
// (at most 3·68·68 floats) fits the uniform kernel's 64 KiB windows.
const PATH_DIMS = fc.constantFrom(1, 4, 8, 17, 20, 67, 68);
for (const path of ["storage", "uniform", "windowed", "texture8x16"] as const) {
  const s = spec(`fusedMatMul, ${path} GEMM`, ["linear", "relu"], ints, halves, PATH_DIMS);
  s.numRuns = 12;
  Deno.test(`${s.name}: forward = float64 reference, gradients = central differences`, async () => {
    gemmConfig.path = path;
    const copies = runtime().textureCopies;
    try {
      await checkOp(s);
      if (path.startsWith("texture")) assert(runtime().textureCopies > copies, "the texture path never ran");
    } finally {
      gemmConfig.path = "auto";
    }
  });
}

/**
 * relu(op(A)·op(B) + bias) on a forced texture path, for each [transposeA, transposeB] layout, against the
 * float64 reference exactly: small integers make every partial sum exact in float32.
 */
async function assertExactTextureGemm(
  M: number,
  K: number,
  N: number,
  layouts: [boolean, boolean][],
  path: "texture16x32" | "texture32x32" | "texture32x64" = "texture16x32",
) {
  gemmConfig.path = path;
  const copies = runtime().textureCopies;
  try {
    for (const [transposeA, transposeB] of layouts) {
      const rng = new Random(M + K + (transposeA ? 1 : 0) + (transposeB ? 2 : 0));
      const xs = [
        fill(transposeA ? [K, M] : [M, K], ints, rng),
        fill(transposeB ? [N, K] : [K, N], ints, rng),
        fill([N], halves, rng),
      ];
      const p: Params = { transposeA, transposeB, activation: "relu", alpha: 0.2 };
      const [a, b, bias] = xs.map((x) => wg.tensor(Float32Array.from(x.data), x.shape));
      const got = wg.fusedMatMul({ a, b, bias, ...p });
      assertEquals(
        [...await got.data()],
        [...ref(xs, p).data],
        `transposeA ${transposeA}, transposeB ${transposeB}`,
      );
      for (const t of [a, b, bias, got]) t.dispose();
    }
    assert(runtime().textureCopies > copies, "the texture path never ran");
  } finally {
    gemmConfig.path = "auto";
  }
}

// [false, false] and [true, true] take each of the kernel's two ways to read A and B.
Deno.test("fusedMatMul, texture16x32 GEMM: both operand layouts, against the float64 reference", () =>
  assertExactTextureGemm(36, 20, 68, [[false, false], [true, true]]));

// 36 x 68 in 32x32 tiles: a partial row block and a partial column block (the first LLVM compile of each
// layout takes ~17 s here).
Deno.test("fusedMatMul, texture32x32 GEMM: both operand layouts, against the float64 reference", () =>
  assertExactTextureGemm(36, 20, 68, [[false, false], [true, true]], "texture32x32"));

// 36 x 68 in 32x64 tiles: a partial row block and a partial column block (~60 s of LLVM per layout the first
// time; the tile is a candidate only from 512³).
Deno.test("fusedMatMul, texture32x64 GEMM: both operand layouts, against the float64 reference", () =>
  assertExactTextureGemm(36, 20, 68, [[false, false], [true, true]], "texture32x64"));

// 2 tiles of 16x32 and K = 203: 3 slices of 68 k's (K padded to 204), added up with bias and relu after.
Deno.test("fusedMatMul, texture GEMM with K split into slices (few tiles, long K): exact, all layouts", () =>
  assertExactTextureGemm(17, 203, 10, [[false, false], [true, false], [false, true], [true, true]]));
