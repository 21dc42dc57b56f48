/**
 * Property tests of the elementwise ops: one row per op of the UNARY and
 * BINARY tables (a missing row does not compile), each checked against the
 * float64 reference and central differences; then fixed tests of the kinks
 * (relu, abs, step at 0; maximum ties) and of extreme inputs.
 *
 * Tolerances count float32 roundings (U = 2⁻²⁴ relative each) and use WGSL's
 * accuracy of its builtins (division 2.5 ULP, log 2⁻²¹ absolute on [0.5, 2];
 * one ULP ≤ 2U); the unary ops' bounds are in ../_helpers/bounds.ts.
 */
import fc from "fast-check";
import { assertEquals } from "@std/assert";
import * as wg from "../../mod.ts";
import type { Tensor } from "../../mod.ts";
import type { BinaryOp, UnaryOp } from "../../shaders/elementwise.ts";
import type * as elementwiseOps from "../../src/ops/elementwise.ts";
import { broadcastTo, sigmoidCrossEntropyWithLogits } from "../../src/ops/elementwise.ts";
import { type Arr, sizeOf } from "../_reference/array.ts";
import { binary, broadcastWith, unary } from "../_reference/elementwise.ts";
import { UNARY_BOUNDS } from "../_helpers/bounds.ts";
import {
  awayFrom,
  BROADCAST_EXAMPLES,
  broadcastPair,
  EXTREMES,
  fill,
  Random,
  type Sampler,
  shape,
  uniform,
  withExtremes,
} from "../_helpers/arbitrary.ts";
import { type Case, checkOp, described, type OpSpec, U } from "../_helpers/check_op.ts";
import { runtime } from "../../src/gpu/runtime.ts";

// Every export of src/ops/elementwise.ts is a row of a table below or named here: an op added without a test
// does not compile. NOTE: activationGradFromOutput and activationAndBiasGrads (the fused epilogues' activation
// and bias gradients) are checked through the fused GEMM and conv gradients in matmul_test.ts and conv_test.ts.
type Untested = Exclude<
  keyof typeof elementwiseOps,
  | UnaryOp
  | BinaryOp
  | "sigmoidCrossEntropyWithLogits"
  | "broadcastTo"
  | "activationGradFromOutput"
  | "activationAndBiasGrads"
>;
const _everyOpHasATest: [Untested] extends [never] ? true : Untested = true;

// ---- unary ----

/** One unary op's test: its input domain (error bounds: UNARY_BOUNDS in bounds.ts). */
interface UnaryRow {
  values: Sampler;
  /** Values of the op's alpha (float32-exact: it travels as an f32 uniform). */
  alphas?: readonly number[];
}

const any = withExtremes(uniform(-8, 8), EXTREMES);
const positive = withExtremes(uniform(1e-3, 100), [1e-3, 1, 1e4]);

const UNARY_TESTS: Record<UnaryOp, UnaryRow> = {
  neg: { values: any },
  // up to e^80 (float32 tops out at e^88.7), e^-1e4 = 0 and e^0
  exp: { values: withExtremes(uniform(-80, 80), [0, -1e4, -100]) },
  log: { values: positive },
  sqrt: { values: positive },
  square: { values: any },
  abs: { values: awayFrom(any) },
  relu: { values: awayFrom(any) },
  sigmoid: { values: any },
  tanh: { values: any },
  elu: { values: awayFrom(any), alphas: [1, 0.5, 2] },
  leakyRelu: { values: awayFrom(any), alphas: [Math.fround(0.2), 0.5, Math.fround(0.01)] },
  step: { values: awayFrom(any), alphas: [0, 0.5] },
  reciprocal: { values: withExtremes(awayFrom(uniform(-100, 100), 0, 1e-2), [1, -1, 1e4, -1e4]) },
};

