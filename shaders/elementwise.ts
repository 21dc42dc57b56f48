/**
 * Elementwise kernels generated from two tables: unary ops (forward and
 * derivative expressions in x, y = f(x), dy and `alpha`) and binary ops with
 * NumPy broadcasting (forward and both partials in a, b, dy). One row per op.
 * Layout: flat row-major f32 arrays; broadcasting via per-input strides (0 on
 * broadcast dimensions).
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { AT8, LINEAR_INDEX, WG_1D, wgsl } from "./_wgsl.ts";

/** Unary ops: `forward` in x and alpha; `backward` is dx in x, y, dy, alpha. */
export const UNARY = {
  neg: { forward: "-x", backward: "-dy" },
  exp: { forward: "exp(x)", backward: "dy * y" },
  log: { forward: "log(x)", backward: "dy / x" },
  sqrt: { forward: "sqrt(x)", backward: "dy / (2.0 * y)" },
  square: { forward: "x * x", backward: "2.0 * x * dy" },
  // NOTE: d|x|/dx at 0 is taken as 0 (sign(0)), as in TensorFlow.
  abs: { forward: "abs(x)", backward: "dy * sign(x)" },
  // NOTE: relu'(0) = 0, as in TensorFlow and PyTorch.
  relu: { forward: "max(x, 0.0)", backward: "select(0.0, dy, x > 0.0)" },
  // exp(-x) overflows to inf for x < -88 and 1/(1+inf) = 0: no NaN.
  sigmoid: { forward: "1.0 / (1.0 + exp(-x))", backward: "dy * y * (1.0 - y)" },
  // Clamped because some drivers compute tanh via exp and give inf/inf = NaN
  // for large |x|; tanh(15) already rounds to 1 in f32.
  tanh: { forward: "tanh(clamp(x, -15.0, 15.0))", backward: "dy * (1.0 - y * y)" },
  elu: {
    forward: "select(alpha * (exp(x) - 1.0), x, x > 0.0)",
    backward: "select(dy * (y + alpha), dy, x > 0.0)",
  },
  leakyRelu: { forward: "select(alpha * x, x, x > 0.0)", backward: "select(alpha * dy, dy, x > 0.0)" },
  // NOTE: the step function has zero derivative everywhere (undefined at 0).
  step: { forward: "select(alpha, 1.0, x > 0.0)", backward: "0.0" },
  reciprocal: { forward: "1.0 / x", backward: "-dy * y * y" },
} as const;

export type UnaryOp = keyof typeof UNARY;

/** Binary ops: `forward` in a, b; `da`/`db` are the partials times dy. */
export const BINARY = {
  add: { forward: "a + b", da: "dy", db: "dy" },
  sub: { forward: "a - b", da: "dy", db: "-dy" },
  mul: { forward: "a * b", da: "dy * b", db: "dy * a" },
  div: { forward: "a / b", da: "dy / b", db: "-dy * a / (b * b)" },
  // NOTE: on ties the gradient goes to a, as in TensorFlow.
  maximum: { forward: "max(a, b)", da: "select(0.0, dy, a >= b)", db: "select(0.0, dy, a < b)" },
  minimum: { forward: "min(a, b)", da: "select(0.0, dy, a <= b)", db: "select(0.0, dy, a > b)" },
  // Logistic loss of logits a against labels b, as max(a,0) - a·b + log(1 + e^-|a|):
  // never exp of a positive number, so no overflow for any logit.
  sigmoidCrossEntropy: {
    forward: "max(a, 0.0) - a * b + log(1.0 + exp(-abs(a)))",
    da: "dy * (1.0 / (1.0 + exp(-a)) - b)",
    db: "-dy * a",
  },
} as const;

export type BinaryOp = keyof typeof BINARY;

/** y = f(x) elementwise. */
export const unaryKernel: Kernel<{ op: UnaryOp }> = {
  name: "unary",
  uniforms: [["n", "u32"], ["alpha", "f32"]],
  bindings: () => [
    { name: "x", type: "f32", access: "read" },
    { name: "y", type: "f32", access: "read_write" },
  ],
  key: ({ op }) => op,
  source: ({ op }) => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  let x = x[i];
  let alpha = params.alpha;
  y[i] = ${UNARY[op].forward};
}`,
};

/** dx = f'(x) · dy elementwise, from x, y = f(x) and dy. */
export const unaryGradKernel: Kernel<{ op: UnaryOp }> = {
  name: "unary_grad",
  uniforms: [["n", "u32"], ["alpha", "f32"]],
  bindings: () => [
    { name: "xs", type: "f32", access: "read" },
    { name: "ys", type: "f32", access: "read" },
    { name: "dys", type: "f32", access: "read" },
    { name: "dxs", type: "f32", access: "read_write" },
  ],
  key: ({ op }) => op,
  source: ({ op }) => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  let x = xs[i];
  let y = ys[i];
  let dy = dys[i];
  let alpha = params.alpha;
  _ = x; _ = y; _ = alpha;
  dxs[i] = ${UNARY[op].backward};
}`,
};

/**
 * out = expr(a, b[, dy]) with broadcasting. `expr` is a forward expression or
 * a partial (then dy, of the output's shape, is bound too). `broadcast: false`
 * is the fast path where a, b and out have one shape.
 */
export interface BinaryVariant {
  expr: string;
  withDy: boolean;
  broadcast: boolean;
}

export const binaryKernel: Kernel<BinaryVariant> = {
  name: "binary",
  // outShape and the strides of a and b over the output's dimensions (0 where broadcast).
  uniforms: [["n", "u32"], ["rank", "u32"], ["outShape", "u32x8"], ["aStrides", "u32x8"], [
    "bStrides",
    "u32x8",
  ]],
  bindings: ({ withDy }) => [
    { name: "lhs", type: "f32", access: "read" },
    { name: "rhs", type: "f32", access: "read" },
    ...(withDy ? [{ name: "dys", type: "f32", access: "read" } as const] : []),
    { name: "out", type: "f32", access: "read_write" },
  ],
  key: ({ expr, withDy, broadcast }) => `${expr}|${withDy}|${broadcast}`,
  source: ({ expr, withDy, broadcast }) =>
    wgsl`
${LINEAR_INDEX}
${AT8}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
#if ${broadcast}
  // The outermost dimension's coordinate is what is left: no division for it.
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = params.rank - 1u; d > 0u; d--) {
    let dim = at8(params.outShape, d);
    let coord = rest % dim;
    rest = rest / dim;
    ia += coord * at8(params.aStrides, d);
    ib += coord * at8(params.bStrides, d);
  }
  ia += rest * at8(params.aStrides, 0u);
  ib += rest * at8(params.bStrides, 0u);
  let a = lhs[ia];
  let b = rhs[ib];
#else
  let a = lhs[i];
  let b = rhs[i];
#endif
#if ${withDy}
  let dy = dys[i];
#endif
  out[i] = ${expr};
}`,
};

/** Fills a buffer with one value (f32 or i32 bits). */
export const fillKernel: Kernel<void> = {
  name: "fill",
  uniforms: [["n", "u32"], ["bits", "u32"]],
  bindings: () => [{ name: "out", type: "u32", access: "read_write" }],
  source: () => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  out[i] = params.bits;
}`,
};
