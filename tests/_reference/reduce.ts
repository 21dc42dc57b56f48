/**
 * Float64 references of the reductions: sum, mean, max, min over any axes
 * with keepDims, and argMax / argMin along one axis (the first index on ties,
 * as TensorFlow does).
 */
import { type Arr, arr, broadcastIndexMap, normalizeAxes, Sum, unravel } from "./array.ts";

export type Reduction = "sum" | "mean" | "max" | "min";

/** Output shape of reducing `shape` over `axes` (sorted, non-negative). */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** For each element of x, the flat index of the output element it reduces into (as a broadcast in reverse). */
function outputIndex(shape: readonly number[], axes: readonly number[]): Int32Array {
  return broadcastIndexMap(shape, shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

/** op over `axis` (all axes if undefined). Elements are visited in row-major order, so a max is the first maximum. */
export function reduce(
  op: Reduction,
  x: Arr,
  axis: number | readonly number[] | undefined,
  keepDims: boolean,
): Arr {
  const axes = normalizeAxes(axis, x.shape.length);
  const out = arr(reducedShape(x.shape, axes, keepDims));
  const count = x.data.length / Math.max(1, out.data.length);
  const at = outputIndex(x.shape, axes);
  if (op === "sum" || op === "mean") {
    const sums = Array.from(out.data, () => new Sum());
    for (let i = 0; i < x.data.length; i++) sums[at[i]].add(x.data[i]);
    sums.forEach((s, o) => (out.data[o] = op === "mean" ? s.value / count : s.value));
  } else {
    out.data.fill(op === "max" ? -Infinity : Infinity);
    for (let i = 0; i < x.data.length; i++) {
      const o = at[i], v = x.data[i];
      if (op === "max" ? v > out.data[o] : v < out.data[o]) out.data[o] = v;
    }
  }
  return out;
}

/** Index of the largest (argMax) or smallest (argMin) value along `axis`; the first on ties. int32. */
export function argReduce(op: "argMax" | "argMin", x: Arr, axis: number): Arr {
  const [a] = normalizeAxes(axis, x.shape.length);
  const out = arr(reducedShape(x.shape, [a], false), undefined, "int32");
  const best = new Float64Array(out.data.length).fill(op === "argMax" ? -Infinity : Infinity);
  out.data.fill(-1);
  const at = outputIndex(x.shape, [a]);
  for (let i = 0; i < x.data.length; i++) {
    const o = at[i], v = x.data[i], r = unravel(i, x.shape)[a];
    const better = op === "argMax" ? v > best[o] : v < best[o];
    if (better || out.data[o] === -1) {
      best[o] = v;
      out.data[o] = r;
    }
  }
  return out;
}
