/**
 * Training callbacks as in tfjs (`onEpochEnd(epoch, logs)`, ...) with Keras's
 * behaviour: History, earlyStopping (with restoreBestWeights) and
 * modelCheckpoint. Logs hold numbers read back from the GPU.
 */
import type { Tensor } from "../tensor.ts";
import type { Sequential } from "./sequential.ts";

/** Metric values by key: loss, acc, val_loss, ... (batch logs also have batch and size). */
export type Logs = Record<string, number>;

/** The hooks a callback may define; plain objects with some of them are callbacks too. */
export interface CustomCallbackArgs {
  /** Before the first epoch. */
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  /** After the last epoch (or the one training stopped at). */
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  /** Before each epoch's first batch. */
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  /** `logs` has the epoch's mean loss and metrics, and the validation ones (val_*) if any. */
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  /** Before each training step; `logs` has `batch` and `size`. */
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  /**
   * `logs` has `batch`, `size`, and the running epoch means of the loss and
   * metrics as of the last readback (they are read from the GPU at most
   * about 10 times a second, not after every batch).
   */
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

/** What fit tells callbacks about the run. */
export interface TrainingParams {
  /** The epoch count fit trains to. */
  epochs: number;
  /** The first epoch's index. */
  initialEpoch: number;
  /** Training examples (after the validation split). */
  samples: number;
  /** Steps (batches) per epoch. */
  steps: number;
  /** Examples per step. */
  batchSize: number;
  /** fit's verbosity. */
  verbose: number;
  /** Whether validation runs after each epoch. */
  doValidation: boolean;
  /** The keys of the epoch logs. */
  metrics: string[];
}

/**
 * A callback class: fit calls `setModel` and `setParams` before `onTrainBegin`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { Callback } from "./callbacks.ts"; // a type in mod.ts; pass a plain { onEpochEnd } object there
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const y = wg.tensor([[0], [1], [1], [0]]);
 * class CountEpochs extends Callback {
 *   epochs = 0;
 *   onEpochEnd() {
 *     this.epochs++;
 *   }
 * }
 * const counter = new CountEpochs();
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [2] })] });
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
 * await model.fit(x, y, { epochs: 3, verbose: 0, callbacks: [counter] });
 * assertEquals(counter.epochs, 3);
 * ```
 */
export class Callback {
  /** The model being trained (set by fit). */
  model: Sequential | null = null;
  /** What fit told the callback about the run. */
  params: TrainingParams | null = null;
  /** Called by fit before training. */
  setModel(model: Sequential): void {
    this.model = model;
  }
  /** Called by fit before training. */
  setParams(params: TrainingParams): void {
    this.params = params;
  }
}

/**
 * fit's result: the logs of every epoch, by key (`history.history.loss[epoch]`).
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const y = wg.tensor([[0], [1], [1], [0]]);
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [2] })] });
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError", metrics: ["accuracy"] });
 * const history: wg.History = await model.fit(x, y, { epochs: 3, verbose: 0 });
 * assertEquals(history.epoch, [0, 1, 2]);
 * assertEquals(Object.keys(history.history).sort(), ["accuracy", "loss"]);
 * ```
 */
export class History extends Callback {
  /** The epochs run (0-based, from initialEpoch). */
  epoch: number[] = [];
  /** Each key's value per epoch. */
  history: Record<string, number[]> = {};

  /** Records the epoch's logs. */
  onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) (this.history[key] ??= []).push(value);
  }
}

/** Whether larger is better for a monitored key (Keras's mode "auto"). */
function higherIsBetter(monitor: string, mode: "auto" | "min" | "max"): boolean {
  if (mode !== "auto") return mode === "max";
  return monitor.endsWith("acc") || monitor.endsWith("accuracy") || monitor.endsWith("auc");
}

/** Options of earlyStopping, as in Keras. */
export interface EarlyStoppingArgs {
  /** The key of the epoch logs to watch (default "val_loss"). */
  monitor?: string;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** 1 prints when it stops. */
  verbose?: number;
  /** "auto" (max for accuracies, else min), "min" or "max". */
  mode?: "auto" | "min" | "max";
  /** Training stops unless the monitored value beats this. */
  baseline?: number;
  /** When stopping, restore the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

/** Stops training when a monitored value stops improving (Keras's EarlyStopping). */
export class EarlyStopping extends Callback {
  /** The epoch-log key watched. */
  readonly monitor: string;
  /** The least change that counts as an improvement. */
  readonly minDelta: number;
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** 1 prints what the callback does. */
  readonly verbose: number;
  /** The value to beat, if any. */
  readonly baseline: number | undefined;
  /** Whether stopping restores the best epoch's weights. */
  readonly restoreBestWeights: boolean;
  readonly #higher: boolean;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch training stopped at (0 if it did not stop early). */
  stoppedEpoch = 0;
  /** The best value seen. */
  best: number = Infinity;
  /** The epoch the best value was seen at. */
  bestEpoch = 0;
  #bestWeights: Tensor[] | null = null;

