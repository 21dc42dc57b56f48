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
import { record } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { broadcastShapes, formatShape, type Shape, shapesEqual, stridesOf } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType, type TensorOrNumber } from "./_util.ts";
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
  const dx = empty(x.shape);
  if (dx.size > 0) {
    runtime().dispatch(unaryGradKernel, { op }, [x.buffer, y.buffer, dy.buffer, dx.buffer], {
      n: dx.size,
      alpha,
    }, grid1D(dx.size));
  }
  return dx;
}

/** -x */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/** eˣ */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/** Natural log; NaN below 0, -Infinity at 0. */
export const log = (x: Tensor): Tensor => unary("log", x);
/** √x */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/** x² */
export const square = (x: Tensor): Tensor => unary("square", x);
/** |x| */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/** 1/x */
export const reciprocal = (x: Tensor): Tensor => unary("reciprocal", x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary("relu", x);
/** 1 / (1 + e⁻ˣ) */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/** x for x > 0, alpha·(eˣ - 1) otherwise (alpha 1, as in Keras). */
export const elu = (x: Tensor, alpha = 1): Tensor => unary("elu", x, alpha);
/** x for x > 0, alpha·x otherwise (alpha 0.2, as in TensorFlow.js). */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unary("leakyRelu", x, alpha);
/** The perceptron's step: 1 for x > 0, alpha (0) otherwise. Its gradient is zero. */
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
  runtime().dispatch(binaryKernel, { expr, withDy: dy !== null, broadcast }, buffers, {
    n: out.size,
    rank: outShape.length,
    outShape,
    aStrides: broadcastStrides(a.shape, outShape),
    bStrides: broadcastStrides(b.shape, outShape),
  }, grid1D(out.size));
  return out;
}

function binary(op: BinaryOp, left: TensorOrNumber, right: TensorOrNumber): Tensor {
  const a = asTensor(left);
  const b = asTensor(right);
  checkDType(op, "a", a);
  checkDType(op, "b", b);
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

/** a + b, broadcasting. */
export const add = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("add", a, b);
/** a - b, broadcasting. */
export const sub = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("sub", a, b);
/** a · b elementwise, broadcasting. */
export const mul = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("mul", a, b);
/** a / b elementwise, broadcasting. */
export const div = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("div", a, b);
/** Elementwise max, broadcasting; on ties the gradient goes to a. */
export const maximum = (a: TensorOrNumber, b: TensorOrNumber): Tensor => binary("maximum", a, b);
/** Elementwise min, broadcasting; on ties the gradient goes to a. */
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
