/** Float64 references of the shape and layout ops: transpose, reshape, oneHot, cast. */
import { type Arr, arr, stridesOf, unravel } from "./array.ts";

const sourceMaps = new Map<string, Int32Array>();

/** out[c] = x[c permuted]: dimension i of the result is dimension perm[i] of x (reversed if omitted). */
export function transpose(x: Arr, perm?: readonly number[]): Arr {
  const order = perm ?? x.shape.map((_, i) => x.shape.length - 1 - i);
  const out = arr(order.map((p) => x.shape[p]), undefined, x.dtype);
  // memoized: numerical gradients call this hundreds of times with one shape
  const key = `${x.shape}|${order}`;
  let source = sourceMaps.get(key);
  if (!source) {
    const strides = stridesOf(x.shape);
    source = Int32Array.from(out.data, (_, i) => {
      const coords = unravel(i, out.shape);
      return coords.reduce((src, c, d) => src + c * strides[order[d]], 0);
    });
    sourceMaps.set(key, source);
  }
  for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[source[i]];
  return out;
}

/** The same row-major data with another shape; one -1 is inferred. */
export function reshape(x: Arr, shape: readonly number[]): Arr {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const target = shape.map((d) => (d === -1 ? x.data.length / known : d));
  return arr(target, x.data, x.dtype);
}

/** Rows of `depth`: onValue at each index, offValue elsewhere (a row of offValue for an index out of range). */
export function oneHot(indices: Arr, depth: number, onValue: number, offValue: number): Arr {
  const out = arr([...indices.shape, depth]);
  for (let n = 0; n < indices.data.length; n++) {
    for (let c = 0; c < depth; c++) out.data[n * depth + c] = indices.data[n] === c ? onValue : offValue;
  }
  return out;
}

/** float32 → int32 truncates toward zero (saturating, as WGSL's conversion does); int32 → float32 rounds to float32. */
export function cast(x: Arr, dtype: "float32" | "int32"): Arr {
  if (dtype === "int32") {
    const int = (v: number) => Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), Math.trunc(v)));
    return arr(x.shape, Array.from(x.data, int), "int32");
  }
  return arr(x.shape, Array.from(x.data, Math.fround));
}
