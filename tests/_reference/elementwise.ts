/**
 * Float64 references of the elementwise ops: one row per op of the UNARY and
 * BINARY tables in shaders/elementwise.ts (a missing row does not compile),
 * and the broadcasting loop of the binary ops.
 */
import type { BinaryOp, UnaryOp } from "../../shaders/elementwise.ts";
import { type Arr, arr, broadcastIndexMap, broadcastShape, map } from "./array.ts";

/** f(x) for each unary op; `alpha` is the slope of leakyRelu, the scale of elu, step's value at x <= 0. */
export const UNARY_REF: Record<UnaryOp, (x: number, alpha: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  square: (x) => x * x,
  abs: (x) => Math.abs(x),
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  elu: (x, alpha) => (x > 0 ? x : alpha * Math.expm1(x)),
  leakyRelu: (x, alpha) => (x > 0 ? x : alpha * x),
  step: (x, alpha) => (x > 0 ? 1 : alpha),
  reciprocal: (x) => 1 / x,
};

/** f(a, b) for each binary op; sigmoidCrossEntropy is the logistic loss of logits a against labels b. */
export const BINARY_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  // max(a, 0) - a·b + log(1 + e^-|a|): the same stable form as the kernel, in float64.
  sigmoidCrossEntropy: (a, b) => Math.max(a, 0) - a * b + Math.log1p(Math.exp(-Math.abs(a))),
};

/** y = f(x) elementwise. */
export function unary(op: UnaryOp, x: Arr, alpha = 0): Arr {
  return map(x, (v) => UNARY_REF[op](v, alpha));
}

/** out = f(a, b) over the broadcast shape of a and b. */
export function binary(op: BinaryOp, a: Arr, b: Arr): Arr {
  return broadcastWith(a, b, BINARY_REF[op]);
}

/** out = f(a, b) with NumPy broadcasting, for any scalar function f. */
export function broadcastWith(a: Arr, b: Arr, f: (a: number, b: number) => number): Arr {
  const out = arr(broadcastShape(a.shape, b.shape));
  const ia = broadcastIndexMap(out.shape, a.shape), ib = broadcastIndexMap(out.shape, b.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[ia[i]], b.data[ib[i]]);
  return out;
}
