/**
 * Property tests of the shape and layout ops: reshape (with -1), transpose
 * (any permutation up to rank 5), oneHot (indices out of range included) and
 * cast between float32 and int32. They move or convert values exactly (but
 * for int32 → float32 beyond 2²⁴), so tolerances are 0; reshape, transpose and
 * a float32 → float32 cast pass gradients through.
 */
import fc from "fast-check";
import * as wg from "../../mod.ts";
import type * as transformOps from "../../src/ops/transform.ts";
import { cast, oneHot, reshape, transpose } from "../_reference/transform.ts";
import { dim, EXTREMES, fill, fillInt, Random, shape, uniform, withExtremes } from "../_helpers/arbitrary.ts";
import { type Case, checkOp, described, magTol, relTol } from "../_helpers/check_op.ts";

const real = withExtremes(uniform(-4, 4), EXTREMES);
const exact = () => 0;

/** A target shape for `s`: its dims shuffled, some neighbours merged, 1s inserted, maybe one -1. */
function reshapeTarget(s: number[]): fc.Arbitrary<number[]> {
  return fc.record({
    order: fc.shuffledSubarray(s, { minLength: s.length, maxLength: s.length }),
    merges: fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
    ones: fc.nat({ max: 2 }),
    unknown: fc.boolean(),
    pick: fc.nat(),
  }).map(({ order, merges, ones, unknown, pick }) => {
    const target: number[] = [];
    order.forEach((
      d,
      i,
    ) => (merges[i] && target.length > 0 ? (target[target.length - 1] *= d) : target.push(d)));
    for (let i = 0; i < ones; i++) target.splice(pick % (target.length + 1), 0, 1);
    if (unknown && target.length > 0) target[pick % target.length] = -1;
    return target;
  });
}

/** Cases of `spec` over one float32 input of rank [minRank, maxRank] and params drawn for its shape. */
function over<P>(
  minRank: number,
  maxRank: number,
  params: (s: number[]) => fc.Arbitrary<P>,
): fc.Arbitrary<Case<P>> {
  return shape(minRank, maxRank).chain((s) =>
    fc.tuple(params(s), fc.integer()).map(([p, seed]) =>
      described({ xs: [fill(s, real, new Random(seed))], params: p, seed })
    )
  );
}

interface OneHotParams {
  depth: number;
  onValue: number;
  offValue: number;
}

/** Every export of src/ops/transform.ts has its specs here (an op added without a test does not compile). */
const TRANSFORM_TESTS: Record<keyof typeof transformOps, (() => Promise<void>)[]> = {
  reshape: [
    () =>
      checkOp<{ to: number[] }>({
        name: "reshape",
        cases: over(0, 4, (s) => reshapeTarget(s).map((to) => ({ to }))),
        gpu: ([x], { to }) => wg.reshape(x, to),
        ref: ([x], { to }) => reshape(x, to),
        forwardTol: exact,
        gradTol: magTol(0),
      }),
  ],
  transpose: [
    () =>
      checkOp<{ perm?: number[] }>({
        name: "transpose",
        cases: over(0, 5, (s) =>
          fc.oneof(
            fc.constant({}),
            fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length }).map((perm) => ({
              perm,
            })),
          )),
        gpu: ([x], { perm }) => wg.transpose(x, perm),
        ref: ([x], { perm }) => transpose(x, perm),
        forwardTol: exact,
        gradTol: magTol(0),
        // linear: also against central differences of the GPU forward
        linear: { inputs: [0], gradUlps: () => 0 },
      }),
  ],
  oneHot: [
    () =>
      checkOp<OneHotParams>({
        name: "oneHot",
        // indices in [-1, depth]: -1 and depth are out of range and give a row of offValue
        cases: fc.tuple(shape(0, 2, 300), dim, fc.constantFrom([1, 0], [5, -2.5], [-1, 1e4]), fc.integer())
          .map(([s, depth, [onValue, offValue], seed]) =>
            described({
              xs: [fillInt(s, -1, depth, new Random(seed))],
              params: { depth, onValue, offValue },
              seed,
            })
          ),
        gpu: ([i], { depth, onValue, offValue }) => wg.oneHot(i, depth, onValue, offValue),
        ref: ([i], { depth, onValue, offValue }) => oneHot(i, depth, onValue, offValue),
        forwardTol: exact,
      }),
  ],
  cast: [
    // float32 → int32 truncates toward zero (fractions, negatives, ±1e4)
    () =>
      checkOp<null>({
        name: "cast to int32",
        cases: over(0, 4, () => fc.constant(null)),
        gpu: ([x]) => wg.cast(x, "int32"),
        ref: ([x]) => cast(x, "int32"),
        forwardTol: exact,
      }),
    // int32 → float32, beyond 2²⁴ too: WGSL rounds an integer float32 cannot hold to either neighbour,
    // so one ULP (≤ 2U relative)
    () =>
      checkOp<null>({
        name: "cast to float32",
        cases: fc.tuple(shape(0, 3), fc.integer()).map(([s, seed]) => {
          const x = fillInt(s, -(2 ** 30), 2 ** 30, new Random(seed));
          return described({ xs: [x], params: null, seed });
        }),
        gpu: ([x]) => wg.cast(x, "float32"),
        ref: ([x]) => cast(x, "float32"),
        forwardTol: relTol(2),
      }),
    // float32 → float32 is the identity, and passes the gradient through
    () =>
      checkOp<null>({
        name: "cast float32 to float32",
        cases: over(0, 3, () => fc.constant(null)),
        gpu: ([x]) => wg.cast(x, "float32"),
        ref: ([x]) => x,
        forwardTol: exact,
        gradTol: magTol(0),
      }),
  ],
};

for (const [op, checks] of Object.entries(TRANSFORM_TESTS)) {
  Deno.test(`${op}: forward = float64 reference, gradients = central differences`, async () => {
    for (const check of checks) await check(); // one at a time: each checks that no tensor leaked
  });
}
