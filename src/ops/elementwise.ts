/**
 * Elementwise ops, generated from the UNARY and BINARY tables in
 * shaders/elementwise.ts; each op records its gradient rule from the same row.
 */
import {
  BINARY,
  binaryKernel,
  type BinaryOp,
  unaryGradKernel,
  unaryKernel,
  type UnaryOp,
} from "../../shaders/elementwise.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { activationGradKernel, type FusedActivation } from "../../shaders/matmul.ts";
import { isWatched, record } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { broadcastShapes, formatShape, type Shape, shapesEqual, stridesOf } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType, type TensorOrNumber } from "./_util.ts";
import { filledValue } from "./creation.ts";
import { emptyWindowed } from "./_uniform_window.ts";
import { sumTo } from "./reduce.ts";

// ---- unary ----

function unary(op: UnaryOp, input: Tensor, alpha = 0): Tensor {
  const x = asTensor(input);
  checkDType(op, "x", x);
  const y = empty(x.shape);
  if (y.size > 0) {
    runtime().dispatch(unaryKernel, { op }, [x.buffer, y.buffer], { n: y.size, alpha }, grid1D(y.size));
  }
  // dx = f'(x)·dy, from the table's derivative expression
  return record(y, [x], (dy, [x, y]) => [unaryGrad(op, x, y, dy, alpha)], [x, y]);
}

function unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, alpha: number): Tensor {
  return unaryGradFrom(op, x, y, dy, alpha);
}

/**
 * @internal dz = act'·dy for an activation fused into a GEMM epilogue, from
 * its output y alone.
 * NOTE: every fusable activation's derivative can be written in y alone
 * (x > 0 ⟺ y > 0 for relu, elu, leakyRelu), so y stands in for x.
 */
export function activationGradFromOutput(
  activation: Exclude<FusedActivation, "linear">,
  y: Tensor,
  dy: Tensor,
  alpha: number,
): Tensor {
  const gpu = runtime();
  // On llvmpipe y and dy are read from texture copies, 4 floats a texel: a texel costs about a quarter
  // of one float's storage load (the MLP's relu' 1.8 → ~0.7 ms at batch 256).
  if (texturesPay(dy)) {
    const dz = emptyWindowed(dy.shape); // a conv layer's dz may be read through uniform windows next
    gpu.dispatch(
      activationGradKernel,
      { activation },
      [gpu.texture(dy.buffer, dy.size), gpu.texture(y.buffer, y.size), dz.buffer],
      { total: dy.size / 4, alpha, columnTexels: 0 },
      grid1D(dy.size / 4),
    );
    return dz;
  }
  return unaryGradFrom(activation, y, y, dy, alpha);
}

/** Rows up to which one invocation per 4 columns walks a dense layer's dz for its bias gradient. */
const BIAS_GRAD_MAX_ROWS = 4096;

/**
 * @internal [dz, dbias] for an activation and a bias [N] fused into a GEMM
 * epilogue: dz = act'(y)·dy (as activationGradFromOutput) and its sums over
 * all but the last axis. On llvmpipe, where a dispatch costs ~0.05 ms whatever
 * its size, one kernel does both for up to BIAS_GRAD_MAX_ROWS rows.
 */
export function activationAndBiasGrads(
  activation: Exclude<FusedActivation, "linear">,
  y: Tensor,
  dy: Tensor,
  alpha: number,
  bias: Tensor,
): [Tensor, Tensor] {
  const n = bias.size, rows = dy.size / n;
  // (n / 32 workgroups of 8 lanes: within the 65,535 a dispatch may have along x)
  if (!texturesPay(dy) || n % 4 !== 0 || rows > BIAS_GRAD_MAX_ROWS || n > 65535 * 32) {
    const dz = activationGradFromOutput(activation, y, dy, alpha);
    return [dz, sumTo(dz, bias.shape)];
  }
  const gpu = runtime();
  const dz = emptyWindowed(dy.shape);
  const dBias = empty(bias.shape);
  gpu.dispatch(
    activationGradKernel,
    { activation, biasGrad: true },
    [gpu.texture(dy.buffer, dy.size), gpu.texture(y.buffer, y.size), dz.buffer, dBias.buffer],
    { total: dy.size / 4, alpha, columnTexels: n / 4 },
    [Math.ceil(n / 4 / 8)],
  );
  return [dz, dBias];
}