function unarySpec(op: UnaryOp, row: UnaryRow): OpSpec<{ alpha: number }> {
  const alphas = row.alphas ?? [0];
  const bound = UNARY_BOUNDS[op];
  const at = (ctx: { case: Case<{ alpha: number }> }, j: number) => ctx.case.xs[0].data[j];
  return {
    name: op,
    cases: fc.record({ shape: shape(0, 4), alpha: fc.constantFrom(...alphas), seed: fc.integer() })
      .map(({ shape, alpha, seed }) =>
        described({ xs: [fill(shape, row.values, new Random(seed))], params: { alpha }, seed })
      ),
    examples: [67, 17 * 3].map((n, seed) =>
      described({ xs: [fill([n], row.values, new Random(seed))], params: { alpha: alphas[0] }, seed })
    ),
    gpu: ([x], { alpha }) => row.alphas ? (wg[op] as (x: Tensor, a: number) => Tensor)(x, alpha) : wg[op](x),
    ref: ([x], { alpha }) => unary(op, x, alpha),
    forwardTol: (ctx) => ctx.want.data.map((y, i) => bound.forward(at(ctx, i), y, ctx.case.params.alpha)),
    gradTol: (ctx) =>
      ctx.mag.map((m, e) => {
        const j = ctx.index[e];
        return bound.grad(m, at(ctx, j), ctx.want.data[j], ctx.cotangent[j], ctx.case.params.alpha);
      }),
    diagonal: true,
  };
}

for (const [op, row] of Object.entries(UNARY_TESTS) as [UnaryOp, UnaryRow][]) {
  Deno.test(`${op}: forward = float64 reference, gradient = central differences`, () =>
    checkOp(unarySpec(op, row)));
}

// ---- binary, with broadcasting ----

/** One binary op's test: the domains of a and b, and its error bounds. */
interface BinaryRow {
  gpu: (a: Tensor, b: Tensor) => Tensor;
  a: Sampler;
  b: Sampler;
  /** Allowed forward error at a, b, exact output y. */
  fwd: (a: number, b: number, y: number) => number;
  /** Allowed error of da (input 0) or db (input 1): a sum of n products, mag = Σ|terms|. */
  grad: (input: number, mag: number, n: number) => number;
  /** Linear in a and b, with references that bound |J|·|v| on absolute values: also the GPU projection check. */
  linear?: boolean;
}

const exact = () => 0;
const real = withExtremes(uniform(-4, 4), EXTREMES);
/** Quarter-integers offset by `offset`: a from offset 1/8, b from 0 never tie (|a - b| ≥ 1/8). */
const lattice = (offset: number): Sampler =>
  withExtremes((rng) => (rng.int(65) - 32) / 4 + offset, [1e4 + offset, -1e4 + offset]);

const BINARY_TESTS: Record<BinaryOp, BinaryRow> = {
  // one rounding forward; the gradient sums dy over the n outputs each input element reached
  add: {
    gpu: wg.add,
    a: real,
    b: real,
    fwd: (_a, _b, y) => U * Math.abs(y),
    grad: (_, m, n) => n * U * m,
    linear: true,
  },
  sub: { gpu: wg.sub, a: real, b: real, fwd: (_a, _b, y) => U * Math.abs(y), grad: (_, m, n) => n * U * m },
  mul: {
    gpu: wg.mul,
    a: real,
    b: real,
    fwd: (_a, _b, y) => U * Math.abs(y),
    grad: (_, m, n) => (n + 1) * U * m,
    linear: true,
  },
  // division: 2.5 ULP; db = -dy·a/(b·b): two products and a division
  div: {
    gpu: wg.div,
    a: real,
    b: withExtremes(awayFrom(uniform(-4, 4), 0, 0.25), [1, -1, 1e4, -1e4]),
    fwd: (_a, _b, y) => 5 * U * Math.abs(y),
    grad: (input, m, n) => (n + (input === 0 ? 5 : 7)) * U * m,
  },
  maximum: { gpu: wg.maximum, a: lattice(1 / 8), b: lattice(0), fwd: exact, grad: (_, m, n) => n * U * m },
  minimum: { gpu: wg.minimum, a: lattice(1 / 8), b: lattice(0), fwd: exact, grad: (_, m, n) => n * U * m },
  // max(a,0) - a·b + log(1 + e^-|a|): a rounding per term (a·b's and the sums'), log's 2⁻²¹ on [1, 2] and
  // exp's error, which e^-|a|·(3 + 2|a|) ≤ 3 keeps under 6U. da = dy·(σ(a) - b): σ's absolute error,
  // σ(1 - σ)·(3 + 2|a|)·2U + 6Uσ (see bounds.ts), is at most 12U; one per output, and |c| ≤ 1.
  sigmoidCrossEntropy: {
    gpu: sigmoidCrossEntropyWithLogits,
    a: withExtremes(uniform(-8, 8), EXTREMES),
    b: withExtremes(uniform(0, 1), [0, 1]),
    fwd: (a, b) => 3 * U * (Math.max(a, 0) + Math.abs(a * b) + 1) + 2 ** -21 + 8 * U,
    grad: (input, m, n) => (input === 0 ? (n + 2) * U * m + 12 * U * n : (n + 1) * U * m),
  },
};

