/**
 * Where fit, evaluate and predict get their batches from. Data live either on
 * the CPU (a typed array and a shape: gathered row by row into a staging
 * array, then uploaded in place with `writeData`) or on the GPU (a Tensor:
 * contiguous row ranges copied buffer to buffer). Batches go into persistent
 * tensors, one per batch size, so a step allocates nothing, and data of any
 * size stream through, even past the largest storage binding.
 */
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { formatShape, sizeOf } from "../shape.ts";
import { type DType, empty, Tensor, writeData } from "../tensor.ts";

/** Examples on the CPU: row-major values and their shape (examples first), e.g. a loaded dataset. */
export interface HostData {
  /** Row-major values. */
  data: Float32Array | Int32Array;
  /** Examples first, e.g. [60000, 28, 28]. */
  shape: readonly number[];
}

/** What fit/evaluate/predict take as x or y: a Tensor, or host data. */
export type ModelData = Tensor | HostData;

/** Rows (examples) [begin, end) of a dataset, on the CPU or the GPU. */
export interface Source {
  /** Examples. */
  readonly n: number;
  /** Shape of one example. */
  readonly rowShape: readonly number[];
  readonly dtype: DType;
  /** Rows [from, to) of this source (for validationSplit). */
  slice(from: number, to: number): Source;
}

/** Examples in a typed array. */
export class HostSource implements Source {
  readonly n: number;
  readonly rowShape: readonly number[];
  readonly rowSize: number;
  readonly dtype: DType;

  constructor(
    readonly data: Float32Array | Int32Array,
    shape: readonly number[],
    readonly begin = 0,
    end?: number,
  ) {
    if (shape.length < 1 || sizeOf(shape) !== data.length) {
      throw new ShapeError(
        `data: ${data.length} values do not fill shape ${formatShape(shape)} (examples first)`,
      );
    }
    this.rowShape = shape.slice(1);
    this.rowSize = sizeOf(this.rowShape);
    this.n = (end ?? shape[0]) - begin;
    this.dtype = data instanceof Int32Array ? "int32" : "float32";
  }

  slice(from: number, to: number): HostSource {
    return new HostSource(
      this.data,
      [this.data.length / this.rowSize, ...this.rowShape],
      this.begin + from,
      this.begin + to,
    );
  }

  /** The same rows as `dtype` (a converted copy if needed; int32 truncates, as a cast does). */
  as(dtype: DType): HostSource {
    if (dtype === this.dtype) return this;
    const data = dtype === "int32" ? Int32Array.from(this.data, Math.trunc) : Float32Array.from(this.data);
    return new HostSource(
      data,
      [data.length / this.rowSize, ...this.rowShape],
      this.begin,
      this.begin + this.n,
    );
  }

  /** Copies rows order[start..start+count) (or start.. when order is null) into `out`. */
  gather(out: Float32Array | Int32Array, order: Int32Array | null, start: number, count: number): void {
    const size = this.rowSize, data = this.data;
    if (order === null) {
      const from = (this.begin + start) * size;
      out.set(data.subarray(from, from + count * size));
      return;
    }
    for (let i = 0; i < count; i++) {
      const from = (this.begin + order[start + i]) * size;
      if (size < 16) { for (let j = 0; j < size; j++) out[i * size + j] = data[from + j]; }
      else out.set(data.subarray(from, from + size), i * size);
    }
  }
}

/** Examples in a GPU tensor (read in contiguous ranges; fit reads them back first to shuffle). */
export class DeviceSource implements Source {
  readonly n: number;
  readonly rowShape: readonly number[];
  readonly rowBytes: number;
  readonly dtype: DType;

  constructor(readonly tensor: Tensor, readonly begin = 0, end?: number) {
    if (tensor.rank < 1) throw new ShapeError(`data: a scalar ${tensor} has no examples axis`);
    this.rowShape = tensor.shape.slice(1);
    this.rowBytes = sizeOf(this.rowShape) * 4;
    this.n = (end ?? tensor.shape[0]) - begin;
    this.dtype = tensor.dtype;
  }

