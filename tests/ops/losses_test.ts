/**
 * Property tests of the losses (mean-reduced, as TensorFlow.js does), with
 * gradients with respect to both predictions/logits and float labels, and
 * logits of ±1e4 that must give finite, correct losses and gradients. Then
 * fixed tests: confident logits of 1e4 give a loss of ~0, not float32 noise of
 * the logits' size; a sparse label out of range is reported.
 * n = elements, rows = examples, C = classes (the last axis).
 */
import fc from "fast-check";
import { assert, assertAlmostEquals, assertRejects } from "@std/assert";
import * as wg from "../../mod.ts";
import type * as lossOps from "../../src/ops/losses.ts";
import { type Arr, arr, fsum } from "../_reference/array.ts";
import * as ref from "../_reference/losses.ts";
import { rowStats } from "../_reference/softmax.ts";
import {
  dim,
  EXTREMES,
  fill,
  Random,
  type Sampler,
  shape,
  uniform,
  withExtremes,
} from "../_helpers/arbitrary.ts";
import { rowErrors } from "../_helpers/bounds.ts";
import { type Case, checkOp, described, type GradContext, type OpSpec, U } from "../_helpers/check_op.ts";

type Loss = keyof typeof lossOps;

/** Two inputs of one shape: labels from `labels`, predictions (or logits) from `preds`. */
function pairs(labels: Sampler, preds: (label: number, rng: Random) => number): fc.Arbitrary<Case<null>> {
  return fc.tuple(shape(0, 3, 2500), fc.integer()).map(([s, seed]) => {
    const rng = new Random(seed);
    const y = fill(s, labels, rng);
    return described({ xs: [y, { ...y, data: y.data.map((v) => preds(v, rng)) }], params: null, seed });
  });
}

/** Examples: the elements of the logits without the class axis. */
const rowsOf = (z: Arr) => z.data.length / (z.shape.at(-1) ?? 1);

/** Logits [..., C] with ±1e4 mixed in, and label rows: one-hot, or probabilities (as label smoothing gives). */
function softmaxCases(sparse: boolean): fc.Arbitrary<Case<null>> {
  return fc.tuple(shape(0, 2, 100), dim, fc.integer()).map(([rows, c, seed]) => {
    const rng = new Random(seed);
    const z = fill([...rows, c], withExtremes(uniform(-8, 8), EXTREMES), rng);
    // a class: half the time the row's largest logit (a confident, right prediction: loss ~0)
    const label = (r: number) => {
      const row = z.data.subarray(r * c, (r + 1) * c);
      return rng.next() < 0.5 ? row.indexOf(Math.max(...row)) : rng.int(c);
    };
    const labels = Array.from({ length: rowsOf(z) }, (_, r) => label(r));
    if (sparse) return described({ xs: [arr(rows, labels, "int32"), z], params: null, seed });
    const y = arr(z.shape);
    for (let r = 0; r < y.data.length / c; r++) {
      const row = y.data.subarray(r * c, (r + 1) * c);
      if (rng.next() < 0.5) row[labels[r]] = 1;
      else {
        row.forEach((_, j) => (row[j] = rng.next()));
        const total = fsum(row);
        row.forEach((v, j) => (row[j] = Math.fround(v / total)));
      }
    }
    return described({ xs: [y, z], params: null, seed });
  });
}

/**
 * Error of the per-example softmax cross-entropy Σ_j y_j·(lse - z_j), formed stably as
 * Σ_j y_j·(m - z_j) + Σy·log s: C + 3 roundings of the non-negative terms, and Σy times log s's
 * error (s's relative error and log's own). Labels are non-negative here, so the terms do not cancel.
 */
function softmaxLossErrors(labels: Arr, z: Arr, sparse: boolean): { err: number[]; loss: number[] } {
  const c = z.shape.at(-1)!, { sErr } = rowErrors(z);
  const err: number[] = [], loss: number[] = [];
  for (let r = 0; r < rowsOf(z); r++) {
    const { m, s } = rowStats(z, r);
    const y = (j: number) => sparse ? (labels.data[r] === j ? 1 : 0) : labels.data[r * c + j];
    let terms = 0, ySum = 0;
    for (let j = 0; j < c; j++) [terms, ySum] = [terms + y(j) * (m - z.data[r * c + j]), ySum + y(j)];
    const logErr = sErr[r] + (s <= 2 ? 2 ** -21 : 6 * U * Math.log(s));
    const l = terms + ySum * Math.log(s);
    loss.push(l);
    err.push((c + 3) * U * terms + ySum * logErr + 2 * U * l);
  }
  return { err, loss };
}

/** The mean of per-example losses with errors `err`: their mean, and rows + 2 roundings (sum, 1/rows, product). */
const meanErr = ({ err, loss }: { err: number[]; loss: number[] }) =>
  (fsum(err) + (loss.length + 2) * U * fsum(loss.map(Math.abs))) / loss.length;

