/**
 * The float64 CPU reference's array: a row-major Float64Array with a shape,
 * plus the index arithmetic the reference ops share (strides, broadcasting,
 * axes) and an accurate sum. Plain loops, written to be read, not to be fast.
 */

/** A reference array. int32 arrays (labels, indices) hold integers in the Float64Array. */
export interface Arr {
  shape: number[];
  data: Float64Array;
  dtype?: "int32";
}

/** An array of `shape` holding `data` (zeros if omitted). */
export function arr(shape: readonly number[], data?: ArrayLike<number>, dtype?: "int32"): Arr {
  const out: Arr = { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
  if (data) {
    if (data.length !== out.data.length) {
      throw new Error(`arr: ${data.length} values for shape [${shape}]`);
    }
    out.data.set(data);
  }
  if (dtype) out.dtype = dtype;
  return out;
}

/** A scalar array. */
export const scalarArr = (v: number): Arr => arr([], [v]);

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Coordinates of flat index `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return coords;
}

/** NumPy broadcasting of two shapes (throws if they do not broadcast). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`[${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into `shape` of the element that output coordinates `coords` read when broadcast. */
export function broadcastIndex(coords: readonly number[], shape: readonly number[]): number {
  const offset = coords.length - shape.length;
  let index = 0;
  for (let d = 0; d < shape.length; d++) {
    index = index * shape[d] + (shape[d] === 1 ? 0 : coords[d + offset]);
  }
  return index;
}

const indexMaps = new Map<string, Int32Array>();

/**
 * For each element of an array of `outShape`, the flat index of the element
 * of `shape` it reads when broadcast. Memoized: numerical gradients call the
 * reference hundreds of times with the same shapes.
 */
export function broadcastIndexMap(outShape: readonly number[], shape: readonly number[]): Int32Array {
  const key = `${outShape}|${shape}`;
  let map = indexMaps.get(key);
  if (!map) {
    map = new Int32Array(sizeOf(outShape));
    for (let i = 0; i < map.length; i++) map[i] = broadcastIndex(unravel(i, outShape), shape);
    indexMaps.set(key, map);
  }
  return map;
}

/** Sorted, distinct, non-negative axes (all axes for undefined), as the engine normalizes them. */
export function normalizeAxes(axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const list = typeof axis === "number" ? [axis] : axis;
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((x, y) => x - y);
}

/**
 * Σ values with Neumaier's compensated summation: the error is about one
 * float64 rounding of the result, not n roundings of the terms, so the
 * numerical gradients taken of the reference are not drowned in its own noise.
 */
export class Sum {
  #s = 0;
  #c = 0;
  add(v: number): void {
    const t = this.#s + v;
    this.#c += Math.abs(this.#s) >= Math.abs(v) ? (this.#s - t) + v : (v - t) + this.#s;
    this.#s = t;
  }
  get value(): number {
    return this.#s + this.#c;
  }
}

/** Compensated Σ of an array-like. */
export function fsum(values: ArrayLike<number>): number {
  const s = new Sum();
  for (let i = 0; i < values.length; i++) s.add(values[i]);
  return s.value;
}

/** Elementwise map into a new array of the same shape. */
export function map(x: Arr, f: (v: number, i: number) => number): Arr {
  const out = arr(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i], i);
  return out;
}