  slice(from: number, to: number): DeviceSource {
    return new DeviceSource(this.tensor, this.begin + from, this.begin + to);
  }
}

/** A source for x or y: host data as it is, a tensor kept on the GPU. */
export function toSource(data: ModelData, what: string): Source {
  if (data instanceof Tensor) return new DeviceSource(data);
  if (data && typeof data === "object" && ArrayBuffer.isView(data.data) && Array.isArray(data.shape)) {
    if (!(data.data instanceof Float32Array || data.data instanceof Int32Array)) {
      throw new TypeError(`${what}: host data must be a Float32Array or an Int32Array`);
    }
    return new HostSource(data.data, data.shape);
  }
  throw new TypeError(`${what}: expected a Tensor or { data: Float32Array | Int32Array, shape }`);
}

/** The source on the CPU: GPU tensors are read back once (fit shuffles rows on the CPU). */
export async function toHost(source: Source): Promise<HostSource> {
  if (source instanceof HostSource) return source;
  const s = source as DeviceSource;
  const data = await s.tensor.data();
  const all = [s.tensor.shape[0], ...s.rowShape];
  return new HostSource(data, all, s.begin, s.begin + s.n);
}

/**
 * Persistent batch tensors of one source, one per batch size (the full size
 * and the last, smaller one), allocated on first use and reused every step.
 */
export class Batcher {
  readonly #batches = new Map<number, { tensor: Tensor; staging: Float32Array | Int32Array | null }>();

  constructor(readonly source: Source) {}

  /**
   * The rows order[start..start+count) (start.. when order is null) as a
   * [count, ...rowShape] tensor; host rows are uploaded with writeData, which
   * submits pending work first so the previous step still reads the old values.
   */
  batch(order: Int32Array | null, start: number, count: number): Tensor {
    const entry = this.#entry(count);
    const source = this.source;
    if (source instanceof HostSource) {
      source.gather(entry.staging!, order, start, count);
      writeData(entry.tensor, entry.staging!);
    } else {
      if (order !== null) {
        throw new Error("Batcher: GPU sources are read in order (fit reads them back to shuffle)");
      }
      const s = source as DeviceSource;
      const bytes = count * s.rowBytes;
      if (bytes > 0) {
        runtime().copy(
          s.tensor.buffer,
          (s.begin + start) * s.rowBytes,
          entry.tensor.exclusiveBuffer(false),
          0,
          bytes,
        );
      }
    }
    return entry.tensor;
  }

  /**
   * Allocates the batch tensors of batches of `batchSize` (the full ones and
   * the last, smaller one) now, before training allocates its own buffers:
   * allocated later, they could take pool buffers that the steps then
   * replace with new ones, and memory would not be flat from the first epoch.
   */
  reserve(batchSize: number): void {
    const n = this.source.n;
    if (n === 0) return;
    this.#entry(Math.min(batchSize, n));
    if (n > batchSize && n % batchSize !== 0) this.#entry(n % batchSize);
  }

  #entry(count: number): { tensor: Tensor; staging: Float32Array | Int32Array | null } {
    let entry = this.#batches.get(count);
    const source = this.source;
    if (entry === undefined) {
      const bytes = count * sizeOf(source.rowShape) * 4;
      const limit = runtime().device.limits.maxStorageBufferBindingSize;
      if (bytes > limit) {
        throw new ShapeError(
          `a batch of ${count} examples of shape ${
            formatShape(source.rowShape)
          } is ${bytes} bytes, more than the ` +
            `largest storage binding (${limit} bytes): use a batchSize of at most ${
              Math.floor(limit / (bytes / count))
            }`,
        );
      }
      const tensor = empty([count, ...source.rowShape], source.dtype);
      tensor.kept = true;
      const size = count * sizeOf(source.rowShape);
      const staging = source instanceof HostSource
        ? (source.dtype === "int32" ? new Int32Array(size) : new Float32Array(size))
        : null;
      entry = { tensor, staging };
      this.#batches.set(count, entry);
    }
    return entry;
  }

  /** Frees the batch tensors. */
  dispose(): void {
    for (const { tensor } of this.#batches.values()) tensor.dispose();
    this.#batches.clear();
  }
}
