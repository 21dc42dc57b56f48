/**
 * Property tests of maxPool and avgPool: random N, H, W, C, windows 1-5,
 * strides 1-3, "valid" and "same"; forward vs the float64 reference,
 * gradients vs its central differences. Plus the fixed rules: max-pool ties,
 * padding never winning a max, and "same" averages over real inputs only.
 * Legend: x [N,H,W,C], y [N,OH,OW,C].
 *
 * Tolerances: max is exact, and its gradient sums the dy of the (at most
 * KH·KW) windows whose arg-max an input is. A mean sums at most KH·KW inputs
 * and divides once: (KH·KW + 2)·U·Σ|x|/count; its gradient sums at most
 * KH·KW terms dy/count: (KH·KW + 2)·U relative to Σ|terms|.
 */
import fc from "fast-check";
import { assertEquals, assertThrows } from "@std/assert";
import { grad } from "../../src/autograd/gradients.ts";
import { ShapeError } from "../../src/errors.ts";
import { fill as fillTensor, tensor } from "../../src/ops/creation.ts";
import * as poolOps from "../../src/ops/pool.ts";
import { tidy } from "../../src/tensor.ts";
import type { Arr } from "../_reference/array.ts";
import { pool, type PoolParams } from "../_reference/pool.ts";
import { fill, fillDistinct, Random, uniform } from "../_helpers/arbitrary.ts";
import { type Case, checkOp, described, type OpSpec, U } from "../_helpers/check_op.ts";
import { poolConfig } from "../../shaders/pool.ts";

/** Shapes where "valid" always fits (H ≥ KH, W ≥ KW). Max gets distinct values: one arg-max per window. */
function cases(op: "max" | "avg"): fc.Arbitrary<Case<PoolParams>> {
  return fc.record({
    N: fc.integer({ min: 1, max: 3 }),
    KH: fc.integer({ min: 1, max: 5 }),
    KW: fc.integer({ min: 1, max: 5 }),
    extraH: fc.integer({ min: 0, max: 6 }),
    extraW: fc.integer({ min: 0, max: 6 }),
    C: fc.constantFrom(1, 2, 3, 4, 8),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pad: fc.constantFrom("valid" as const, "same" as const),
    // Strides = window: windows that tile the image (the backward pass's scatter kernel under "valid").
    tile: fc.boolean(),
    seed: fc.integer(),
  }).map(({ N, KH, KW, extraH, extraW, C, strides, pad, tile, seed }) => {
    const rng = new Random(seed);
    const shape = [N, KH + extraH, KW + extraW, C];
    const x = op === "max" ? fillDistinct(shape, rng) : fill(shape, uniform(-2, 2), rng);
    const s: [number, number] = tile ? [KH, KW] : strides;
    return described({ xs: [x], params: { filterSize: [KH, KW], strides: s, pad }, seed });
  });
}

function spec(op: "max" | "avg"): OpSpec<PoolParams> {
  const terms = (p: PoolParams) => p.filterSize[0] * p.filterSize[1] + 2;
  const rng = new Random(op === "max" ? 1 : 2);
  const big = [1, 24, 24, 32], many = [70, 32, 32, 1];
  return {
    name: op === "max" ? "maxPool" : "avgPool",
    cases: cases(op),
    // Images of more than 16384 floats (x, and dy with 23x23 outputs) do not fit one uniform window:
    // the storage path.
    examples: [
      described({
        xs: [op === "max" ? fillDistinct(big, rng) : fill(big, uniform(-2, 2), rng)],
        params: { filterSize: [2, 2], strides: [1, 1], pad: "valid" },
        seed: 3,
      }),
      // One channel (no texture path on llvmpipe) and more images than one uniform window holds (dy: 64
      // per window of 16x16 floats): the gradient's later bands read their own window.
      described({
        xs: [op === "max" ? fillDistinct(many, rng) : fill(many, uniform(-2, 2), rng)],
        params: { filterSize: [2, 2], strides: [2, 2], pad: "valid" },
        seed: 4,
      }),
    ],
    gradElements: 24,
    gpu: ([x], p) => (op === "max" ? poolOps.maxPool : poolOps.avgPool)(x, p.filterSize, p.strides, p.pad),
    ref: ([x], p) => pool(op, x, p),
    forwardTol: ({ case: c }) =>
      op === "max" ? 0 : pool("avg", abs(c.xs[0]), c.params).data.map((m) => terms(c.params) * U * m),
    gradTol: ({ case: c, mag }) => mag.map((m) => terms(c.params) * U * m),
    numRuns: 20,
  };
}

const abs = (x: Arr): Arr => ({ ...x, data: x.data.map(Math.abs) });

