/**
 * dropout: the mask is the GPU hash of (seed, index) that the reference
 * predicts bit for bit; kept values are scaled by 1/(1 - rate); the gradient
 * reuses the forward's mask; the mean is preserved within statistical
 * tolerance; rate 0 is the identity; bad rates are rejected.
 */
import fc from "fast-check";
import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { valueAndGrad } from "../../src/autograd/gradients.ts";
import { DTypeError } from "../../src/errors.ts";
import { fill, tensor } from "../../src/ops/creation.ts";
import * as dropoutOps from "../../src/ops/dropout.ts";
import { Random } from "../../src/random.ts";
import { kept } from "../_reference/dropout.ts";
import "../_helpers/gpu.ts";

const { dropout } = dropoutOps;

/** Every export of src/ops/dropout.ts is tested here (an op added without a test does not compile). */
const DROPOUT_TESTS: Record<keyof typeof dropoutOps, string> = {
  dropout: "dropout: forward and gradient = x·mask/(1 - rate) with the reference's mask, bit for bit",
};

Deno.test(DROPOUT_TESTS.dropout, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3000 }),
      fc.constantFrom(0.1, 0.25, 0.5, 0.9, 0.999),
      fc.integer(),
      async (n, rate, seed) => {
        const rng = new Random(seed);
        const xs = Float32Array.from({ length: n }, () => rng.next() + 0.5); // nonzero
        const dys = Float32Array.from({ length: n }, () => rng.next() - 0.5);
        const x = tensor(xs), dy = tensor(dys);
        const { value, grad } = valueAndGrad((x) => dropout(x, rate, seed))(x, dy);
        const [y, dx] = await Promise.all([value.data(), grad.data()]);
        const scale = Math.fround(1 / (1 - rate));
        for (let i = 0; i < n; i++) {
          const keep = kept(seed, i, rate);
          if (
            y[i] !== (keep ? Math.fround(xs[i] * scale) : 0) ||
            dx[i] !== (keep ? Math.fround(dys[i] * scale) : 0)
          ) {
            throw new Error(
              `element ${i} of ${n}, rate ${rate}, seed ${seed}: y ${y[i]}, dx ${dx[i]}, kept ${keep}`,
            );
          }
        }
        for (const t of [x, dy, value, grad]) t.dispose();
      },
    ),
    { numRuns: 12 },
  );
});

Deno.test("dropout preserves the mean and drops a fraction rate, within 5 standard deviations", async () => {
  const n = 200_000;
  const x = fill([n], 1);
  for (const rate of [0.1, 0.5, 0.8]) {
    const y = await dropout(x, rate, 1234).data();
    let sum = 0, zeros = 0;
    for (const v of y) {
      sum += v;
      if (v === 0) zeros++;
    }
    // y is 0 or 1/(1-rate): mean 1, variance rate/(1-rate); zeros ~ Binomial(n, rate)
    const meanSd = Math.sqrt(rate / (1 - rate) / n), zeroSd = Math.sqrt(rate * (1 - rate) / n);
    assert(Math.abs(sum / n - 1) < 5 * meanSd, `rate ${rate}: mean ${sum / n}`);
    assert(Math.abs(zeros / n - rate) < 5 * zeroSd, `rate ${rate}: dropped ${zeros / n}`);
  }
  x.dispose();
});

Deno.test("dropout: one seed, one mask; other seeds and unseeded calls give independent masks", async () => {
  const n = 50_000, rate = 0.5;
  const x = fill([n], 1);
  const [a, b, c, d, e] = await Promise.all(
    [dropout(x, rate, 7), dropout(x, rate, 7), dropout(x, rate, 8), dropout(x, rate), dropout(x, rate)]
      .map((t) => t.data()),
  );
  assertEquals(a, b);
  // Independent masks agree on a fraction rate² + (1 - rate)² = 1/2 of the elements (sd 0.0022 here).
  for (const [p, q] of [[a, c], [d, e], [a, d]]) {
    assertNotEquals(p, q);
    let same = 0;
    for (let i = 0; i < n; i++) if ((p[i] === 0) === (q[i] === 0)) same++;
    assert(Math.abs(same / n - 0.5) < 0.011, `masks agree on ${same / n} of the elements`);
  }
  x.dispose();
});

Deno.test("dropout with rate 0 is the identity, and so is its gradient", async () => {
  const x = tensor([1, -2, 3.5, 0]), dy = tensor([0.5, 0.25, -1, 2]);
  const { value, grad } = valueAndGrad((x) => dropout(x, 0))(x, dy);
  const [y, dx] = await Promise.all([value.data(), grad.data()]);
  assertEquals([...y], [1, -2, 3.5, 0]);
  assertEquals([...dx], [0.5, 0.25, -1, 2]);
  for (const t of [x, dy, value, grad]) t.dispose();
});

Deno.test("dropout rejects a rate outside [0, 1) and non-float32 input", () => {
  const x = fill([4], 1);
  for (const rate of [-0.1, 1, 1.5, NaN]) {
    assertThrows(() => dropout(x, rate), RangeError, "dropout: rate must be in [0, 1)");
  }
  assertThrows(() => dropout(x, 0.5, Infinity), RangeError, "seed must be a finite number");
  const ints = fill([4], 1, "int32");
  assertThrows(() => dropout(ints, 0.5), DTypeError, "dropout: 'x' must be float32");
  x.dispose();
  ints.dispose();
});
