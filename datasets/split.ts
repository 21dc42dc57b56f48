/**
 * Selecting examples: a seeded train/validation split (the lessons hold out
 * 20-30% of the training set) and mini-batches, optionally shuffled.
 * Rows are examples: a DataArray `[N, ...]` has N rows of `size / N` values.
 * @module
 */
import { Random } from "../src/random.ts";
import type { DataArray, Split } from "./dataset.ts";

/** Options of {@linkcode trainValidationSplit}. */
export interface SplitOptions {
  /** Fraction of examples held out for validation, in (0, 1); default 0.2. */
  validationSplit?: number;
  /** The same seed picks the same examples; default 0. */
  seed?: number;
}

/**
 * Splits examples at random, reproducibly, into training and validation
 * parts: `round(N · validationSplit)` examples (at least 1, at most N - 1)
 * go to validation, the rest to training; each part keeps the original
 * order. Every example lands in exactly one part.
 *
 * @param set Inputs and targets with the same number of rows.
 * @param options The held-out fraction and the seed.
 * @returns The two parts, as new arrays.
 *
 * @example
 * ```ts
 * import { trainValidationSplit } from "./split.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = { data: new Float32Array(10).map((_, i) => i), shape: [10, 1], dtype: "float32" as const };
 * const y = { data: new Int32Array(10).map((_, i) => i), shape: [10], dtype: "int32" as const };
 * const { train, validation } = trainValidationSplit({ x, y }, { validationSplit: 0.3, seed: 7 });
 * assertEquals(train.x.shape, [7, 1]);
 * assertEquals(validation.y.shape, [3]);
 * assertEquals([...train.x.data], [...train.y.data]); // rows stay paired
 * ```
 */
export function trainValidationSplit(
  set: Split,
  options: SplitOptions = {},
): { train: Split; validation: Split } {
  const fraction = options.validationSplit ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`trainValidationSplit: validationSplit must be in (0, 1), got ${fraction}`);
  }
  const n = rowsOf(set);
  if (n < 2) throw new RangeError(`trainValidationSplit: needs at least 2 examples, got ${n}`);
  const nValidation = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const order = shuffledIndices(n, options.seed ?? 0);
  const validation = order.subarray(0, nValidation).sort();
  const train = order.subarray(nValidation).sort();
  return {
    train: { x: gatherRows(set.x, train), y: gatherRows(set.y, train) },
    validation: { x: gatherRows(set.x, validation), y: gatherRows(set.y, validation) },
  };
}

/** Options of {@linkcode batches}. */
export interface BatchOptions {
  /** Examples per batch. */
  batchSize: number;
  /** Visit the examples in a random order (default `false`). */
  shuffle?: boolean;
  /** Seed of the shuffle (e.g. the epoch number); default 0. */
  seed?: number;
  /** Skip a last batch smaller than `batchSize` (default `false`). */
  dropRemainder?: boolean;
}

/**
 * Mini-batches of a split, as new arrays (rows copied out, so a batch can
 * be uploaded and dropped while the full set stays on the CPU).
 *
 * @param set Inputs and targets with the same number of rows.
 * @param options Batch size, shuffling and what to do with the remainder.
 * @returns A generator of splits of at most `batchSize` rows.
 *
 * @example
 * ```ts
 * import { batches } from "./split.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = { data: new Float32Array(5), shape: [5, 1], dtype: "float32" as const };
 * const y = { data: new Int32Array(5), shape: [5], dtype: "int32" as const };
 * const sizes = [...batches({ x, y }, { batchSize: 2 })].map((b) => b.x.shape[0]);
 * assertEquals(sizes, [2, 2, 1]);
 * ```
 */
export function* batches(set: Split, options: BatchOptions): Generator<Split> {
  const { batchSize } = options;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`batches: batchSize must be a positive integer, got ${batchSize}`);
  }
  const n = rowsOf(set);
  const order = options.shuffle ? shuffledIndices(n, options.seed ?? 0) : null;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (options.dropRemainder && end - start < batchSize) return;
    if (order) {
      const rows = order.subarray(start, end);
      yield { x: gatherRows(set.x, rows), y: gatherRows(set.y, rows) };
    } else {
      yield { x: sliceRows(set.x, start, end), y: sliceRows(set.y, start, end) };
    }
  }
}

/** A random permutation of 0..n-1 (Fisher-Yates with the engine's seeded generator). */
export function shuffledIndices(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = new Random(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Copies the given rows of `array`, in that order, into a new array of the same kind. */
export function gatherRows(array: DataArray, rows: ArrayLike<number>): DataArray {
  const n = array.shape[0];
  const width = n === 0 ? 0 : array.data.length / n;
  const Kind = array.data.constructor as new (length: number) => DataArray["data"];
  const data = new Kind(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    data.set(array.data.subarray(r * width, (r + 1) * width), i * width);
  }
  return { data, shape: [rows.length, ...array.shape.slice(1)], dtype: array.dtype };
}

/** Rows `start` to `end` (exclusive) as a copy. */
function sliceRows(array: DataArray, start: number, end: number): DataArray {
  const width = array.data.length / array.shape[0];
  return {
    data: array.data.slice(start * width, end * width),
    shape: [end - start, ...array.shape.slice(1)],
    dtype: array.dtype,
  };
}

function rowsOf(set: Split): number {
  const n = set.x.shape[0];
  if (set.y.shape[0] !== n) {
    throw new RangeError(`x has ${n} rows but y has ${set.y.shape[0]}: they must pair up row for row`);
  }
  return n;
}