/** Whether dz = act'·dy reads texture copies: on llvmpipe, for whole texels that fit a texture. */
function texturesPay(dy: Tensor): boolean {
  const gpu = runtime();
  return gpu.ctx.isFallbackAdapter && dy.size % 4 === 0 && dy.size > 0 && dy.size <= gpu.textures.maxFloats;
}

function unaryGradFrom(op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, alpha: number): Tensor {
  const dx = empty(x.shape);
  if (dx.size > 0) {
    runtime().dispatch(unaryGradKernel, { op }, [x.buffer, y.buffer, dy.buffer, dx.buffer], {
      n: dx.size,
      alpha,
    }, grid1D(dx.size));
  }
  return dx;
}

/**
 * Negates each element: -x.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.neg(wg.tensor([1, -2]));
 * assertEquals(Array.from(await y.data()), [-1, 2]);
 * ```
 */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/**
 * Exponential of each element: eˣ.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.exp(wg.tensor([0, 1]));
 * (await y.data()).forEach((v, i) => assertAlmostEquals(v, [1, Math.E][i], 1e-5));
 * ```
 */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/**
 * Natural log; NaN below 0, -Infinity at 0.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.log(wg.tensor([1, Math.E]));
 * (await y.data()).forEach((v, i) => assertAlmostEquals(v, [0, 1][i], 1e-5));
 * ```
 */
export const log = (x: Tensor): Tensor => unary("log", x);
/**
 * Square root of each element: √x.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.sqrt(wg.tensor([4, 9]));
 * assertEquals(Array.from(await y.data()), [2, 3]);
 * ```
 */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/**
 * Square of each element: x².
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.square(wg.tensor([-3, 2]));
 * assertEquals(Array.from(await y.data()), [9, 4]);
 * ```
 */
export const square = (x: Tensor): Tensor => unary("square", x);
/**
 * Absolute value of each element: |x|.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.abs(wg.tensor([-3, 2]));
 * assertEquals(Array.from(await y.data()), [3, 2]);
 * ```
 */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/**
 * Reciprocal of each element: 1/x.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.reciprocal(wg.tensor([2, 4]));
 * assertEquals(Array.from(await y.data()), [0.5, 0.25]);
 * ```
 */
export const reciprocal = (x: Tensor): Tensor => unary("reciprocal", x);
/**
 * Rectified linear unit, elementwise: max(x, 0).
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.relu(wg.tensor([-1, 0, 2]));
 * assertEquals(Array.from(await y.data()), [0, 0, 2]);
 * ```
 */
export const relu = (x: Tensor): Tensor => unary("relu", x);
/**
 * Logistic sigmoid, elementwise: 1 / (1 + e⁻ˣ).
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.sigmoid(wg.tensor([0, 2]));
 * (await y.data()).forEach((v, i) => assertAlmostEquals(v, [0.5, 1 / (1 + Math.exp(-2))][i], 1e-5));
 * ```
 */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/**
 * Hyperbolic tangent.
 *
 * @param x The input tensor.
 * @returns A new tensor of the same shape and dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.tanh(wg.tensor([0, 1]));
 * (await y.data()).forEach((v, i) => assertAlmostEquals(v, [0, Math.tanh(1)][i], 1e-5));
 * ```
 */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/**
 * x for x > 0, alpha·(eˣ - 1) otherwise (alpha 1, as in Keras).
 *
 * @param x The input tensor.
 * @param alpha The scale of the negative part (default 1).
 * @returns A new tensor of the same shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.elu(wg.tensor([-1, 2]));
 * (await y.data()).forEach((v, i) => assertAlmostEquals(v, [Math.exp(-1) - 1, 2][i], 1e-5));
 * ```
 */
