/**
 * Size-bucketed pool of storage buffers. Buckets are 4 per octave, so a buffer
 * wastes at most ~19%; after the first training step every request is served
 * from the free lists and the GPU allocates nothing.
 */

// UNIFORM too: a kernel may bind a window of a tensor as a uniform buffer (see Binding in kernel.ts).
const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** Rounds a byte size up to its bucket: multiples of 16 bytes, 4 buckets per power of two. */
export function bucketSize(bytes: number): number {
  const min = Math.max(16, bytes);
  if (min <= 256) return Math.ceil(min / 16) * 16;
  const octave = 2 ** Math.floor(Math.log2(min));
  const step = octave / 4;
  return Math.ceil(min / step) * step;
}

/** Counts of what the pool holds, for `wg.memory()` and the leak tests. */
export interface PoolStats {
  /** GPU buffers alive (in use or free in the pool). */
  numBuffers: number;
  /** Bytes of those buffers. */
  numBytes: number;
  /** Bytes in buffers handed out and not yet released. */
  numBytesInUse: number;
}

export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, GPUBuffer[]>();
  /** Released while commands that may use them are still unsubmitted; freed on `recycle()`. */
  #pending: GPUBuffer[] = [];
  #pendingBytes = 0;
  #stats: PoolStats = { numBuffers: 0, numBytes: 0, numBytesInUse: 0 };
  /** Incremented by every `trim()`: bind groups made before it may name destroyed buffers. */
  generation = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** A storage buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const buffer = this.#free.get(size)?.pop() ??
      this.#create(size);
    this.#stats.numBytesInUse += size;
    return buffer;
  }

  /**
   * Returns a buffer. It becomes reusable only after the pending commands are
   * submitted: `queue.writeBuffer` runs before unsubmitted commands, so handing
   * it out earlier could overwrite data those commands still read.
   */
  release(buffer: GPUBuffer): void {
    this.#stats.numBytesInUse -= buffer.size;
    this.#pending.push(buffer);
    this.#pendingBytes += buffer.size;
  }

  /** Bytes released since the last submit: past a bound the runtime submits to reclaim them. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Called after each submit: released buffers join the free lists. */
  recycle(): void {
    for (const buffer of this.#pending) {
      const list = this.#free.get(buffer.size);
      if (list) list.push(buffer);
      else this.#free.set(buffer.size, [buffer]);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** Destroys every free buffer (not those in use). */
  trim(): void {
    this.recycle();
    this.generation++;
    for (const list of this.#free.values()) {
      for (const buffer of list) {
        this.#stats.numBuffers--;
        this.#stats.numBytes -= buffer.size;
        buffer.destroy();
      }
    }
    this.#free.clear();
  }

  stats(): PoolStats {
    return { ...this.#stats };
  }

  #create(size: number): GPUBuffer {
    this.#stats.numBuffers++;
    this.#stats.numBytes += size;
    return this.#device.createBuffer({ size, usage: STORAGE_USAGE });
  }
}
