/** Shape arithmetic shared by the ops: sizes, strides, broadcasting, axes. */
import { ShapeError } from "./errors.ts";

/** Dimensions of a tensor, outermost first (row-major). */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `[2,3]`, the way every error message prints a shape. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/** NumPy broadcasting of two shapes; a mismatch names both. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast ` +
          `(dimension ${i} of the result: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Normalizes `axis` (a number, a list, or undefined for all axes) to sorted,
 * distinct, non-negative axes of a rank-`rank` tensor.
 */
export function normalizeAxes(
  op: string,
  axis: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const list = typeof axis === "number" ? [axis] : axis;
  const axes = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1)) {
      throw new ShapeError(`${op}: axis ${a} is out of range for a rank-${rank} tensor`);
    }
    return a < 0 ? a + rank : a;
  });
  return [...new Set(axes)].sort((x, y) => x - y);
}

/** Checks a shape is a list of non-negative integers. */
export function checkShape(op: string, shape: Shape): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`${op}: ${formatShape(shape)} is not a shape (non-negative integers)`);
  }
}
