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

/** Permutes the dimensions (reverses them when `perm` is omitted), as a copy. */
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

/** Rows of `depth` values, `onValue` at each index and `offValue` elsewhere; indices are int32. */
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

/** Converts to `dtype` (float32 to int32 truncates toward zero). No gradient flows through a cast to int32. */
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
