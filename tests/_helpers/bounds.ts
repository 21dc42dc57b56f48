/**
 * Error bounds of the unary kernels, from WGSL's accuracy of its builtins and
 * a count of float32 roundings (U = 2⁻²⁴ relative each; one ULP ≤ 2U):
 * exp 3 + 2|x| ULP, log 3 ULP (2⁻²¹ absolute on [0.5, 2]), division 2.5 ULP,
 * sqrt inherited from 1/inverseSqrt (2 + 2.5 ULP), tanh from sinh/cosh. One
 * row per op (a missing row does not compile); the fused GEMM epilogue and the
 * elementwise tests share them. Then the row-wise softmax's, which the softmax
 * and loss tests share.
 */
import type { UnaryOp } from "../../shaders/elementwise.ts";
import type { Arr } from "../_reference/array.ts";
import { rowStats } from "../_reference/softmax.ts";
import { U } from "./check_op.ts";

/** Relative error of WGSL's exp at x, in units of U. */
export const expUlps = (x: number): number => 2 * (3 + 2 * Math.abs(x));

/** tanh = sinh/cosh = (eˣ - e⁻ˣ)/(eˣ + e⁻ˣ): both exps' errors over cosh, an absolute error (x clamped to ±15). */
export const tanhAbs = (x: number): number => (4 * (3 + 2 * Math.min(Math.abs(x), 15)) + 6) * U;

/** elu(x ≤ 0) = α(eˣ - 1): exp's error scaled by αeˣ, then two roundings. */
const eluAbs = (x: number, y: number, a: number) => a * expUlps(x) * U * Math.exp(x) + 2 * U * Math.abs(y);

/** Bounds of one unary op. */
export interface UnaryBound {
  /** Allowed |f_gpu(x) - f(x)| at input x with exact output y. */
  forward: (x: number, y: number, alpha: number) => number;
  /** Allowed error of dx = c·f'(x): mag = |c·f'(x)|, c the cotangent, y the exact output. */
  grad: (mag: number, x: number, y: number, c: number, alpha: number) => number;
  /** max |f'|: how much of an input error reaches the output (the GEMM epilogue's z error). */
  lipschitz: (alpha: number) => number;
}

const exact = () => 0;
const one = () => 1;

export const UNARY_BOUNDS: Record<UnaryOp, UnaryBound> = {
  neg: { forward: exact, grad: exact, lipschitz: one },
  exp: {
    forward: (x, y) => expUlps(x) * U * Math.abs(y),
    grad: (mag, x) => (expUlps(x) + 1) * U * mag, // dy·y: y's error, one product
    lipschitz: () => Infinity,
  },
  log: {
    forward: (x, y) => (x >= 0.5 && x <= 2 ? 2 ** -21 : 6 * U * Math.abs(y)),
    grad: (mag) => 5 * U * mag, // dy / x: one division
    lipschitz: () => Infinity,
  },
  sqrt: {
    forward: (_, y) => 9 * U * Math.abs(y),
    grad: (mag) => 14 * U * mag, // dy / (2y): y's 9U, one division
    lipschitz: () => Infinity,
  },
  square: { forward: (_, y) => U * Math.abs(y), grad: (mag) => U * mag, lipschitz: () => Infinity },
  abs: { forward: exact, grad: exact, lipschitz: one },
  relu: { forward: exact, grad: exact, lipschitz: one },
  // y = 1/(1 + e), e = e⁻ˣ: relative error ≤ (1 - y)·exp's + U (the sum) + 5U (the division). Its
  // derivative dy·y·(1 - y) is formed from that y: |1 - 2y|·δy ≤ y(1 - y)·exp's + 6U·y, plus 3 roundings.
  sigmoid: {
    forward: (x, y) => (expUlps(x) * (1 - y) + 6) * U * Math.abs(y),
    grad: (mag, x, y, c) => (expUlps(x) + 3) * U * mag + 6 * U * Math.abs(c * y),
    lipschitz: () => 0.25,
  },
  // dy(1 - y²) from y: y's absolute error, doubled, plus two roundings.
  tanh: {
    forward: (x, y) => tanhAbs(x) + 2 * U * Math.abs(y),
    grad: (mag, x, _, c) => 2 * U * mag + (2 * tanhAbs(x) + 2 * U) * Math.abs(c),
    lipschitz: one,
  },
  elu: {
    forward: (x, y, a) => (x > 0 ? 0 : eluAbs(x, y, a)),
    grad: (mag, x, y, c, a) => (x > 0 ? 0 : 2 * U * mag + eluAbs(x, y, a) * Math.abs(c)), // dy·(y + α)
    lipschitz: (a) => Math.max(1, a),
  },
  leakyRelu: {
    forward: (_, y) => U * Math.abs(y),
    grad: (mag) => U * mag,
    lipschitz: (a) => Math.max(1, Math.abs(a)),
  },
  step: { forward: exact, grad: exact, lipschitz: () => Infinity },
  reciprocal: {
    forward: (_, y) => 5 * U * Math.abs(y),
    grad: (mag) => 12 * U * mag, // -dy·y·y: y's 5U twice, two products
    lipschitz: () => Infinity,
  },
};

/**
 * Per element of z [rows, C]: softmax's relative error ρ and logSoftmax's
 * absolute error δ. exp(d_j) errs by (expUlps(d_j) + |d_j|)·U relative (d_j's
 * own rounding passes through exp); s by C·U plus the e_j's errors weighted by
 * p_j; log s by s's relative error plus log's own.
 */
export function rowErrors(z: Arr): { rho: Float64Array; delta: Float64Array; sErr: Float64Array } {
  const c = z.shape[z.shape.length - 1], rows = z.data.length / c;
  const rho = new Float64Array(z.data.length), delta = new Float64Array(z.data.length);
  const sErr = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const { m, s } = rowStats(z, r);
    const d = Array.from({ length: c }, (_, j) => z.data[r * c + j] - m);
    const eErr = d.map((dj) => (expUlps(dj) + Math.abs(dj)) * U);
    // relative error of s: C roundings, and the e_j's weighted by their share p_j = e_j / s
    sErr[r] = c * U + d.reduce((acc, dj, j) => acc + (Math.exp(dj) / s) * eErr[j], 0);
    const logS = Math.log(s), logErr = s <= 2 ? 2 ** -21 : 6 * U * logS;
    for (let j = 0; j < c; j++) {
      rho[r * c + j] = eErr[j] + sErr[r] + 5 * U;
      delta[r * c + j] = U * Math.abs(d[j]) + sErr[r] + logErr + 2 * U * Math.abs(d[j] - logS);
    }
  }
  return { rho, delta, sErr };
}