  /** Use the factory in `wg.callbacks`. */
  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? "val_loss";
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    this.verbose = args.verbose ?? 0;
    this.baseline = args.baseline;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.#higher = higherIsBetter(this.monitor, args.mode ?? "auto");
  }

  #improves(value: number, reference: number): boolean {
    return this.#higher ? value - this.minDelta > reference : value + this.minDelta < reference;
  }

  /** Resets the state for a new fit. */
  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.#higher ? -Infinity : Infinity;
    this.bestEpoch = 0;
    this.#dropBest();
  }

  /** Checks the monitored value (see the class comment). */
  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const value = logs[this.monitor];
    if (value === undefined) {
      console.warn(
        `earlyStopping: '${this.monitor}' is not in the epoch logs (${Object.keys(logs).join(", ")}); ` +
          "nothing is monitored",
      );
      return;
    }
    const model = this.model!;
    if (this.restoreBestWeights && this.#bestWeights === null) this.#bestWeights = model.getWeights();
    this.wait++;
    if (this.#improves(value, this.best)) {
      this.best = value;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) {
        this.#dropBest();
        this.#bestWeights = model.getWeights();
      }
      if (this.baseline === undefined || this.#improves(value, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
      if (this.restoreBestWeights && this.#bestWeights !== null) {
        if (this.verbose > 0) {
          console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
        }
        model.setWeights(this.#bestWeights);
      }
    }
  }

  /** Reports the stop (verbose) and frees the kept weights. */
  onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) {
      console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    }
    this.#dropBest();
  }

  #dropBest(): void {
    for (const t of this.#bestWeights ?? []) t.dispose();
    this.#bestWeights = null;
  }
}

/**
 * Keras's EarlyStopping: stop when `monitor` has not improved for `patience` epochs.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const y = wg.tensor([[0], [1], [1], [0]]);
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [2] })] });
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
 * // Stop once the loss has not improved by 1 for 2 epochs: after epoch 3.
 * const stop = wg.callbacks.earlyStopping({ monitor: "loss", minDelta: 1, patience: 2 });
 * const history = await model.fit(x, y, { epochs: 100, verbose: 0, callbacks: [stop] });
 * assertEquals(history.epoch.length, 3);
 * ```
 */
export function earlyStopping(args?: EarlyStoppingArgs): EarlyStopping {
  return new EarlyStopping(args);
}

/**
 * Sets the optimizer's learning rate at the start of each epoch from
 * `schedule(epoch, lr)` (Keras's LearningRateScheduler). The epoch is
 * 0-based and counts from the start of training, so a resumed run
 * (`initialEpoch`) continues the same schedule.
 */
export class LearningRateScheduler extends Callback {
  /** The schedule: epoch and current learning rate → the epoch's learning rate. */
  readonly schedule: (epoch: number, lr: number) => number;
  /** 1 prints each change. */
  readonly verbose: number;

  /** Use the factory in `wg.callbacks`. */
  constructor(schedule: (epoch: number, lr: number) => number, verbose = 0) {
    super();
    this.schedule = schedule;
    this.verbose = verbose;
  }

