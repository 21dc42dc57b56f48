/**
 * Property tests of softmax and logSoftmax over the last axis (C classes, any
 * leading shape), with logits of ±1e4 and ±100 mixed in: results and
 * gradients must be finite and right. C = the class axis, rows = the rest.
 *
 * Tolerances follow the kernel: m = max z (exact), d = z - m (one rounding,
 * U·|d|), e = exp(d) (WGSL: 3 + 2|d| ULP), s = Σe over C terms, then e/s
 * (2.5 ULP) or d - log s (log: 2⁻²¹ absolute on [0.5, 2], else 3 ULP).
 */
import fc from "fast-check";
import * as wg from "../../mod.ts";
import type * as softmaxOps from "../../src/ops/softmax.ts";
import type { Arr } from "../_reference/array.ts";
import { logSoftmax, softmax } from "../_reference/softmax.ts";
import { dim, EXTREMES, fill, Random, shape, uniform, withExtremes } from "../_helpers/arbitrary.ts";
import { expUlps, rowErrors } from "../_helpers/bounds.ts";
import { type Case, checkOp, described, type OpSpec, U } from "../_helpers/check_op.ts";

/** Logits of any leading shape and C classes, ±1e4, ±100 and 0 mixed in. */
export const logits: fc.Arbitrary<Case<null>> = fc.tuple(shape(0, 2, 100), dim, fc.integer()).map((
  [rows, c, seed],
) =>
  described({
    xs: [fill([...rows, c], withExtremes(uniform(-8, 8), EXTREMES), new Random(seed))],
    params: null,
    seed,
  })
);

/** Σ_j over each row of f(j), as one value per element of the row. */
function rowSums(z: Arr, f: (i: number) => number): Float64Array {
  const c = z.shape[z.shape.length - 1], out = new Float64Array(z.data.length);
  for (let r = 0; r < z.data.length / c; r++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += f(r * c + j);
    out.fill(s, r * c, (r + 1) * c);
  }
  return out;
}

const SOFTMAX_TESTS: Record<keyof typeof softmaxOps, OpSpec<null>> = {
  softmax: {
    name: "softmax",
    cases: logits,
    gpu: ([z]) => wg.softmax(z),
    ref: ([z]) => softmax(z),
    forwardTol: ({ case: c, want }) => {
      const { rho } = rowErrors(c.xs[0]);
      return want.data.map((p, i) => rho[i] * p);
    },
    // dx = y·(dy - S), S = Σ dy·y over the row, from the forward's y (relative error ρ): S errs by
    // Σ|dy|·y·ρ + C·U·Σ|dy·y|; then y's own ρ on |dy - S|, and two roundings.
    gradTol: ({ case: c, want, cotangent, index }) => {
      const z = c.xs[0], C = z.shape[z.shape.length - 1], { rho } = rowErrors(z), y = want.data;
      const S = rowSums(z, (i) => cotangent[i] * y[i]);
      const sErr = rowSums(z, (i) => Math.abs(cotangent[i]) * y[i] * (rho[i] + C * U));
      return Float64Array.from(index, (j) => {
        const diff = Math.abs(cotangent[j] - S[j]);
        return y[j] * (diff * (rho[j] + 2 * U) + sErr[j]);
      });
    },
  },
  logSoftmax: {
    name: "logSoftmax",
    cases: logits,
    gpu: ([z]) => wg.logSoftmax(z),
    ref: ([z]) => logSoftmax(z),
    forwardTol: ({ case: c }) => rowErrors(c.xs[0]).delta,
    // dx = dy - exp(y)·Σdy: exp(y) errs by y's δ plus exp's ULPs, Σdy by C·U·Σ|dy|; two roundings.
    gradTol: ({ case: c, want, cotangent, index }) => {
      const z = c.xs[0], C = z.shape[z.shape.length - 1], { delta } = rowErrors(z);
      const S = rowSums(z, (i) => cotangent[i]), absS = rowSums(z, (i) => Math.abs(cotangent[i]));
      return Float64Array.from(index, (j) => {
        const p = Math.exp(want.data[j]), dx = Math.abs(cotangent[j] - p * S[j]);
        return p * (Math.abs(S[j]) * (delta[j] + (expUlps(want.data[j]) + 1) * U) + C * U * absS[j]) +
          2 * U * dx;
      });
    },
  },
};

for (const spec of Object.values(SOFTMAX_TESTS)) {
  Deno.test(`${spec.name}: forward = float64 reference, gradient = central differences, logits to ±1e4`, () =>
    checkOp({
      ...spec,
      examples: [
        // rows of ties at 1e4, one logit far above the rest, and -1e4 against 0
        [[1e4, 1e4, 1e4], [1e4, 0, -1e4], [-1e4, -1e4, 0], [100, -100, 0]],
        [[1e4, 1e4 - 1, 1e4 - 2, -1e4]],
      ].map((rows, seed) =>
        described({
          xs: [{ shape: [rows.length, rows[0].length], data: Float64Array.from(rows.flat()) }],
          params: null,
          seed,
        })
      ),
    }));
}
