/**
 * Property tests of the reductions: sum, mean, max, min over axis lists
 * (negative, non-adjacent, all, none) with keepDims both ways; argMax/argMin
 * along one axis with many ties; sumTo. Shapes include reductions long
 * enough (≥ 256) for the workgroup-per-output kernel. Then fixed tests of the
 * tie rule (the gradient and the index go to the first extremum) and of ±∞.
 *
 * Tolerances: a sum of R terms is within R·U·Σ|x| of exact in any order (R
 * roundings of partial sums); max/min select, so they are exact.
 */
import fc from "fast-check";
import { assertEquals } from "@std/assert";
import * as wg from "../../mod.ts";
import type { Tensor } from "../../mod.ts";
import type * as reduceOps from "../../src/ops/reduce.ts";
import { sumTo } from "../../src/ops/reduce.ts";
import { type Arr, normalizeAxes } from "../_reference/array.ts";
import { argReduce, reduce, type Reduction } from "../_reference/reduce.ts";
import {
  axisArg,
  EXTREMES,
  fill,
  fillDistinct,
  fillInt,
  Random,
  shape,
  uniform,
  withExtremes,
} from "../_helpers/arbitrary.ts";
import { type Case, checkOp, described, magTol, type OpSpec, U } from "../_helpers/check_op.ts";

interface Params {
  axis: number | number[] | undefined;
  keepDims: boolean;
}

/** Elements that reduce into one output. */
const count = (c: Case<Params>) =>
  normalizeAxes(c.params.axis, c.xs[0].shape.length).reduce((n, a) => n * c.xs[0].shape[a], 1);

/** Shapes of up to rank 4 (17·67 = 1139 reduced elements goes to the workgroup-per-output kernel). */
function cases(values: (shape: number[], rng: Random) => Arr): fc.Arbitrary<Case<Params>> {
  return shape(0, 4).chain((s) =>
    fc.record({ s: fc.constant(s), axis: axisArg(s.length), keepDims: fc.boolean() })
  )
    .chain(({ s, axis, keepDims }) =>
      fc.integer().map((seed) =>
        described({ xs: [values(s, new Random(seed))], params: { axis, keepDims }, seed })
      )
    );
}

const real = (s: number[], rng: Random) => fill(s, withExtremes(uniform(-4, 4), EXTREMES), rng);

function reduction(op: Reduction): OpSpec<Params> {
  const summing = op === "sum" || op === "mean";
  // mean: the f32 scale 1/R and the product with it add two roundings, in the forward and the backward.
  const extra = op === "mean" ? 2 : 0;
  return {
    name: op,
    cases: cases(summing ? real : fillDistinct),
    gpu: ([x], { axis, keepDims }) => wg[op](x, axis, keepDims),
    ref: ([x], { axis, keepDims }) => reduce(op, x, axis, keepDims),
    // Σ|x| (mean |x|) scales the sum's R roundings; max/min are exact selections.
    forwardTol: ({ case: c }) => {
      if (!summing) return 0;
      const mag = reduce(
        op,
        { ...c.xs[0], data: c.xs[0].data.map(Math.abs) },
        c.params.axis,
        c.params.keepDims,
      );
      return mag.data.map((m) => (count(c) + extra) * U * m);
    },
    // the backward copies dy back over the reduced axes (times 1/R for a mean), or scatters it to the arg-max
    gradTol: magTol(extra),
    linear: summing ? { inputs: [0], gradUlps: () => extra } : undefined,
  };
}

function argReduction(op: "argMax" | "argMin"): OpSpec<{ axis: number }> {
  return {
    name: op,
    // integers in [0, 3]: most rows have ties, and the first index must win
    cases: shape(1, 4).chain((s) =>
      fc.record({
        axis: fc.nat({ max: s.length - 1 }).chain((a) => fc.constantFrom(a, a - s.length)),
        seed: fc.integer(),
      })
        .map(({ axis, seed }) => {
          const x = fillInt(s, 0, 3, new Random(seed));
          return described({ xs: [{ shape: x.shape, data: x.data }], params: { axis }, seed });
        })
    ),
    gpu: ([x], { axis }) => wg[op](x, axis),
    ref: ([x], { axis }) => argReduce(op, x, axis),
    forwardTol: () => 0, // indices
  };
}

