/**
 * The engine's error types. Each names what was expected and what came, so a
 * message read on its own says what to fix.
 * @module
 */

/** Shapes that do not fit together, e.g. `matMul: inner dimensions differ: [2,3] vs [4,5]`. */
export class ShapeError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "ShapeError";
}

/** A tensor of the wrong dtype was passed, e.g. int32 where float32 is needed. */
export class DTypeError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DTypeError";
}

/** A tensor was used after `dispose()` (or after the `tidy` that owned it ended). */
export class DisposedTensorError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DisposedTensorError";
}

/** No usable WebGPU: `navigator.gpu` is missing, no adapter, or the device was lost. */
export class DeviceError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DeviceError";
}

/**
 * A check that a kernel made on the GPU failed (e.g. a sparse label out of
 * range). Reported at the next readback, since reading it back at once would
 * stall the GPU.
 */
export class GPUAssertionError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "GPUAssertionError";
}

/** A dataset file is truncated or corrupt; the message names the file and byte offset. */
export class DatasetFormatError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DatasetFormatError";
}

/** A checkpoint file is truncated, tampered with or of another format. */
export class CheckpointFormatError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "CheckpointFormatError";
}
