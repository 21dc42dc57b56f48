/**
 * Textures that hold a copy of a tensor for kernels that read it by
 * `textureLoad` (see the "texture" Binding in kernel.ts). A tensor of F floats
 * lies in rgba32float texels in row-major order, TEXTURE_LINE texels per
 * texture row: float f is component f % 4 of texel t = f / 4, at
 * (t % TEXTURE_LINE, t / TEXTURE_LINE). A texture row is 16 KiB, a multiple of
 * the 256 bytes that copyBufferToTexture needs per row, so any buffer copies
 * in with at most two copies. Heights are powers of two, so the textures of
 * one training step are reused by the next; like buffers, a released texture
 * is reused only after the submit that reads it.
 */

/** Texels per texture row (a power of two: kernels split an index with a shift and a mask). */
export const TEXTURE_LINE = 1024;
const TEXEL_BYTES = 16;

/** A pooled texture and its one view (bind groups are cached by view). */
export interface PooledTexture {
  readonly texture: GPUTexture;
  readonly view: GPUTextureView;
}

export class TexturePool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, PooledTexture[]>();
  #pending: PooledTexture[] = [];
  /** Bytes of all textures alive (they are never destroyed: a step reuses its textures). */
  numBytes = 0;

  /** The most texture rows, and floats, one texture holds on this device (read once: `limits` is a native call). */
  readonly #maxRows: number;
  readonly maxFloats: number;

  constructor(device: GPUDevice) {
    this.#device = device;
    this.#maxRows = device.limits.maxTextureDimension2D;
    this.maxFloats = this.#maxRows * TEXTURE_LINE * 4;
  }

  /**
   * Records copies of the first `floats` floats of `buffer` into a texture, rounded up to a whole
   * texel (pooled buffers are multiples of 16 bytes: the last texel's extra floats are junk).
   */
  copyIn(encoder: GPUCommandEncoder, buffer: GPUBuffer, floats: number): GPUTextureView {
    const texels = Math.ceil(floats / 4);
    const fullRows = Math.floor(texels / TEXTURE_LINE);
    const rest = texels % TEXTURE_LINE;
    const pooled = this.#acquire(fullRows + (rest > 0 ? 1 : 0));
    const bytesPerRow = TEXTURE_LINE * TEXEL_BYTES;
    if (fullRows > 0) {
      encoder.copyBufferToTexture(
        { buffer, bytesPerRow, rowsPerImage: fullRows },
        { texture: pooled.texture },
        [TEXTURE_LINE, fullRows, 1],
      );
    }
    if (rest > 0) {
      encoder.copyBufferToTexture(
        { buffer, offset: fullRows * bytesPerRow, bytesPerRow },
        { texture: pooled.texture, origin: [0, fullRows, 0] },
        [rest, 1, 1],
      );
    }
    // Read by this submit only: reusable once it is submitted.
    this.#pending.push(pooled);
    return pooled.view;
  }

  /** Called after each submit: textures used by it join the free lists. */
  recycle(): void {
    for (const pooled of this.#pending) {
      const height = pooled.texture.height;
      const list = this.#free.get(height);
      if (list) list.push(pooled);
      else this.#free.set(height, [pooled]);
    }
    this.#pending = [];
  }

  #acquire(rows: number): PooledTexture {
    const height = Math.min(
      2 ** Math.ceil(Math.log2(Math.max(1, rows))),
      this.#maxRows,
    );
    const free = this.#free.get(height)?.pop();
    if (free) return free;
    const texture = this.#device.createTexture({
      size: [TEXTURE_LINE, height, 1],
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    this.numBytes += TEXTURE_LINE * height * TEXEL_BYTES;
    return { texture, view: texture.createView() };
  }
}