/** Every export of src/ops/reduce.ts has its specs here (an op added without a test does not compile). */
const REDUCE_TESTS: Record<keyof typeof reduceOps, () => Promise<void>> = {
  sum: () => checkOp(reduction("sum")),
  mean: () => checkOp(reduction("mean")),
  max: () => checkOp(reduction("max")),
  min: () => checkOp(reduction("min")),
  argMax: () => checkOp(argReduction("argMax")),
  argMin: () => checkOp(argReduction("argMin")),
  // sumTo(dy, shape): the gradient of broadcasting, back to `shape`.
  sumTo: () =>
    checkOp<{ to: number[] }>({
      name: "sumTo",
      cases: shape(0, 4).chain((s) =>
        fc.record({
          drop: fc.nat({ max: s.length }),
          ones: fc.array(fc.boolean(), { minLength: s.length }),
          seed: fc.integer(),
        })
          .map(({ drop, ones, seed }) => {
            const to = s.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
            return described({ xs: [real(s, new Random(seed))], params: { to }, seed });
          })
      ),
      gpu: ([x], { to }) => sumTo(x, to),
      ref: ([x], { to }) => {
        const offset = x.shape.length - to.length;
        const axes = x.shape.map((_, i) => i).filter((i) =>
          i < offset || (to[i - offset] === 1 && x.shape[i] !== 1)
        );
        return { ...reduce("sum", x, axes, false), shape: to };
      },
      forwardTol: ({ case: c, want }) => {
        const n = c.xs[0].data.length / Math.max(1, want.data.length);
        const absX = { ...c.xs[0], data: c.xs[0].data.map(Math.abs) };
        const offset = absX.shape.length - c.params.to.length;
        const axes = absX.shape.map((_, i) => i).filter((i) =>
          i < offset || (c.params.to[i - offset] === 1 && absX.shape[i] !== 1)
        );
        return reduce("sum", absX, axes, false).data.map((m) => n * U * m);
      },
      gradTol: magTol(0),
    }),
};

for (const [op, test] of Object.entries(REDUCE_TESTS)) {
  Deno.test(
    `${op}: forward = float64 reference${op.startsWith("arg") ? "" : ", gradient = central differences"}`,
    test,
  );
}

// ---- ties and infinities, deterministic ----

/** Values of a reduction and its gradient (cotangent ones). */
async function valueAndGrad(f: (x: Tensor) => Tensor, x: Tensor): Promise<[number[], number[]]> {
  const { value, grad } = wg.valueAndGrad(f)(x);
  const [y, dx] = await Promise.all([value.data(), grad.data()]);
  [x, value, grad].forEach((t) => t.dispose());
  return [[...y], [...dx]];
}

Deno.test("max / min: on ties the gradient goes to the first extremal element", async () => {
  const x = () => wg.tensor([[1, 3, 3], [2, 2, 0], [-1, -1, -1]]);
  assertEquals(await valueAndGrad((t) => wg.max(t, 1), x()), [[3, 2, -1], [0, 1, 0, 1, 0, 0, 1, 0, 0]]);
  assertEquals(await valueAndGrad((t) => wg.min(t, -1), x()), [[1, 0, -1], [1, 0, 0, 0, 0, 1, 1, 0, 0]]);
  assertEquals(await valueAndGrad((t) => wg.max(t, 0), x()), [[2, 3, 3], [0, 1, 1, 1, 0, 0, 0, 0, 0]]);
  assertEquals(await valueAndGrad((t) => wg.max(t), x()), [[3], [0, 1, 0, 0, 0, 0, 0, 0, 0]]);
});

Deno.test("max / argMax: ties in a long row (the workgroup-per-output kernel) go to the first", async () => {
  // 1000 values with the maximum 5 at 700 and at 300, and all-equal rows
  const row = Array.from({ length: 1000 }, (_, i) => (i === 300 || i === 700 ? 5 : i % 5));
  const x = wg.tensor([row, Array(1000).fill(2)]);
  const [, dx] = await valueAndGrad((t) => wg.max(t, 1), wg.tensor([row, Array(1000).fill(2)]));
  assertEquals([dx.indexOf(1), dx.lastIndexOf(1), dx.filter((v) => v !== 0).length], [300, 1000, 2]);
  const idx = [wg.argMax(x, 1), wg.argMin(x, 1)];
  assertEquals((await Promise.all(idx.map((t) => t.data()))).map((d) => [...d]), [[300, 0], [0, 0]]);
  [x, ...idx].forEach((t) => t.dispose());
});

Deno.test("max / min / argMax of infinities: max(-∞, -∞) = -∞, argMax = 0, the gradient to the first", async () => {
  for (const n of [2, 300]) { // 300: the workgroup-per-output kernel
    const rows = [[-Infinity, -Infinity], [Infinity, Infinity], [-Infinity, 1]]
      .map(([a, b]) => Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a)));
    const x = wg.tensor(rows);
    const ys = [wg.max(x, 1), wg.min(x, 1), wg.argMax(x, 1), wg.argMin(x, 1)];
    const got = (await Promise.all(ys.map((t) => t.data()))).map((d) => [...d]);
    assertEquals(got, [[-Infinity, Infinity, 1], [-Infinity, Infinity, -Infinity], [0, 0, n - 1], [0, 0, 0]]);
    const [, dx] = await valueAndGrad((t) => wg.max(t, 1), wg.tensor(rows));
    assertEquals([0, n, 2 * n].map((i) => dx.slice(i, i + n).indexOf(1)), [0, 0, n - 1]);
    [x, ...ys].forEach((t) => t.dispose());
  }
});
