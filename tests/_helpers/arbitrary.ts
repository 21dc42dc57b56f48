/**
 * What the op property tests draw: shapes whose sizes include 1, odd sizes and
 * sizes beyond a tile (1, 3, 17, 67, ...), broadcast pairs, axis lists, and
 * element values (float32-exact, with extremes mixed in). fast-check draws
 * shapes and parameters; element values come from a seeded generator, so a
 * counterexample prints as shapes + params + seed, not thousands of numbers.
 */
import fc from "fast-check";
import { Random } from "../../src/random.ts";
import { type Arr, arr, sizeOf } from "../_reference/array.ts";

export { Random };

/**
 * Dimension sizes: 1, odd sizes, multiples of 4 (the vec4 paths), and 17 and
 * 67, which are not multiples of 4, of the 64-thread workgroup or of the
 * 64x64 GEMM tile, and 67 spills past one of each.
 */
export const DIMS = [1, 2, 3, 4, 5, 8, 17, 67] as const;

/** One dimension size. */
export const dim: fc.Arbitrary<number> = fc.constantFrom(...DIMS);

/** A shape of rank in [minRank, maxRank] with at most `maxSize` elements. */
export function shape(minRank: number, maxRank: number, maxSize = 4500): fc.Arbitrary<number[]> {
  return fc.array(dim, { minLength: minRank, maxLength: maxRank }).filter((s) => sizeOf(s) <= maxSize);
}

/**
 * Two shapes that broadcast: an output shape, each operand dropping some
 * leading axes and setting some others to 1 (e.g. [3,1] vs [1,4], [] vs [2,3],
 * [5,1,3] vs [4,1]).
 */
export function broadcastPair(maxRank = 4, maxSize = 2500): fc.Arbitrary<[number[], number[]]> {
  const operand = (out: number[]) =>
    fc.record({
      drop: fc.nat({ max: out.length }),
      ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    }).map(({ drop, ones }) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
  return shape(0, maxRank, maxSize).chain((out) => fc.tuple(operand(out), operand(out)));
}

/** Fixed broadcast pairs that every run includes. */
export const BROADCAST_EXAMPLES: [number[], number[]][] = [
  [[3, 1], [1, 4]],
  [[], [2, 3]],
  [[5, 1, 3], [4, 1]],
  [[67, 17], [17]],
  [[1], [3, 67]],
  [[2, 1, 4, 1], [3, 1, 5]],
];

/**
 * An `axis` argument for a rank-`rank` tensor: undefined (all axes), one axis,
 * or a list of distinct axes in any order, each possibly negative, adjacent or not.
 */
export function axisArg(rank: number): fc.Arbitrary<number | number[] | undefined> {
  if (rank === 0) return fc.constantFrom(undefined, [] as number[]);
  const axis = fc.nat({ max: rank - 1 }).chain((a) => fc.constantFrom(a, a - rank));
  const list = fc.shuffledSubarray([...Array(rank).keys()], { minLength: 1 }).chain((axes) =>
    fc.tuple(...axes.map((a) => fc.constantFrom(a, a - rank)))
  );
  return fc.oneof(fc.constant(undefined), axis, list);
}

/** Draws one float32-exact value. */
export type Sampler = (rng: Random) => number;

/** Uniform in [lo, hi], rounded to float32 (all 24 mantissa bits random). */
export const uniform = (lo: number, hi: number): Sampler => (rng) => Math.fround(lo + (hi - lo) * rng.next());

/** Mostly `base`; with probability `p` one of `extremes` (zeros, ±1e4, ...), exact. */
export function withExtremes(base: Sampler, extremes: readonly number[], p = 0.15): Sampler {
  return (rng) => (rng.next() < p ? Math.fround(extremes[rng.int(extremes.length)]) : base(rng));
}

/**
 * `base` kept at least `gap` away from the kink at `at` (relu, abs, step at 0),
 * so central differences do not straddle it; kinks get their own fixed tests.
 */
export function awayFrom(base: Sampler, at = 0, gap = 1e-2): Sampler {
  return (rng) => {
    const v = base(rng);
    return Math.abs(v - at) >= gap ? v : Math.fround(at + (v >= at ? 1 : -1) * gap * (1 + rng.next()));
  };
}

/** Values ±1e4 and ±100 (large logits) and 0. */
export const EXTREMES = [0, 1e4, -1e4, 100, -100] as const;

/** A float32 array of `shape` filled by `sampler`. */
export function fill(shape: readonly number[], sampler: Sampler, rng: Random): Arr {
  const x = arr(shape);
  for (let i = 0; i < x.data.length; i++) x.data[i] = sampler(rng);
  return x;
}

/** An int32 array of `shape` with values in [lo, hi]. */
export function fillInt(shape: readonly number[], lo: number, hi: number, rng: Random): Arr {
  const x = arr(shape, undefined, "int32");
  for (let i = 0; i < x.data.length; i++) x.data[i] = lo + rng.int(hi - lo + 1);
  return x;
}

/**
 * Pairwise-distinct values (spaced ≥ 1/8 apart, shuffled): max/min have one
 * arg-max per group, so their gradient is defined; ties get fixed tests.
 */
export function fillDistinct(shape: readonly number[], rng: Random): Arr {
  const x = arr(shape);
  const n = x.data.length;
  for (let i = 0; i < n; i++) x.data[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [x.data[i], x.data[j]] = [x.data[j], x.data[i]];
  }
  for (let i = 0; i < n; i++) x.data[i] = Math.fround((x.data[i] - n / 2 + 0.5 * rng.next()) / 4);
  return x;
}
