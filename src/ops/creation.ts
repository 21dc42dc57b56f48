/** Creating tensors: from values, filled, random, and variables. */
import { fillKernel } from "../../shaders/elementwise.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { DTypeError, ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { Random } from "../random.ts";
import { checkShape, formatShape, type Shape, shapesEqual, sizeOf } from "../shape.ts";
import { type DType, empty, fromData, type Tensor, Variable } from "../tensor.ts";

/** Values a tensor can be made from: a number, nested arrays, or a flat typed array with a shape. */
export type TensorLike = number | boolean | readonly TensorLike[] | Float32Array | Int32Array | Uint8Array;

/**
 * Creates a tensor. The shape is inferred from nested arrays, or given for
 * flat data; dtype is float32 unless given or the data is an Int32Array.
 */
export function tensor(values: TensorLike, shape?: Shape, dtype?: DType): Tensor {
  const inferred = inferShape(values);
  const flat = flatten(values);
  const target = shape ?? inferred;
  checkShape("tensor", target);
  if (sizeOf(target) !== flat.length) {
    throw new ShapeError(
      `tensor: ${flat.length} values do not fill shape ${formatShape(target)} ` +
        `(${sizeOf(target)} elements)`,
    );
  }
  const type = dtype ?? (values instanceof Int32Array ? "int32" : "float32");
  const data = type === "int32"
    ? Int32Array.from(flat as ArrayLike<number>, Math.trunc)
    : Float32Array.from(flat as ArrayLike<number>);
  return fromData(data, target);
}

/** A rank-0 tensor. */
export function scalar(value: number, dtype: DType = "float32"): Tensor {
  return tensor(value, [], dtype);
}

/** A tensor of `shape` with every element `value`, filled on the GPU. */
export function fill(shape: Shape, value: number, dtype: DType = "float32"): Tensor {
  checkShape("fill", shape);
  const out = empty(shape, dtype);
  if (out.size > 0) {
    const bits = dtype === "int32"
      ? new Uint32Array(new Int32Array([value]).buffer)[0]
      : new Uint32Array(new Float32Array([value]).buffer)[0];
    runtime().dispatch(fillKernel, undefined, [out.buffer], { n: out.size, bits }, grid1D(out.size));
  }
  return out;
}

/** A tensor of zeros. */
export function zeros(shape: Shape, dtype: DType = "float32"): Tensor {
  return fill(shape, 0, dtype);
}

/** A tensor of ones. */
export function ones(shape: Shape, dtype: DType = "float32"): Tensor {
  return fill(shape, 1, dtype);
}

/** Zeros with the shape and dtype of `t`. */
export function zerosLike(t: Tensor): Tensor {
  return fill(t.shape, 0, t.dtype);
}

/** Ones with the shape and dtype of `t`. */
export function onesLike(t: Tensor): Tensor {
  return fill(t.shape, 1, t.dtype);
}

/** Normally distributed values; the same `seed` gives the same tensor. */
export function randomNormal(shape: Shape, mean = 0, stdDev = 1, seed?: number): Tensor {
  checkShape("randomNormal", shape);
  const random = new Random(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + stdDev * random.normal();
  return fromData(data, shape);
}

/** Uniform values in [minval, maxval); the same `seed` gives the same tensor. */
export function randomUniform(shape: Shape, minval = 0, maxval = 1, seed?: number): Tensor {
  checkShape("randomUniform", shape);
  const random = new Random(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = minval + (maxval - minval) * random.next();
  return fromData(data, shape);
}

/**
 * A mutable, named tensor that `tidy` never disposes; trainable variables are
 * what `variableGrads` differentiates by default.
 */
export function variable(initial: Tensor, trainable = true, name?: string, dtype?: DType): Variable {
  if (dtype !== undefined && dtype !== initial.dtype) {
    throw new DTypeError(`variable: initial value is ${initial.dtype}, dtype asks for ${dtype}`);
  }
  return new Variable(initial, trainable, name ?? `variable${initial.id}`);
}

function inferShape(values: TensorLike): number[] {
  if (!Array.isArray(values)) return ArrayBuffer.isView(values) ? [(values as Float32Array).length] : [];
  if (values.length === 0) return [0];
  // Every element must have the first one's shape: [1, [2, 3]] and [[1, 2], [3, [4]]] are ragged too.
  const inner = inferShape(values[0]);
  for (const v of values) {
    const other = inferShape(v);
    if (!shapesEqual(other, inner)) {
      throw new ShapeError(
        `tensor: ragged nested array: an element of shape ${formatShape(other)} ` +
          `next to one of shape ${formatShape(inner)}`,
      );
    }
  }
  return [values.length, ...inner];
}

function flatten(values: TensorLike): ArrayLike<number> {
  if (typeof values === "number") return [values];
  if (typeof values === "boolean") return [values ? 1 : 0];
  if (ArrayBuffer.isView(values)) return values as ArrayLike<number>;
  return (values as unknown[]).flat(Infinity as 1).map((v) => {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v !== "number") throw new TypeError(`tensor: ${String(v)} is not a number`);
    return v;
  });
}
