/**
 * The engine's error types. Each names what was expected and what came, so a
 * message read on its own says what to fix.
 * @module
 */

/**
 * Shapes that do not fit together, e.g. `matMul: inner dimensions differ: [2,3] vs [4,5]`.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertThrows(() => wg.matMul(wg.zeros([2, 3]), wg.zeros([4, 5])), wg.ShapeError);
 * ```
 */
export class ShapeError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "ShapeError";
}

/**
 * A tensor of the wrong dtype was passed, e.g. int32 where float32 is needed.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertThrows(() => wg.variable(wg.zeros([2]), true, "d", "int32"), wg.DTypeError);
 * ```
 */
export class DTypeError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DTypeError";
}

/**
 * A tensor was used after `dispose()` (or after the `tidy` that owned it ended).
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const t = wg.tensor([1]);
 * t.dispose();
 * assertThrows(() => wg.neg(t), wg.DisposedTensorError);
 * ```
 */
export class DisposedTensorError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DisposedTensorError";
}

/**
 * No usable WebGPU: `navigator.gpu` is missing, no adapter, or the device was lost.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * // ready() rejects with a DeviceError when there is no adapter; here there is one.
 * await wg.ready();
 * assertEquals(new wg.DeviceError("no adapter").name, "DeviceError");
 * ```
 */
export class DeviceError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DeviceError";
}

/**
 * A check that a kernel made on the GPU failed (e.g. a sparse label out of
 * range). Reported at the next readback, since reading it back at once would
 * stall the GPU.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const loss = wg.losses.sparseSoftmaxCrossEntropy(wg.tensor([0, 7], [2], "int32"), wg.zeros([2, 3]));
 * await assertRejects(() => loss.data(), wg.GPUAssertionError, "label 7 of example 1 is out of range");
 * ```
 */
export class GPUAssertionError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "GPUAssertionError";
}

/**
 * A dataset file is truncated or corrupt; the message names the file and byte offset.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * import { parseIdx } from "../datasets/mod.ts";
 *
 * assertThrows(() => parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 9]), "labels"), wg.DatasetFormatError);
 * ```
 */
export class DatasetFormatError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DatasetFormatError";
}

/**
 * A checkpoint file is truncated, tampered with or of another format.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/model.json`, "{ truncated");
 * await assertRejects(() => wg.loadLayersModel(`${dir}/model.json`), wg.CheckpointFormatError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class CheckpointFormatError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "CheckpointFormatError";
}