function binarySpec(op: BinaryOp, row: BinaryRow): OpSpec<null> {
  const build = ([aShape, bShape]: number[][], seed: number): Case<null> => {
    const rng = new Random(seed);
    return described({ xs: [fill(aShape, row.a, rng), fill(bShape, row.b, rng)], params: null, seed });
  };
  /** Outputs each element of input k reaches: the number of terms its gradient sums. */
  const terms = (c: Case<null>, k: number, want: Arr) =>
    sizeOf(want.shape) / Math.max(1, c.xs[k].data.length);
  return {
    name: op,
    cases: fc.tuple(broadcastPair(), fc.integer()).map(([shapes, seed]) => build(shapes, seed)),
    examples: BROADCAST_EXAMPLES.map((shapes, seed) => build(shapes, seed)),
    gpu: ([a, b]) => row.gpu(a, b),
    ref: ([a, b]) => binary(op, a, b),
    forwardTol: ({ case: c, want }) => {
      // the operands each output read
      const ai = broadcastWith(indices(c.xs[0]), c.xs[1], (i) => i).data;
      const bi = broadcastWith(c.xs[0], indices(c.xs[1]), (_, i) => i).data;
      return want.data.map((y, i) => row.fwd(c.xs[0].data[ai[i]], c.xs[1].data[bi[i]], y));
    },
    gradTol: (ctx) => ctx.mag.map((m) => row.grad(ctx.input, m, terms(ctx.case, ctx.input, ctx.want))),
    linear: row.linear
      ? {
        inputs: [0, 1],
        gradUlps: (c, k) => (op === "mul" ? 1 : 0) + terms(c, k, binary(op, c.xs[0], c.xs[1])),
      }
      : undefined,
  };
}

/** An array of x's shape holding each element's flat index. */
function indices(x: Arr): Arr {
  return { shape: x.shape, data: x.data.map((_, i) => i) };
}

for (const [op, row] of Object.entries(BINARY_TESTS) as [BinaryOp, BinaryRow][]) {
  Deno.test(`${op}: broadcasting forward = float64 reference, gradients = central differences`, () =>
    checkOp(binarySpec(op, row)));
}

Deno.test("broadcastTo: copies to the broadcast shape", () =>
  checkOp<{ to: number[] }>({
    name: "broadcastTo",
    cases: fc.tuple(broadcastPair(), fc.integer()).map(([[a, b], seed]) => {
      const to = broadcastWith({ shape: a, data: new Float64Array(sizeOf(a)) }, {
        shape: b,
        data: new Float64Array(sizeOf(b)),
      }, () => 0).shape;
      return described({ xs: [fill(a, real, new Random(seed))], params: { to }, seed });
    }),
    gpu: ([x], { to }) => broadcastTo(x, to),
    ref: ([x], { to }) => broadcastWith(x, { shape: to, data: new Float64Array(sizeOf(to)) }, (v) => v),
    forwardTol: exact, // a copy
  }));

// ---- kinks and extremes, deterministic ----

/** f(x) and df/dx (cotangent ones) of a unary op at the given points. */
async function valueAndGrad(f: (x: Tensor) => Tensor, xs: number[]): Promise<[number[], number[]]> {
  const x = wg.tensor(xs);
  const { value, grad } = wg.valueAndGrad(f)(x);
  const [y, dx] = await Promise.all([value.data(), grad.data()]);
  [x, value, grad].forEach((t) => t.dispose());
  return [Array.from(y, (v) => v + 0), Array.from(dx, (v) => v + 0)]; // -0 → 0
}