/** d loss / d z_j = dLoss·(p_j·Σy - y_j): p's relative error ρ, two roundings, and the mean's scale (2U). */
function softmaxGradTol(sparse: boolean) {
  return ({ case: c, input, cotangent, index, mag }: GradContext<null>) => {
    const [labels, z] = c.xs, C = z.shape.at(-1)!, { rho, delta } = rowErrors(z), rows = rowsOf(z);
    const dLoss = Math.abs(cotangent[0]) / rows;
    return Float64Array.from(index, (j, e) => {
      if (input === 0) return delta[j] * dLoss + 3 * U * mag[e]; // d/dy_j = -logSoftmax_j·dLoss
      const r = Math.floor(j / C);
      const ySum = sparse ? 1 : fsum(labels.data.subarray(r * C, (r + 1) * C));
      const p = Math.exp(z.data[j] - rowStats(z, r).m) / rowStats(z, r).s;
      return dLoss * p * ySum * (rho[j] + U) + 4 * U * mag[e];
    });
  };
}

const LOSS_TESTS: Record<Loss, OpSpec<null>> = {
  // n + 5 roundings of non-negative terms: (p - y) and its square, the sum of n, 1/n and the product.
  // The gradient 2(p - y)·dy/n: the mean's scale (2U), square's product, the difference.
  meanSquaredError: {
    name: "meanSquaredError",
    cases: pairs(withExtremes(uniform(-4, 4), EXTREMES), (_, rng) => Math.fround(8 * rng.next() - 4)),
    gpu: ([y, p]) => wg.losses.meanSquaredError(y, p),
    ref: ([y, p]) => ref.meanSquaredError(y, p),
    forwardTol: ({ case: c, want }) => (c.xs[0].data.length + 5) * U * want.data[0],
    gradTol: ({ mag }) => mag.map((m) => 5 * U * m),
  },
  // predictions at least 1/100 from their labels: |p - y| has no kink in reach of the differences
  absoluteDifference: {
    name: "absoluteDifference",
    cases: pairs(withExtremes(uniform(-4, 4), EXTREMES), (y, rng) => {
      const d = 4 * rng.next() - 2;
      return Math.fround(y + (Math.abs(d) < 0.01 ? 0.01 : d));
    }),
    gpu: ([y, p]) => wg.losses.absoluteDifference(y, p),
    ref: ([y, p]) => ref.absoluteDifference(y, p),
    forwardTol: ({ case: c, want }) => (c.xs[0].data.length + 4) * U * want.data[0],
    gradTol: ({ mag }) => mag.map((m) => 2 * U * m),
  },
  // Per element: the logistic loss's bound (see elementwise_test.ts: 3U per term, log's 2⁻²¹, exp's ≤ 8U),
  // then the mean of n non-negative terms. d/dz = (σ(z) - y)·dy/n: σ's absolute error ≤ 12U.
  sigmoidCrossEntropy: {
    name: "sigmoidCrossEntropy",
    cases: pairs(
      withExtremes(uniform(0, 1), [0, 1]),
      (_, rng) => withExtremes(uniform(-8, 8), EXTREMES)(rng),
    ),
    gpu: ([y, z]) => wg.losses.sigmoidCrossEntropy(y, z),
    ref: ([y, z]) => ref.sigmoidCrossEntropy(y, z),
    forwardTol: ({ case: c, want }) => {
      const [y, z] = c.xs, n = y.data.length;
      const each = z.data.map((a, i) =>
        3 * U * (Math.max(a, 0) + Math.abs(a * y.data[i]) + 1) + 2 ** -21 + 8 * U
      );
      return fsum(each) / n + (n + 2) * U * want.data[0];
    },
    gradTol: ({ case: c, input, cotangent, mag }) => {
      const n = c.xs[0].data.length;
      return mag.map((m) => (input === 1 ? 12 * U * Math.abs(cotangent[0]) / n : 0) + 4 * U * m);
    },
  },
  softmaxCrossEntropy: {
    name: "softmaxCrossEntropy",
    cases: softmaxCases(false),
    gpu: ([y, z]) => wg.losses.softmaxCrossEntropy(y, z),
    ref: ([y, z]) => ref.softmaxCrossEntropy(y, z),
    forwardTol: ({ case: c }) => meanErr(softmaxLossErrors(c.xs[0], c.xs[1], false)),
    gradTol: softmaxGradTol(false),
  },
  sparseSoftmaxCrossEntropy: {
    name: "sparseSoftmaxCrossEntropy",
    cases: softmaxCases(true),
    gpu: ([y, z]) => wg.losses.sparseSoftmaxCrossEntropy(y, z),
    ref: ([y, z]) => ref.sparseSoftmaxCrossEntropy(y, z),
    forwardTol: ({ case: c }) => meanErr(softmaxLossErrors(c.xs[0], c.xs[1], true)),
    gradTol: softmaxGradTol(true),
  },
};

