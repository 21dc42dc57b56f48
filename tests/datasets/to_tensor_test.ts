/**
 * toTensor: CPU examples to a GPU tensor of the same shape and dtype (raw
 * bytes become float32), and a shape that does not fit the data is refused.
 */
import { assertEquals, assertThrows } from "@std/assert";
import "../_helpers/gpu.ts";
import * as wg from "../../mod.ts";
import { toTensor } from "../../datasets/mod.ts";

Deno.test("toTensor: bytes, float32 and int32 arrays keep their values, shape and dtype", async () => {
  const pixels = toTensor({ data: new Uint8Array([0, 128, 255, 7]), shape: [1, 2, 2, 1], dtype: "float32" });
  assertEquals(pixels.shape, [1, 2, 2, 1]);
  assertEquals(pixels.dtype, "float32");
  assertEquals([...await pixels.data()], [0, 128, 255, 7]);
  const labels = toTensor({ data: new Int32Array([3, 9]), shape: [2], dtype: "int32" });
  assertEquals(labels.dtype, "int32");
  assertEquals([...await labels.data()], [3, 9]);
  const floats = toTensor({ data: new Float32Array([0.5, 1]), shape: [2, 1], dtype: "float32" });
  assertEquals(await floats.array(), [[0.5], [1]]);
  for (const t of [pixels, labels, floats]) t.dispose();
  assertThrows(
    () => toTensor({ data: new Float32Array(5), shape: [2, 3], dtype: "float32" }),
    wg.ShapeError,
    "5 values do not fill shape [2,3]",
  );
});
