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
 *
 * @param values A number, nested arrays (the shape is inferred), or flat values (a typed array or a flat array) with `shape`.
 * @param shape The shape, required for flat data.
 * @param dtype `"float32"` (the default) or `"int32"` (the default for an Int32Array).
 * @returns A new tensor, uploaded to the GPU.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const t = wg.tensor([[1, 2, 3], [4, 5, 6]]);
 * assertEquals(t.shape, [2, 3]);
 * const labels = wg.tensor(new Int32Array([3, 1]), [2]);
 * assertEquals(labels.dtype, "int32");
 * assertEquals(await t.array(), [[1, 2, 3], [4, 5, 6]]);
 * ```
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

/**
 * A rank-0 tensor.
 *
 * @param value The value.
 * @param dtype `"float32"` (default) or `"int32"`.
 * @returns A tensor of shape `[]`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const s = wg.scalar(3);
 * assertEquals(s.shape, []);
 * assertEquals(Array.from(await s.data()), [3]);
 * ```
 */
export function scalar(value: number, dtype: DType = "float32"): Tensor {
  return tensor(value, [], dtype);
}

/**
 * A tensor of `shape` with every element `value`, filled on the GPU.
 *
 * @param shape The shape, outermost dimension first.
 * @param value The value of every element.
 * @param dtype `"float32"` (default) or `"int32"`.
 * @returns A new tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(await wg.fill([2, 2], 7).array(), [[7, 7], [7, 7]]);
 * ```
 */
export function fill(shape: Shape, value: number, dtype: DType = "float32"): Tensor {
  checkShape("fill", shape);
  const out = empty(shape, dtype);
  const Typed = dtype === "int32" ? Int32Array : Float32Array;
  const one = new Typed([value]);
  if (out.size > 0 && out.size <= UPLOADED_FILL) {
    runtime().upload(out.buffer, new Typed(out.size).fill(value));
  } else if (out.size > 0) {
    const bits = new Uint32Array(one.buffer)[0];
    runtime().dispatch(fillKernel, undefined, [out.buffer], { n: out.size, bits }, grid1D(out.size));
  }
  if (dtype === "float32" && out.size > 0) runtime().markFilled(out.buffer, one[0], out.size);
  return out;
}

/** Fills of up to this many elements are uploaded: a dispatch's fixed cost is more (a gradient's seed). */
const UPLOADED_FILL = 1024;

/**
 * @internal The value of every element of the float32 tensor `t` if `fill` made its contents and nothing
 * wrote them since (e.g. a gradient's seed of ones; an optimizer's slots start as fills and are updated in
 * place), else undefined.
 */
export function filledValue(t: Tensor): number | undefined {
  return t.dtype === "float32" && t.size > 0 ? runtime().filledValue(t.buffer, t.size) : undefined;
}

/**
 * A tensor of zeros.
 *
 * @param shape The shape, outermost dimension first.
 * @param dtype `"float32"` (default) or `"int32"`.
 * @returns A new tensor of zeros.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(Array.from(await wg.zeros([3]).data()), [0, 0, 0]);
 * ```
 */
export function zeros(shape: Shape, dtype: DType = "float32"): Tensor {
  return fill(shape, 0, dtype);
}

/**
 * A tensor of ones.
 *
 * @param shape The shape, outermost dimension first.
 * @param dtype `"float32"` (default) or `"int32"`.
 * @returns A new tensor of ones.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(await wg.ones([1, 2]).array(), [[1, 1]]);
 * ```
 */
export function ones(shape: Shape, dtype: DType = "float32"): Tensor {
  return fill(shape, 1, dtype);
}

/**
 * Zeros with the shape and dtype of `t`.
 *
 * @param t The tensor whose shape and dtype to copy.
 * @returns A new tensor of zeros.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const z = wg.zerosLike(wg.tensor([[1, 2]]));
 * assertEquals(await z.array(), [[0, 0]]);
 * ```
 */
export function zerosLike(t: Tensor): Tensor {
  return fill(t.shape, 0, t.dtype);
}

/**
 * Ones with the shape and dtype of `t`.
 *
 * @param t The tensor whose shape and dtype to copy.
 * @returns A new tensor of ones.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const o = wg.onesLike(wg.tensor([5, 6]));
 * assertEquals(Array.from(await o.data()), [1, 1]);
 * ```
 */
export function onesLike(t: Tensor): Tensor {
  return fill(t.shape, 1, t.dtype);
}

/**
 * Normally distributed values; the same `seed` gives the same tensor.
 *
 * @param shape The shape, outermost dimension first.
 * @param mean The mean (default 0).
 * @param stdDev The standard deviation (default 1).
 * @param seed A seed for a reproducible draw; random if omitted.
 * @returns A new float32 tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals, assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const a = await wg.randomNormal([1000], 0, 1, 42).data();
 * const b = await wg.randomNormal([1000], 0, 1, 42).data();
 * assertEquals(a, b); // same seed, same values
 * assertAlmostEquals(Array.from(a).reduce((s, v) => s + v, 0) / a.length, 0, 0.15);
 * ```
 */
export function randomNormal(shape: Shape, mean = 0, stdDev = 1, seed?: number): Tensor {
  checkShape("randomNormal", shape);
  const random = new Random(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + stdDev * random.normal();
  return fromData(data, shape);
}

/**
 * Uniform values in [minval, maxval); the same `seed` gives the same tensor.
 *
 * @param shape The shape, outermost dimension first.
 * @param minval The lower bound, included (default 0).
 * @param maxval The upper bound, excluded (default 1).
 * @param seed A seed for a reproducible draw; random if omitted.
 * @returns A new float32 tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const u = await wg.randomUniform([100], -1, 1, 7).data();
 * assert(u.every((v) => v >= -1 && v < 1));
 * ```
 */
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
 *
 * @param initial The initial value (the variable takes over its buffer).
 * @param trainable Whether `variableGrads` and optimizers update it (default true).
 * @param name A unique name among live variables (generated if omitted): the key of its gradient.
 * @param dtype The dtype, which must match `initial`'s.
 * @returns The variable.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.variable(wg.zeros([2]), true, "w");
 * w.assign(wg.tensor([1, 2]));
 * assertEquals(Array.from(await w.data()), [1, 2]);
 * w.dispose();
 * ```
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
