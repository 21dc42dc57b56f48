/**
 * The examples' data helper: the first `limit` examples of a loaded split,
 * as tensors, so `--limit 2000` makes a quick trial of any example.
 */
import * as wg from "../mod.ts";
import type { Split } from "../datasets/mod.ts";

/** The first `limit` examples (all when 0) as tensors: x as loaded, y as int32 labels or one-hot rows. */
export function take(split: Split, limit: number): { x: wg.Tensor; y: wg.Tensor; count: number } {
  const all = split.y.shape[0];
  const count = limit > 0 ? Math.min(limit, all) : all;
  const xRow = split.x.data.length / all, yRow = split.y.data.length / all;
  const xData = Float32Array.from(split.x.data.subarray(0, count * xRow));
  const yData = split.y.dtype === "int32"
    ? Int32Array.from(split.y.data.subarray(0, count * yRow))
    : Float32Array.from(split.y.data.subarray(0, count * yRow));
  return {
    x: wg.tensor(xData, [count, ...split.x.shape.slice(1)]),
    y: wg.tensor(yData, [count, ...split.y.shape.slice(1)], split.y.dtype),
    count,
  };
}
