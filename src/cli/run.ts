/**
 * `deno task train`: load the data, build (or resume) the model, fit it with
 * a progress bar and a checkpoint after each epoch, then evaluate it on the
 * test set and write the run directory: model.json + weights.safetensors,
 * history.json, curves.svg, report.txt and checkpoints/.
 */
import * as wg from "../../mod.ts";
import { DatasetFormatError, DatasetUnavailableError } from "../../datasets/mod.ts";
import { resolveCacheRoot } from "../../datasets/sources.ts";
import { joinPath, writeFileAtomic } from "../io/files.ts";
import { defaultWriter } from "../models/progress.ts";
import {
  type Command,
  helpText,
  isGate,
  parseCommand,
  resolveOptions,
  type TrainOptions,
  UsageError,
} from "./args.ts";
import { learningCurvesSvg } from "./charts.ts";
import {
  hasCheckpoint,
  loadCheckpointModel,
  readCheckpoint,
  type RunState,
  writeCheckpoint,
} from "./checkpoint.ts";
import { loadRunData, type RunData } from "./data.ts";
import { createModel, scheduleCallback, subSeed } from "./models.ts";
import { EpochProgress, formatDuration } from "./progress.ts";
import { reportText, scorePredictions } from "./report.ts";
import { StopRequest } from "./stop.ts";

/** How main talks to the world; tests replace the parts they watch. */
export interface MainIO {
  /** Where progress and messages go (default: stdout, redrawn in place on a terminal). */
  writer?: wg.ProgressWriter;
  /** Aborting it is a Ctrl-C: training stops after the current step. */
  signal?: AbortSignal;
  /** Listen for SIGINT and SIGTERM (default: true unless `signal` is given). */
  handleSignals?: boolean;
  /** Called after each completed epoch, before its checkpoint is written (a stop requested here is saved). */
  onEpochEnd?: (epoch: number) => void | Promise<void>;
}

/** Exit statuses: done, failed, bad command line, interrupted (128 + SIGINT, as a shell reports it). */
export const EXIT = { ok: 0, error: 1, usage: 2, interrupted: 130 } as const;

/** Epochs shorter than this are checkpointed at most this often (the last and an interrupted one always). */
const CHECKPOINT_INTERVAL_MS = 1000;
/** How often, at most, the training loop lets signal handlers run (a macrotask turn). */
const YIELD_INTERVAL_MS = 100;
/** Examples per batch for validation and test (no gradients: larger batches are fine). */
const EVAL_BATCH = 256;

/**
 * Runs the CLI.
 *
 * @param args The arguments after `deno task train`.
 * @param io Where output goes, and how a stop is requested.
 * @returns The exit status (see EXIT).
 */
export async function main(args: readonly string[], io: MainIO = {}): Promise<number> {
  const writer = io.writer ?? defaultWriter();
  const say = (text: string) => writer.write(`${text}\n`);
  let command: Command;
  try {
    command = parseCommand(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(`error: ${error.message}\nRun \`deno task train --help\` for the options.`);
    return EXIT.usage;
  }
  if (command.kind === "help") {
    writer.write(helpText());
    return EXIT.ok;
  }
  const stop = new StopRequest(say, io.signal, io.handleSignals ?? io.signal === undefined);
  try {
    return await train(command, writer, say, stop, io);
  } catch (error) {
    say(`error: ${describe(error)}`);
    return error instanceof UsageError ? EXIT.usage : EXIT.error;
  } finally {
    stop.dispose();
  }
}

/** An error as the user should see it: known kinds by their message, others with their stack. */
function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return `${error.message}\n\`deno task train\` may write only under runs/ and the dataset cache, and ` +
      "read the project and that cache (see README.md, Training). For other directories run " +
      "`deno run --allow-read --allow-write=<dir> --allow-env --allow-net train.ts ...` yourself.";
  }
  const known = [
    UsageError,
    DatasetUnavailableError,
    DatasetFormatError,
    wg.CheckpointFormatError,
    wg.DeviceError,
    Deno.errors.NotFound,
  ];
  if (known.some((kind) => error instanceof kind)) return (error as Error).message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** `runs/<dataset>-<model>-<YYYYMMDD>-<HHMMSS>`, with a suffix if that exists. */