/** Every export of src/ops/pool.ts has its spec here (an op added without a test does not compile). */
const POOL_TESTS: Record<keyof typeof poolOps, OpSpec<PoolParams>> = {
  maxPool: spec("max"),
  avgPool: spec("avg"),
};

for (const s of Object.values(POOL_TESTS)) {
  Deno.test(`${s.name}: forward = float64 reference, gradients = central differences`, () => checkOp(s));
  // On llvmpipe 4-channel pools read texture copies; the storage / uniform-window reads of other adapters too:
  Deno.test(`${s.name} without textures: forward = float64 reference, gradients = central differences`, async () => {
    poolConfig.texture = false;
    try {
      await checkOp({ ...s, numRuns: 10 });
    } finally {
      poolConfig.texture = true;
    }
  });
}

Deno.test("maxPool ties: the gradient goes to exactly one input, the first of the window in row-major order", async () => {
  // All-equal inputs make every window a tie. 2x2 windows, stride 2: each window's top-left gets dy.
  // 4 channels: the 4-channel (texel) kernels; 1 channel below: the scalar ones.
  const x = fillTensor([1, 4, 4, 4], 3);
  const dx = grad((x) => poolOps.maxPool(x, 2, 2, "valid"))(x);
  // Overlapping 2x2 windows, stride 1, on a 3x3 tie: window (i, j)'s top-left is (i, j).
  const x3 = fillTensor([1, 3, 3, 1], -1);
  const dx3 = grad((x) => poolOps.maxPool(x, 2, 1, "valid"))(x3);
  // "same" 3x3 windows, stride 1, over a 2x2 tie: windows start in the padding; the first real input wins.
  const x2 = fillTensor([1, 2, 2, 1], 0);
  const dx2 = grad((x) => poolOps.maxPool(x, 3, 1, "same"))(x2);
  const [a, b, c] = await Promise.all([dx.data(), dx3.data(), dx2.data()]);
  const topLeft = [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]; // per pixel, for each of the 4 channels
  assertEquals([...a], topLeft.flatMap((v) => [v, v, v, v]));
  assertEquals([...b], [1, 1, 0, 1, 1, 0, 0, 0, 0]);
  // 4 windows, each containing all 4 inputs; (0,0) is first in each.
  assertEquals([...c], [4, 0, 0, 0]);
  for (const t of [x, dx, x3, dx3, x2, dx2]) t.dispose();
});

Deno.test("maxPool: padded positions never win, even over negative inputs", async () => {
  const x = tensor([-5, -6, -7, -8], [1, 2, 2, 1]);
  const y = poolOps.maxPool(x, 3, 1, "same"); // every window overlaps the padding
  assertEquals([...await y.data()], [-5, -5, -5, -5]);
  x.dispose();
  y.dispose();
});

Deno.test("avgPool 'same' divides by the real inputs of each window, as TensorFlow", async () => {
  // 3x3 image 1..9, 2x2 windows, stride 2: out 2x2, one padding row/column after the input.
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const y = poolOps.avgPool(x, 2, 2, "same");
  const dx = grad((x) => poolOps.avgPool(x, 2, 2, "same"))(x);
  const [got, dgot] = await Promise.all([y.data(), dx.data()]);
  // windows {1,2,4,5}, {3,6}, {7,8}, {9}
  assertEquals([...got], [3, 4.5, 7.5, 9]);
  assertEquals([...dgot], [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
  for (const t of [x, y, dx]) t.dispose();
});

Deno.test("pool shape errors name the problem", () =>
  tidy(() => {
    const x = fillTensor([2, 4, 4, 3], 1);
    const cases: [() => unknown, RegExp][] = [
      [
        () => poolOps.maxPool(x, 5, 1, "valid"),
        /maxPool: the height of the window \(5\) is larger than the input's \(4\)/,
      ],
      [() => poolOps.avgPool(x, [2, 6], 1, "valid"), /avgPool: the width of the window \(6\) is larger/],
      [() => poolOps.maxPool(x, 2, 0, "valid"), /maxPool: strides must be a positive integer.*got 0/],
      [() => poolOps.avgPool(x, 0, 1, "same"), /avgPool: filterSize must be a positive integer.*got 0/],
      [
        () => poolOps.maxPool(fillTensor([4, 4, 3], 1), 2, 2, "valid"),
        /maxPool: x must be rank 4, got rank 3/,
      ],
    ];
    for (const [f, message] of cases) {
      const error = assertThrows(f, ShapeError);
      if (!message.test(error.message)) throw new Error(`'${error.message}' does not match ${message}`);
    }
  }));