export const elu = (x: Tensor, alpha = 1): Tensor => unary("elu", x, alpha);
/**
 * x for x > 0, alpha·x otherwise (alpha 0.2, as in TensorFlow.js).
 *
 * @param x The input tensor.
 * @param alpha The slope for x ≤ 0 (default 0.2).
 * @returns A new tensor of the same shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.leakyRelu(wg.tensor([-1, 2]));
 * (await y.data()).forEach((v, i) => assertAlmostEquals(v, [-0.2, 2][i], 1e-5));
 * ```
 */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unary("leakyRelu", x, alpha);
/**
 * The perceptron's step: 1 for x > 0, alpha (0) otherwise. Its gradient is zero.
 *
 * @param x The input tensor.
 * @param alpha The value for x ≤ 0 (default 0).
 * @returns A new tensor of 1s and `alpha`s, the same shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.step(wg.tensor([-1, 0, 3]));
 * assertEquals(Array.from(await y.data()), [0, 0, 1]);
 * ```
 */
export const step = (x: Tensor, alpha = 0): Tensor => unary("step", x, alpha);

// ---- binary, with broadcasting ----

/** The rank-8 limit of the broadcasting kernel's uniforms. */
const MAX_RANK = 8;

/** Strides of `shape` laid over the dimensions of `outShape`, 0 where it is broadcast. */
function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const d = i - offset;
    return d < 0 || shape[d] === 1 ? 0 : strides[d];
  });
}

/**
 * The same walk over fewer dimensions: sizes of 1 dropped, and each dimension
 * merged into the one before it where both operands step through the pair as
 * through one (a scalar against a matrix is one dimension). The kernel pays an
 * integer division per dimension past the first (scalarized on llvmpipe).
 */
function coalesce(outShape: Shape, aStrides: number[], bStrides: number[]) {
  const dims: { size: number; a: number; b: number }[] = [];
  outShape.forEach((size, d) => {
    if (size === 1) return;
    const last = dims[dims.length - 1];
    if (last && last.a === aStrides[d] * size && last.b === bStrides[d] * size) {
      Object.assign(last, { size: last.size * size, a: aStrides[d], b: bStrides[d] });
    } else dims.push({ size, a: aStrides[d], b: bStrides[d] });
  });
  if (dims.length === 0) dims.push({ size: 1, a: 0, b: 0 }); // one element: the kernel walks one dimension
  return {
    outShape: dims.map((d) => d.size),
    aStrides: dims.map((d) => d.a),
    bStrides: dims.map((d) => d.b),
  };
}