async function defaultRunDir(options: TrainOptions): Promise<string> {
  const d = new Date(), p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
  const base = `runs/${options.dataset}-${options.model}-${stamp}`;
  for (let i = 1;; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    try {
      await Deno.stat(dir);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return dir;
      throw error;
    }
  }
}

/**
 * Keeps autotuning winners in the dataset cache (which the train task may
 * write), so kernels are timed once per machine, not once per run.
 */
async function useStoredTuning(dataDir: string | undefined): Promise<void> {
  let root: string;
  try {
    root = resolveCacheRoot(dataDir);
  } catch {
    return; // no cache directory: tune in memory only
  }
  await wg.useTuningStore(wg.fileTuningStore(joinPath(root, "tuning.json")));
}

async function train(
  command: Extract<Command, { kind: "train" }>,
  writer: wg.ProgressWriter,
  say: (text: string) => void,
  stop: StopRequest,
  io: MainIO,
): Promise<number> {
  const { location, given } = command;
  // ---- what to run, and where ----
  let runDir: string, state: RunState;
  let resumeFrom: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  if (location.resume !== null) {
    runDir = location.resume.replace(/\/+$/, "") || "/";
    resumeFrom = await readCheckpoint(runDir);
    const saved = resumeFrom.state;
    if (command.dataset !== null && command.dataset !== saved.options.dataset) {
      throw new UsageError(`${runDir} is a run on ${saved.options.dataset}, not ${command.dataset}`);
    }
    const epochs = given.epochs ?? saved.options.epochs;
    if (epochs < saved.epochsDone) {
      throw new UsageError(
        `--epochs ${epochs}: the run in ${runDir} has done ${saved.epochsDone} epochs already`,
      );
    }
    state = { ...saved, options: { ...saved.options, epochs } };
  } else {
    const options = resolveOptions(command.dataset!, given);
    runDir = location.out ?? await defaultRunDir(options);
    if (await hasCheckpoint(runDir)) {
      throw new UsageError(
        `${runDir} already holds a run: continue it with --resume ${runDir}, or pick another --out`,
      );
    }
    state = {
      version: 1,
      options,
      epochsDone: 0,
      history: {},
      epochSeconds: [],
      started: new Date().toISOString(),
    };
  }
  const options = state.options;

  // ---- data and model ----
  say(`Loading ${options.dataset}...`);
  let lastDownloadNote = 0;
  const data = await loadRunData(options, location, ({ url, receivedBytes, totalBytes }) => {
    if (performance.now() - lastDownloadNote < 1000) return;
    lastDownloadNote = performance.now();
    const of = totalBytes ? ` of ${(totalBytes / 1e6).toFixed(1)} MB` : " MB";
    say(`  downloading ${url}: ${(receivedBytes / 1e6).toFixed(1)}${of}`);
  });
  await useStoredTuning(location.dataDir ?? undefined);
  const sizes = `${n(data.train)} training, ${n(data.validation)} validation, ${n(data.test)} test examples`;
  say(`${options.dataset}: ${sizes} (${data.source})`);
  if (data.note) say(`  note: ${data.note}`);
  if (stop.requested) return stopped(say, runDir, state, null);

  const model = resumeFrom
    ? await loadCheckpointModel(resumeFrom)
    : createModel(options, { inputShape: data.inputShape, classes: data.classNames.length });
  try {
    model.summary(undefined, undefined, say);
    const limit = options.limit !== null ? `, limit ${options.limit}` : "";
    const epochs = plural(options.epochs, "epoch");
    say(
      `Training: ${options.optimizer} lr ${options.lr} (${
        options.lrSchedule ?? "constant"
      }), batch ${options.batchSize}, ${epochs}, seed ${options.seed}${limit}`,
    );
    say(`Run directory: ${runDir}`);
    if (resumeFrom) say(`Resuming after epoch ${state.epochsDone} (checkpoint ${resumeFrom.dir})`);
    stop.onStop = () => (model.stopTraining = true);
    let checkpointDir = resumeFrom?.dir ?? await writeCheckpoint(runDir, model, state);
    if (state.epochsDone < options.epochs) {
      say(`Ctrl-C stops after the current step; \`deno task train --resume ${runDir}\` then continues.`);
      checkpointDir = await fitWithCheckpoints(model, data, state, runDir, checkpointDir, writer, stop, io);
      if (state.epochsDone < options.epochs) return stopped(say, runDir, state, checkpointDir);
    } else {
      say(`All ${options.epochs} epochs are done: evaluating the checkpoint.`);
    }
    await finish(model, data, state, runDir, say);
    return EXIT.ok;
  } finally {
    model.optimizer?.dispose();
    model.dispose();
  }
}

