/**
 * Planning reads through 64 KiB uniform windows (see WINDOW_FLOATS in
 * shaders/conv.ts): how many whole images fit one window, and a tensor padded
 * so that every window it is bound through lies inside its buffer.
 */
import { WINDOW_FLOATS } from "../../shaders/conv.ts";
import { runtime } from "../gpu/runtime.ts";
import { type Shape, sizeOf } from "../shape.ts";
import { type DType, empty, type Tensor } from "../tensor.ts";

export { WINDOW_FLOATS };

/**
 * Whether whole images are read through uniform windows ("bands"): on a fallback
 * adapter (llvmpipe) a uniform load is ~14x cheaper than a storage load; on a
 * GPU, uniform reads at different addresses per invocation serialize, so the
 * storage path is kept there. (Reads where every invocation takes the same
 * address, like the filter blocks, use uniform buffers everywhere.)
 */
export function bandsPay(): boolean {
  return runtime().ctx.isFallbackAdapter;
}

export function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Floats k·x is a multiple of, for every k, so that k·x floats is 256 bytes aligned: 64 / gcd(x, 64). */
export function alignOf(floats: number): number {
  return 64 / gcd(floats, 64);
}

/**
 * Whole images of `imageFloats` floats per window, a multiple of the alignment
 * (window offsets must be multiples of 256 bytes); 0 when not even one fits.
 */
export function imagesPerWindow(imageFloats: number): number {
  if (imageFloats === 0 || !bandsPay()) return 0;
  const align = alignOf(imageFloats);
  return Math.floor(WINDOW_FLOATS / imageFloats / align) * align;
}

/**
 * An uninitialized tensor whose buffer has WINDOW_FLOATS floats of slack, so
 * that it can be read through uniform windows without a padded copy (`windowed`).
 */
export function emptyWindowed(shape: Shape, dtype: DType = "float32"): Tensor {
  const padded = empty([sizeOf(shape) + WINDOW_FLOATS], dtype);
  const t = padded.view(shape);
  padded.dispose();
  return t;
}

/** `t`, or a copy with room for `windows` uniform windows `stride` floats apart (the last may reach past its end). */
export function windowed(t: Tensor, windows: number, stride: number): Tensor {
  const floats = (windows - 1) * stride + WINDOW_FLOATS;
  if (t.buffer.size >= floats * 4) return t;
  const padded = empty([floats], t.dtype);
  runtime().copy(t.buffer, 0, padded.buffer, 0, t.size * 4);
  return padded;
}

/** A window of `t` starting `offsetFloats` in. */
export function windowAt(t: Tensor, offsetFloats: number): GPUBufferBinding {
  return { buffer: t.buffer, offset: offsetFloats * 4, size: WINDOW_FLOATS * 4 };
}