Deno.test("kinks: relu'(0) = 0, abs'(0) = 0, step' = 0, leakyRelu'(0) = alpha (the x <= 0 branch)", async () => {
  const at = [0, -0, 1, -1];
  assertEquals(await valueAndGrad(wg.relu, at), [[0, 0, 1, 0], [0, 0, 1, 0]]);
  assertEquals(await valueAndGrad(wg.abs, at), [[0, 0, 1, 1], [0, 0, 1, -1]]);
  assertEquals(await valueAndGrad((x) => wg.step(x), at), [[0, 0, 1, 0], [0, 0, 0, 0]]);
  assertEquals(await valueAndGrad((x) => wg.leakyRelu(x, 0.5), at), [[0, -0, 1, -0.5], [0.5, 0.5, 1, 0.5]]);
});

Deno.test("maximum / minimum ties send the whole gradient to a", async () => {
  const a = wg.tensor([1, -2, 0, 5]), b = wg.tensor([1, -2, 0, 4]);
  for (const op of [wg.maximum, wg.minimum]) {
    const [da, db] = wg.grads(op)([a, b]);
    const got = await Promise.all([da.data(), db.data()]);
    assertEquals(
      got.map((d) => [...d]),
      op === wg.maximum ? [[1, 1, 1, 1], [0, 0, 0, 0]] : [[1, 1, 1, 0], [0, 0, 0, 1]],
    );
    da.dispose();
    db.dispose();
  }
  a.dispose();
  b.dispose();
});

Deno.test("large inputs: sigmoid, tanh, exp, elu give finite values and gradients", async () => {
  const at = [-1e4, -100, 100, 1e4];
  assertEquals(await valueAndGrad(wg.sigmoid, at), [[0, 0, 1, 1], [0, 0, 0, 0]]);
  assertEquals(await valueAndGrad(wg.tanh, at), [[-1, -1, 1, 1], [0, 0, 0, 0]]);
  assertEquals(await valueAndGrad(wg.exp, [-1e4, -200]), [[0, 0], [0, 0]]);
  assertEquals(await valueAndGrad((x) => wg.elu(x), [-1e4, -100]), [[-1, -1], [0, 0]]);
});

Deno.test("zeros: log(0) = -Infinity, sqrt(0) = 0, exp(0) = 1, square'(0) = 0", async () => {
  assertEquals((await valueAndGrad(wg.log, [0]))[0], [-Infinity]);
  assertEquals((await valueAndGrad(wg.sqrt, [0]))[0], [0]);
  assertEquals(await valueAndGrad(wg.exp, [0]), [[1], [1]]);
  assertEquals(await valueAndGrad(wg.square, [0, -0]), [[0, 0], [0, -0]]);
});

Deno.test("mul by a tensor of ones from fill returns the other operand's values, with no dispatch", async () => {
  const x = wg.tensor([[1, -2, 3], [4, 5, -6]]);
  const dispatches = runtime().dispatches;
  const ones = wg.ones([2, 3]), scalarOne = wg.ones([]);
  const products = [wg.mul(x, ones), wg.mul(scalarOne, x)];
  assertEquals(runtime().dispatches, dispatches);
  for (const y of products) assertEquals(await y.array(), [[1, -2, 3], [4, 5, -6]]);
  // Not a shortcut where the ones broadcast x, or hold another value.
  assertEquals(await wg.mul(wg.tensor([2]), wg.ones([2])).array(), [2, 2]);
  assertEquals(await wg.mul(x, wg.fill([3], 2)).array(), [[2, -4, 6], [8, 10, -12]]);
  // Differentiated, it stays a product: d(x·1)/dx = 1.
  const [dx] = wg.grads((a: Tensor) => wg.sum(wg.mul(a, wg.ones([2, 3]))))([x]);
  assertEquals(await dx.array(), [[1, 1, 1], [1, 1, 1]]);
});