/** out = expr(a, b[, dy]) over the broadcast shape of a and b. */
function runBinary(
  op: string,
  expr: string,
  a: Tensor,
  b: Tensor,
  dy: Tensor | null,
  outShape: Shape = broadcastShapes(op, a.shape, b.shape),
): Tensor {
  if (outShape.length > MAX_RANK) {
    throw new ShapeError(`${op}: rank ${outShape.length} exceeds the supported ${MAX_RANK}`);
  }
  const out = empty(outShape);
  if (out.size === 0) return out;
  const broadcast = !(shapesEqual(a.shape, outShape) && shapesEqual(b.shape, outShape));
  const buffers = [a.buffer, b.buffer, ...(dy ? [dy.buffer] : []), out.buffer];
  const walk = coalesce(outShape, broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
  runtime().dispatch(binaryKernel, { expr, withDy: dy !== null, broadcast }, buffers, {
    n: out.size,
    rank: walk.outShape.length,
    ...walk,
  }, grid1D(out.size));
  return out;
}

function binary(op: BinaryOp, left: TensorOrNumber, right: TensorOrNumber): Tensor {
  const a = asTensor(left);
  const b = asTensor(right);
  checkDType(op, "a", a);
  checkDType(op, "b", b);
  // x·1 is x: a backward rule times the seed of ones (softmax cross-entropy's), one dispatch fewer.
  if (op === "mul" && !isWatched(a) && !isWatched(b)) {
    for (const [x, one] of [[a, b], [b, a]]) {
      if (filledValue(one) === 1 && shapesEqual(broadcastShapes(op, a.shape, b.shape), x.shape)) {
        return x.view(x.shape);
      }
    }
  }
  const y = runBinary(op, BINARY[op].forward, a, b, null);
  // da, db from the table's partials, summed back over broadcast dimensions
  return record(y, [a, b], (dy, [a, b]) => [
    binaryGrad(op, BINARY[op].da, a, b, dy, a.shape),
    binaryGrad(op, BINARY[op].db, a, b, dy, b.shape),
  ]);
}

function binaryGrad(op: string, expr: string, a: Tensor, b: Tensor, dy: Tensor, shape: Shape): Tensor {
  if (expr === "dy") return sumTo(dy, shape);
  if (expr === "-dy") return neg(sumTo(dy, shape));
  return sumTo(runBinary(`${op} gradient`, expr, a, b, dy), shape);
}

/**
 * a + b, broadcasting.
 *
 * @param a The first operand: a tensor or a number.
 * @param b The second operand, broadcast against `a` (NumPy rules).
 * @returns A new tensor of the broadcast shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.add(wg.tensor([[1, 2], [3, 4]]), wg.tensor([10, 20])); // [2] broadcasts over rows
 * assertEquals(await y.array(), [[11, 22], [13, 24]]);
 * ```
 */
export const add = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("add", a, b);
/**
 * a - b, broadcasting.
 *
 * @param a The first operand: a tensor or a number.
 * @param b The second operand, broadcast against `a` (NumPy rules).
 * @returns A new tensor of the broadcast shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.sub(wg.tensor([5, 7]), 2);
 * assertEquals(Array.from(await y.data()), [3, 5]);
 * ```
 */
export const sub = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("sub", a, b);
/**
 * a · b elementwise, broadcasting.
 *
 * @param a The first operand: a tensor or a number.
 * @param b The second operand, broadcast against `a` (NumPy rules).
 * @returns A new tensor of the broadcast shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.mul(wg.tensor([1, 2, 3]), wg.tensor([2, 2, 2]));
 * assertEquals(Array.from(await y.data()), [2, 4, 6]);
 * ```
 */
export const mul = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("mul", a, b);
/**
 * a / b elementwise, broadcasting.
 *
 * @param a The first operand: a tensor or a number.
 * @param b The second operand, broadcast against `a` (NumPy rules).
 * @returns A new tensor of the broadcast shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.div(wg.tensor([1, 6]), 2);
 * assertEquals(Array.from(await y.data()), [0.5, 3]);
 * ```
 */
export const div = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("div", a, b);
/**
 * Elementwise max, broadcasting; on ties the gradient goes to a.
 *
 * @param a The first operand: a tensor or a number.
 * @param b The second operand, broadcast against `a` (NumPy rules).
 * @returns A new tensor of the broadcast shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.maximum(wg.tensor([1, 5]), wg.tensor([3, 2]));
 * assertEquals(Array.from(await y.data()), [3, 5]);
 * ```
 */
export const maximum = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("maximum", a, b);
/**
 * Elementwise min, broadcasting; on ties the gradient goes to a.
 *
 * @param a The first operand: a tensor or a number.
 * @param b The second operand, broadcast against `a` (NumPy rules).
 * @returns A new tensor of the broadcast shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.minimum(wg.tensor([1, 5]), wg.tensor([3, 2]));
 * assertEquals(Array.from(await y.data()), [1, 2]);
 * ```
 */
export const minimum = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("minimum", a, b);

/** @internal Elementwise logistic loss of `logits` against `labels` (see losses.sigmoidCrossEntropy). */
export const sigmoidCrossEntropyWithLogits = (logits: Tensor, labels: Tensor): Tensor =>
  binary("sigmoidCrossEntropy", logits, labels);

/** Copies `x` broadcast to `shape` (used to undo a reduction in backward). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const outShape = broadcastShapes("broadcastTo", x.shape, shape);
  if (!shapesEqual(outShape, shape)) {
    throw new ShapeError(`broadcastTo: ${formatShape(x.shape)} does not broadcast to ${formatShape(shape)}`);
  }
  return runBinary("broadcastTo", "a", x, x, null, shape);
}
