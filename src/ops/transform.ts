/** Shape and layout ops: reshape (a view), transpose, oneHot, cast. */
import { castKernel, oneHotKernel, transposeKernel } from "../../shaders/transform.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { record } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { checkShape, formatShape, type Shape, sizeOf, stridesOf } from "../shape.ts";
import { type DType, empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";

/**
 * The same data seen with another shape (no copy). One dimension may be -1,
 * inferred from the others.
 *
 * @param input The tensor to reshape.
 * @param shape The new shape, with as many elements; one entry may be -1 (inferred).
 * @returns A tensor of the new shape sharing the same values in row-major order.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.reshape(wg.tensor([1, 2, 3, 4, 5, 6]), [2, -1]);
 * assertEquals(await y.array(), [[1, 2, 3], [4, 5, 6]]);
 * ```
 */
export function reshape(input: Tensor, shape: Shape): Tensor {
  const x = asTensor(input);
  const target = inferReshape(x, shape);
  const y = x.view(target);
  // dx = dy seen in x's shape
  return record(y, [x], (dy, [x]) => [reshape(dy, x.shape)]);
}

function inferReshape(x: Tensor, shape: Shape): number[] {
  const cannot = (why: string) =>
    new ShapeError(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}${why}`,
    );
  const target = [...shape];
  const unknown = shape.indexOf(-1);
  if (unknown !== -1) {
    if (shape.lastIndexOf(-1) !== unknown) throw cannot(": at most one dimension may be -1");
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw cannot(`: ${x.size} is not a multiple of the other dimensions' product ${known}`);
    }
    target[unknown] = x.size / known;
  }
  checkShape("reshape", target);
  if (sizeOf(target) !== x.size) throw cannot("");
  return target;
}

/**
 * Permutes the dimensions (reverses them when `perm` is omitted), as a copy.
 *
 * @param input The tensor to transpose.
 * @param perm The order of the input axes in the output (default: reversed).
 * @returns The permuted tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.transpose(wg.tensor([[1, 2, 3], [4, 5, 6]]));
 * assertEquals(await y.array(), [[1, 4], [2, 5], [3, 6]]);
 * ```
 */
export function transpose(input: Tensor, perm?: readonly number[]): Tensor {
  const x = asTensor(input);
  const order = perm ?? [...x.shape.keys()].reverse();
  if (order.length !== x.rank || [...order].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ShapeError(
      `transpose: [${order}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`,
    );
  }
  const outShape = order.map((p) => x.shape[p]);
  const y = empty(outShape, x.dtype);
  if (y.size > 0) {
    const strides = stridesOf(x.shape);
    runtime().dispatch(
      transposeKernel,
      { dtype: x.dtype === "int32" ? "i32" : "f32" },
      [x.buffer, y.buffer],
      {
        n: y.size,
        rank: x.rank,
        outShape,
        inStrides: order.map((p) => strides[p]),
      },
      grid1D(y.size),
    );
  }
  // dx = transpose(dy, perm⁻¹)
  const inverse = order.map((_, i) => order.indexOf(i));
  return record(y, [x], (dy) => [transpose(dy, inverse)], []);
}

/**
 * Rows of `depth` values, `onValue` at each index and `offValue` elsewhere; indices are int32.
 *
 * @param indices An int32 tensor of class indices.
 * @param depth The number of classes.
 * @param onValue The value at each index (default 1).
 * @param offValue The value elsewhere (default 0).
 * @returns A float32 tensor of shape `[...indices.shape, depth]`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.oneHot(wg.tensor([0, 2], [2], "int32"), 3);
 * assertEquals(await y.array(), [[1, 0, 0], [0, 0, 1]]);
 * ```
 */
export function oneHot(indices: Tensor, depth: number, onValue = 1, offValue = 0): Tensor {
  checkDType("oneHot", "indices", indices, "int32");
  if (!Number.isInteger(depth) || depth < 1) {
    throw new ShapeError(`oneHot: depth must be a positive integer, got ${depth}`);
  }
  const y = empty([...indices.shape, depth]);
  if (y.size > 0) {
    runtime().dispatch(oneHotKernel, undefined, [indices.buffer, y.buffer], {
      n: indices.size,
      depth,
      onValue,
      offValue,
    }, grid1D(y.size));
  }
  return y;
}

/**
 * Converts to `dtype` (float32 to int32 truncates toward zero). No gradient flows through a cast to int32.
 *
 * @param input The tensor to convert.
 * @param dtype `"float32"` or `"int32"` (float to int truncates toward zero).
 * @returns A new tensor of that dtype.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const y = wg.cast(wg.tensor([1.7, -2.5]), "int32");
 * assertEquals(y.dtype, "int32");
 * assertEquals(Array.from(await y.data()), [1, -2]);
 * ```
 */
export function cast(input: Tensor, dtype: DType): Tensor {
  const x = asTensor(input);
  if (x.dtype === dtype) return reshape(x, x.shape);
  const y = empty(x.shape, dtype);
  if (y.size > 0) {
    runtime().dispatch(castKernel, { to: dtype === "int32" ? "i32" : "f32" }, [x.buffer, y.buffer], {
      n: y.size,
    }, grid1D(y.size));
  }
  return y;
}