/** Logits that are all extreme (±1e4, ±100, 0), against each kind of label, in every run. */
const EXTREME_LOGITS = [[1e4, -1e4, 0], [1e4, 1e4, -1e4], [-1e4, 100, -100], [100, 1e4 - 1, 1e4]];
const exampleOf = (xs: Arr[], seed: number) => described({ xs, params: null, seed });
const EXAMPLES: Partial<Record<Loss, Case<null>[]>> = {
  sigmoidCrossEntropy: [0, 1, 0.5].map((label, seed) =>
    exampleOf([arr([4, 3], Array(12).fill(label)), arr([4, 3], EXTREME_LOGITS.flat())], seed)
  ),
  softmaxCrossEntropy: [[1, 0, 0], [0, 0.5, 0.5]].map((row, seed) =>
    exampleOf([arr([4, 3], Array(4).fill(row).flat()), arr([4, 3], EXTREME_LOGITS.flat())], seed)
  ),
  sparseSoftmaxCrossEntropy: [[0, 1, 2, 2], [1, 2, 0, 1]].map((labels, seed) =>
    exampleOf([arr([4], labels, "int32"), arr([4, 3], EXTREME_LOGITS.flat())], seed)
  ),
};

for (const [loss, spec] of Object.entries(LOSS_TESTS) as [Loss, OpSpec<null>][]) {
  Deno.test(`${spec.name}: forward = float64 reference, gradients = central differences`, () =>
    checkOp({ ...spec, examples: EXAMPLES[loss] }));
}

// A training step differentiates the logits only: the mean's gradient is then folded into the kernel's dz
// (one tape node, src/ops/losses.ts), a path the test above, which also differentiates the labels, skips.
Deno.test("softmaxCrossEntropy, logits only: forward = float64 reference, gradients = central differences", () =>
  checkOp({ ...LOSS_TESTS.softmaxCrossEntropy, wrt: [1], examples: EXAMPLES.softmaxCrossEntropy }));

Deno.test("softmax cross-entropy: confident logits of 1e4 give a loss of ~0, wrong ones ~1e4", async () => {
  const z = wg.tensor([[1e4, -1e4, 0], [1e4, 1e4 - 1, 0]]);
  const dense = wg.tensor([[1, 0, 0], [0, 1, 0]]), sparse = wg.tensor(new Int32Array([0, 1]), [2]);
  const wrong = wg.tensor([[0, 1, 0], [0, 0, 1]]);
  const losses = [
    wg.losses.softmaxCrossEntropy(dense, z),
    wg.losses.sparseSoftmaxCrossEntropy(sparse, z),
    wg.losses.softmaxCrossEntropy(wrong, z),
  ];
  const [a, b, c] = (await Promise.all(losses.map((t) => t.data()))).map((d) => d[0]);
  // row 0: log(1 + e^-1e4 + e^-2e4) = 0; row 1: 1 + log(1 + e^-1) (label one below the max)
  const want = (0 + 1 + Math.log1p(Math.exp(-1))) / 2;
  assertAlmostEquals(a, want, 4 * U * want);
  assertAlmostEquals(b, want, 4 * U * want);
  assertAlmostEquals(c, (2e4 + 1e4 + Math.log1p(Math.exp(-1))) / 2, 1e-3);
  [z, dense, sparse, wrong, ...losses].forEach((t) => t.dispose());
});

Deno.test("sparseSoftmaxCrossEntropy: a label out of range is reported at the readback", async () => {
  const z = wg.tensor([[1, 2, 3], [4, 5, 6]]);
  const labels = wg.tensor(new Int32Array([0, 3]), [2]);
  const loss = wg.losses.sparseSoftmaxCrossEntropy(labels, z);
  await assertRejects(() => loss.data(), wg.GPUAssertionError, "label 3 of example 1 is out of range [0, 3)");
  [z, labels, loss].forEach((t) => t.dispose());
});

// The batch's mean is taken inside the kernel up to 65,536 logits (one workgroup: 131 rows are 3 per lane
// for some lanes), by a second, reducing dispatch above that (1031 x 67 = 69,077).
for (const [rows, c] of [[131, 10], [1031, 67]]) {
  Deno.test(`sparseSoftmaxCrossEntropy and its gradient at ${rows} x ${c} = float64 softmax - onehot`, async () => {
    const rng = new Random(rows);
    const z = Array.from({ length: rows * c }, () => rng.normal() * 4);
    const labels = Int32Array.from({ length: rows }, () => rng.int(c));
    const logits = wg.tensor(z, [rows, c]), y = wg.tensor(labels, [rows]);
    const { value, grad } = wg.valueAndGrad((t: wg.Tensor) => wg.losses.sparseSoftmaxCrossEntropy(y, t))(
      logits,
    );
    const [loss, dz] = [(await value.data())[0], await grad.data()];
    const want: number[] = [], rowLosses: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = z.slice(r * c, (r + 1) * c);
      const m = Math.max(...row), s = fsum(row.map((v) => Math.exp(v - m)));
      rowLosses.push(m - row[labels[r]] + Math.log(s));
      row.forEach((v, j) => want.push((Math.exp(v - m) / s - (j === labels[r] ? 1 : 0)) / rows));
    }
    const wantLoss = fsum(rowLosses) / rows;
    assertAlmostEquals(loss, wantLoss, 1e-5 * wantLoss);
    let worst = 0;
    dz.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]))));
    assert(worst < 1e-6 / rows, `dz: worst absolute error ${worst}`);
    [logits, y, value, grad].forEach((t) => t.dispose());
  });
}