/** Fits from `state.epochsDone` to `state.options.epochs`, checkpointing; returns the newest checkpoint. */
async function fitWithCheckpoints(
  model: wg.Sequential,
  data: RunData,
  state: RunState,
  runDir: string,
  initialCheckpoint: string,
  writer: wg.ProgressWriter,
  stop: StopRequest,
  io: MainIO,
): Promise<string> {
  const options = state.options;
  const steps = Math.ceil(n(data.train) / options.batchSize);
  // Hundreds of one-step epochs (the gates) print about 30 of their lines.
  const every = steps === 1 && options.epochs > 30 ? Math.ceil(options.epochs / 30) : 1;
  const progress = new EpochProgress(writer, options.epochs, steps, every);
  let checkpointDir = initialCheckpoint;
  let stepsBegun = 0, lastYield = performance.now(), lastCheckpoint = performance.now();
  const hooks: wg.CustomCallbackArgs = {
    onTrainBegin() {
      if (stop.requested) model.stopTraining = true; // a Ctrl-C that came before fit began
    },
    onEpochBegin(epoch) {
      stepsBegun = 0;
      progress.epochBegin(epoch);
    },
    async onBatchBegin(batch) {
      stepsBegun = batch + 1;
      // A step never awaits, so a signal is only seen if the loop yields a macrotask turn now and then.
      if (performance.now() - lastYield >= YIELD_INTERVAL_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      if (stop.requested) model.stopTraining = true; // fit stops after this step
    },
    async onEpochEnd(epoch, logs = {}) {
      if (stepsBegun < steps) {
        progress.interrupted(stepsBegun); // a partial epoch: not recorded, resumed from its start
        return;
      }
      const all = { loss: logs.loss, accuracy: logs.accuracy, ...await validate(model, data) };
      const seconds = progress.epochEnd(all);
      for (const [key, value] of Object.entries(all)) (state.history[key] ??= []).push(value);
      state.epochSeconds.push(seconds);
      state.epochsDone = epoch + 1;
      await io.onEpochEnd?.(epoch);
      // Every epoch; epochs shorter than a second at most once a second (a stop or the last epoch always).
      const due = performance.now() - lastCheckpoint >= CHECKPOINT_INTERVAL_MS;
      if (due || state.epochsDone === options.epochs || stop.requested) {
        checkpointDir = await writeCheckpoint(runDir, model, state);
        await writeCurves(runDir, state);
        lastCheckpoint = performance.now();
      }
      if (stop.requested) model.stopTraining = true;
    },
  };
  if (progress.live) hooks.onBatchEnd = (batch, logs = {}) => progress.update(batch + 1, logs);
  await model.fit(data.train.x, data.train.y, {
    epochs: options.epochs,
    initialEpoch: state.epochsDone,
    batchSize: options.batchSize,
    seed: subSeed(options.seed, 1),
    verbose: 0,
    callbacks: [scheduleCallback(options, steps, model), hooks],
  });
  return checkpointDir;
}

function n(split: { x: wg.HostData } | null): number {
  return split?.x.shape[0] ?? 0;
}

/** val_loss and val_accuracy, or nothing without a validation set. */
async function validate(model: wg.Sequential, data: RunData): Promise<wg.Logs> {
  if (data.validation === null) return {};
  const [loss, accuracy] = model.evaluate(data.validation.x, data.validation.y, {
    batchSize: EVAL_BATCH,
  }) as wg.Tensor[];
  const [l, a] = await Promise.all([loss.data(), accuracy.data()]);
  loss.dispose();
  accuracy.dispose();
  return { val_loss: l[0], val_accuracy: a[0] };
}

/** history.json (tfjs's History: `epoch`, `history`) and curves.svg, each written atomically. */
async function writeCurves(runDir: string, state: RunState): Promise<void> {
  const history = {
    epoch: state.epochSeconds.map((_, i) => i),
    history: state.history,
    epochSeconds: state.epochSeconds.map((s) => Number(s.toFixed(3))),
  };
  await writeFileAtomic(`${runDir}/history.json`, JSON.stringify(history, null, 1) + "\n");
  const { dataset, model } = state.options;
  await writeFileAtomic(`${runDir}/curves.svg`, learningCurvesSvg(state.history, `${dataset}, ${model}`));
}

/** The interrupted run's last words: where its checkpoint is and how to continue. */
function stopped(
  say: (text: string) => void,
  runDir: string,
  state: RunState,
  checkpoint: string | null,
): number {
  const { epochsDone, options } = state;
  say(`Stopped after ${epochsDone} of ${options.epochs} epochs.`);
  if (checkpoint !== null) {
    say(`The checkpoint ${checkpoint} holds the model and optimizer state after epoch ${epochsDone}.`);
    say(`Continue with: deno task train --resume ${runDir}`);
  }
  return EXIT.interrupted;
}

/** Test-set evaluation, then the run directory's final files. */
async function finish(
  model: wg.Sequential,
  data: RunData,
  state: RunState,
  runDir: string,
  say: (text: string) => void,
): Promise<void> {
  const { options } = state;
  const probabilities = model.predict(data.test.x, { batchSize: EVAL_BATCH });
  const values = await probabilities.data() as Float32Array;
  probabilities.dispose();
  const result = scorePredictions(values, data.test.y.data, data.classNames.length);
  const trainingSeconds = state.epochSeconds.reduce((a, b) => a + b, 0);
  say(
    `Test accuracy: ${(result.accuracy * 100).toFixed(2)}% (${result.correct} of ${result.count}), ` +
      `test loss ${result.loss.toFixed(4)}; training took ${formatDuration(trainingSeconds)}`,
  );
  await model.save(runDir);
  await writeCurves(runDir, state);
  const last = (key: string) => state.history[key]?.at(-1)?.toFixed(4) ?? "-";
  const report = reportText(result, {
    title: `deno task train ${options.dataset} --model ${options.model}: test report`,
    lines: [
      ["run directory", runDir],
      [
        "data",
        `${data.source}; ${n(data.train)} train, ${n(data.validation)} validation, ${n(data.test)} test`,
      ],
      ["model", `${options.model}, ${model.countParams().toLocaleString("en-US")} parameters`],
      [
        "training",
        `${
          plural(options.epochs, "epoch")
        }, batch ${options.batchSize}, ${options.optimizer} lr ${options.lr} (${
          options.lrSchedule ?? "constant"
        }), ` +
        `seed ${options.seed}${options.limit !== null ? `, limit ${options.limit}` : ""}` +
        (isGate(options.dataset) ? "" : `, validation split ${options.validationSplit}`),
      ],
      ["training time", `${formatDuration(trainingSeconds)} (${trainingSeconds.toFixed(1)} s)`],
      [
        "last epoch",
        `loss ${last("loss")}, accuracy ${last("accuracy")}` +
        (data.validation ? `, val_loss ${last("val_loss")}, val_accuracy ${last("val_accuracy")}` : ""),
      ],
    ],
    classNames: data.classNames,
    note: data.note,
  });
  await writeFileAtomic(`${runDir}/report.txt`, report);
  say(
    `Wrote ${runDir}/: model.json, weights.safetensors, history.json, curves.svg, report.txt, checkpoints/`,
  );
}

/** "1 epoch", "12 epochs". */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
