/**
 * From CPU examples to a GPU tensor. The only dataset file that touches the
 * engine's GPU side; everything else stays on the CPU.
 * @module
 */
import { ShapeError } from "../src/errors.ts";
import { fromData, type Tensor } from "../src/tensor.ts";
import type { DataArray } from "./dataset.ts";

/**
 * Uploads a DataArray as a tensor of its shape and dtype (raw bytes become
 * float32). Float32Array and Int32Array data upload without a copy. Meant
 * for small sets and for batches: a whole training set may not fit one GPU
 * buffer (MNIST's 60000 float32 images are 188 MB; many adapters bind at
 * most 128 MB), so stream batches from the CPU arrays with `batches`.
 * The WebGPU device must be ready (importing the engine's mod.ts does that).
 *
 * @param array Data, shape and dtype, e.g. `dataset.test.x`.
 * @returns A new tensor; dispose it (or create it inside `tidy`).
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { toTensor } from "./to_tensor.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const t = toTensor({ data: new Uint8Array([0, 255]), shape: [1, 2], dtype: "float32" });
 * assertEquals(t.shape, [1, 2]);
 * assertEquals([...(await t.data())], [0, 255]);
 * t.dispose();
 * assertEquals(wg.memory().numTensors, 0);
 * ```
 */
export function toTensor(array: DataArray): Tensor {
  const { data, shape, dtype } = array;
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new ShapeError(`toTensor: ${data.length} values do not fill shape [${shape}] (${size} elements)`);
  }
  if (dtype === "int32") return fromData(data instanceof Int32Array ? data : Int32Array.from(data), shape);
  return fromData(data instanceof Float32Array ? data : Float32Array.from(data), shape);
}