  /** Sets the epoch's learning rate. */
  onEpochBegin(epoch: number): void {
    const optimizer = this.model?.optimizer;
    if (!optimizer) throw new Error("learningRateScheduler: the model is not compiled");
    const lr = this.schedule(epoch, optimizer.learningRate);
    if (!Number.isFinite(lr) || lr < 0) {
      throw new RangeError(`learningRateScheduler: the schedule gave ${lr} for epoch ${epoch}`);
    }
    optimizer.learningRate = lr;
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: learning rate ${lr}.`);
  }
}

/**
 * A callback that sets the learning rate at the start of each epoch (Keras's
 * `LearningRateScheduler(schedule)`).
 *
 * @param schedule (epoch, lr) → the epoch's learning rate; epochs count from 0.
 * @param verbose 1 prints each change.
 * @returns The callback, for `fit({ callbacks })`.
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [1] })] });
 * model.compile({ optimizer: wg.train.sgd(0.1), loss: "meanSquaredError" });
 * // Halve the rate every epoch: 0.1, 0.05, 0.025.
 * const halve = wg.callbacks.learningRateScheduler((epoch) => 0.1 * 0.5 ** epoch);
 * await model.fit(wg.tensor([[1]]), wg.tensor([[2]]), { epochs: 3, verbose: 0, callbacks: [halve] });
 * assertAlmostEquals(model.optimizer!.learningRate, 0.025);
 * ```
 */
export function learningRateScheduler(
  schedule: (epoch: number, lr: number) => number,
  verbose = 0,
): LearningRateScheduler {
  return new LearningRateScheduler(schedule, verbose);
}

/** Options of modelCheckpoint, as in Keras's ModelCheckpoint. */
export interface ModelCheckpointArgs {
  /**
   * Where to save (a `file://` URL or path), formatted per epoch like Keras:
   * `{epoch}`, `{epoch:02d}`, `{val_loss:.4f}` and other log keys.
   */
  filepath: string;
  /** The key compared when saveBestOnly (default "val_loss"). */
  monitor?: string;
  /** Only save when the monitored value improves (default false). */
  saveBestOnly?: boolean;
  /** "auto" (max for accuracies, else min), "min" or "max". */
  mode?: "auto" | "min" | "max";
  /** 1 prints each save. */
  verbose?: number;
  /** Also save the optimizer's state (default false). */
  includeOptimizer?: boolean;
}

/** Fills `{key}` / `{key:spec}` (Python format specs d and f) from the epoch number and logs. */
export function formatFilepath(template: string, epoch: number, logs: Logs): string {
  const values: Logs = { ...logs, epoch };
  return template.replace(/\{(\w+)(?::(\d*)(?:\.(\d+))?([df]))?\}/g, (whole, key, width, precision, type) => {
    const value = values[key];
    if (value === undefined) return whole;
    let text = type === "d"
      ? String(Math.round(value))
      : type === "f"
      ? value.toFixed(precision === undefined ? 6 : Number(precision))
      : String(value);
    if (width) text = text.padStart(Number(width), width.startsWith("0") ? "0" : " ");
    return text;
  });
}

/** Saves the model after each epoch (or only when it improves), as Keras's ModelCheckpoint. */
export class ModelCheckpoint extends Callback {
  /** Where to save, formatted per epoch. */
  readonly filepath: string;
  /** The epoch-log key watched. */
  readonly monitor: string;
  /** Only save improvements. */
  readonly saveBestOnly: boolean;
  /** 1 prints what the callback does. */
  readonly verbose: number;
  /** Also save the optimizer's state. */
  readonly includeOptimizer: boolean;
  readonly #higher: boolean;
  /** The best monitored value so far. */
  best: number;

  /** Use the factory in `wg.callbacks`. */
  constructor(args: ModelCheckpointArgs) {
    super();
    if (typeof args?.filepath !== "string") throw new TypeError("modelCheckpoint: filepath is required");
    this.filepath = args.filepath;
    this.monitor = args.monitor ?? "val_loss";
    this.saveBestOnly = args.saveBestOnly ?? false;
    this.verbose = args.verbose ?? 0;
    this.includeOptimizer = args.includeOptimizer ?? false;
    this.#higher = higherIsBetter(this.monitor, args.mode ?? "auto");
    this.best = this.#higher ? -Infinity : Infinity;
  }

  /** Checks the monitored value (see the class comment). */
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const path = formatFilepath(this.filepath, epoch + 1, logs);
    if (this.saveBestOnly) {
      const value = logs[this.monitor];
      if (value === undefined) {
        console.warn(
          `modelCheckpoint: can save the best model only with '${this.monitor}' in the logs; skipping`,
        );
        return;
      }
      if (!(this.#higher ? value > this.best : value < this.best)) return;
      if (this.verbose > 0) {
        console.log(
          `Epoch ${
            epoch + 1
          }: ${this.monitor} improved from ${this.best} to ${value}, saving model to ${path}`,
        );
      }
      this.best = value;
    } else if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: saving model to ${path}`);
    await this.model!.save(path, { includeOptimizer: this.includeOptimizer });
  }
}

/**
 * Keras's ModelCheckpoint: save the model every epoch, or only its best version.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const y = wg.tensor([[0], [1], [1], [0]]);
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [2] })] });
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
 * const dir = await Deno.makeTempDir();
 * const save = wg.callbacks.modelCheckpoint({ filepath: `${dir}/epoch-{epoch}` });
 * await model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [save] });
 * const again = await wg.loadLayersModel(`${dir}/epoch-2/model.json`);
 * assertEquals(again.countParams(), 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function modelCheckpoint(args: ModelCheckpointArgs): ModelCheckpoint {
  return new ModelCheckpoint(args);
}
