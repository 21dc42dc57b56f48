/**
 * The seeded train/validation split (deterministic, disjoint, complete, the
 * sizes asked for, rows kept paired) and mini-batches (every row once).
 */
import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import fc from "fast-check";
import { batches, type Split, trainValidationSplit } from "../../datasets/mod.ts";

/** n examples whose input row is [i, i + 0.5] and whose target is i. */
function indexed(n: number): Split {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) x.set([i, i + 0.5], 2 * i);
  return {
    x: { data: x, shape: [n, 2], dtype: "float32" },
    y: { data: Int32Array.from({ length: n }, (_, i) => i), shape: [n], dtype: "int32" },
  };
}

/** The example indices of a split, checking that inputs and targets still pair up. */
function ids(s: Split): number[] {
  const out = [...s.y.data];
  out.forEach((id, r) => assertEquals([s.x.data[2 * r], s.x.data[2 * r + 1]], [id, id + 0.5]));
  return out;
}

Deno.test("split: sizes, disjoint, complete, order kept, deterministic per seed", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 300 }),
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      fc.integer(),
      (n, fraction, seed) => {
        const set = indexed(n);
        const { train, validation } = trainValidationSplit(set, { validationSplit: fraction, seed });
        const v = ids(validation);
        const t = ids(train);
        assertEquals(v.length, Math.min(n - 1, Math.max(1, Math.round(n * fraction))));
        assertEquals(t.length + v.length, n);
        assertEquals([...t, ...v].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
        assertEquals(t, [...t].sort((a, b) => a - b));
        assertEquals(ids(trainValidationSplit(set, { validationSplit: fraction, seed }).validation), v);
        assertEquals(train.x.shape, [t.length, 2]);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("split: other seeds pick other examples; the default holds out 20%; bad input is refused", () => {
  const set = indexed(1000);
  const a = ids(trainValidationSplit(set, { seed: 1 }).validation);
  const b = ids(trainValidationSplit(set, { seed: 2 }).validation);
  assertEquals(a.length, 200);
  assertNotEquals(a, b);
  assert(a.some((id) => id < 500) && a.some((id) => id >= 500), "the held-out part is spread over the set");
  assertThrows(() => trainValidationSplit(set, { validationSplit: 1 }), RangeError, "(0, 1)");
  assertThrows(() => trainValidationSplit(indexed(1)), RangeError, "at least 2");
  const mismatched = { ...set, y: { ...set.y, shape: [999] } };
  assertThrows(() => trainValidationSplit(mismatched), RangeError, "row for row");
});

Deno.test("batches: every row once, in order or shuffled by seed; the remainder kept or dropped", () => {
  const set = indexed(10);
  const inOrder = [...batches(set, { batchSize: 4 })];
  assertEquals(inOrder.map((b) => b.x.shape), [[4, 2], [4, 2], [2, 2]]);
  assertEquals(inOrder.flatMap(ids), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const shuffled = [...batches(set, { batchSize: 3, shuffle: true, seed: 5 })].flatMap(ids);
  assertNotEquals(shuffled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals([...shuffled].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals([...batches(set, { batchSize: 3, shuffle: true, seed: 5 })].flatMap(ids), shuffled);
  assertEquals([...batches(set, { batchSize: 4, dropRemainder: true })].length, 2);
  assertThrows(() => [...batches(set, { batchSize: 0 })], RangeError, "batchSize");
});
