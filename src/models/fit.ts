/**
 * The training loop behind model.fit and the batched loop behind evaluate
 * and validation. One training step = upload the batch in place, forward,
 * loss, backward, metric sums accumulated on the GPU, optimizer update: one
 * submit, no await. The sums are read back only when the progress bar or a
 * batch callback needs them (at most ~10 times a second) and at epoch end.
 */
import { accumulateKernel } from "../../shaders/metrics.ts";
import { variableGrads } from "../autograd/gradients.ts";
import { withTape } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { tune, tuningPending } from "../gpu/autotune.ts";
import { runtime } from "../gpu/runtime.ts";
import { applyActivation } from "../layers/activations.ts";
import { formatSymbolicShape } from "../layers/layer.ts";
import { cast, reshape } from "../ops/transform.ts";
import { mixSeed, Random } from "../random.ts";
import { formatShape, sizeOf } from "../shape.ts";
import { type DType, empty, type Tensor, tidy, writeData } from "../tensor.ts";
import { Callback, type CustomCallbackArgs, History, type Logs } from "./callbacks.ts";
import { Batcher, HostSource, type ModelData, type Source, toHost, toSource } from "./data.ts";
import { computeLoss, fusableActivation } from "./losses.ts";
import { accuracyKind, accuracyOf, labelsAreSparse, meanAbsoluteError, meanSquaredError } from "./metrics.ts";
import { defaultWriter, Progress, type ProgressWriter } from "./progress.ts";
import type { Sequential } from "./sequential.ts";

/** Options of fit, as in tfjs (plus `seed` and `writer`). */
export interface ModelFitArgs {
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Epochs to train to (default 1); training starts at `initialEpoch`. */
  epochs?: number;
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Callback objects or plain `{ onEpochEnd, onBatchEnd, ... }` hooks. */
  callbacks?: (Callback | CustomCallbackArgs)[] | Callback | CustomCallbackArgs;
  /** Fraction of the examples, taken from the end before shuffling (as Keras), used for validation. */
  validationSplit?: number;
  /** [x, y] to validate on after each epoch (takes precedence over validationSplit). */
  validationData?: [ModelData, ModelData];
  /** Examples per validation batch (default batchSize). */
  validationBatchSize?: number;
  /** Shuffle the training examples before each epoch (default true). */
  shuffle?: boolean;
  /**
   * Seeds the shuffling, so that a run can be reproduced. Epoch e's order depends only on
   * (seed, e): a run resumed with `initialEpoch` replays the orders of an uninterrupted one.
   */
  seed?: number;
  /** The epoch to start at, to resume a run (default 0). */
  initialEpoch?: number;
  /** Where progress goes (default: stdout under Deno, console lines elsewhere). */
  writer?: ProgressWriter;
}

/** Minimum time between readbacks of the running metrics, ms (~10 progress updates a second). */
const READ_INTERVAL_MS = 100;
/**
 * A readback's promise settles ~11 ms after it starts whatever the GPU does (Deno polls the
 * device every 10 ms); awaited this long after it started, it costs ~0.1 ms. So fit starts a
 * live read, goes on training, and awaits it at the first step this much later.
 */
const READ_LATENCY_MS = 15;
/** At most this many epochs' sums wait on the GPU to be read back together (see fitModel). */
const MAX_DEFERRED_EPOCHS = 256;

/** How a compiled model turns a batch of labels and outputs into its loss and metric sums. */
export interface Plan {
  /** The last activation the loss applies to the logits (fused), or null. */
  fused: "softmax" | "sigmoid" | null;
  /** Labels are int32 class indices (sparse loss or sparse accuracy). */
  sparse: boolean;
  /** The labels' dtype: int32 when sparse, float32 for built-in losses, as given for a loss function. */
  labelDType: DType;
  /** Shape of one example's labels as the loss takes them. */
  labelRow: number[];
  /** "loss", then the metric keys: the slots of the sums buffer. */
  keys: string[];
  /** Adds the batch's loss and metrics into sums[base + slot] (weighted by batch size). */
  accumulate(labels: Tensor, output: Tensor, loss: Tensor, sums: Tensor, base: number): void;
}

/** Checks the labels fit the model's output and the loss, and plans the loss and metrics. */
export function makePlan(model: Sequential, labels: Source): Plan {
  const loss = model.lossSpec!;
  const metrics = model.metricSpecs;
  const outShape = model.outputShape;
  const outRow = outShape.slice(1);
  if (outRow.some((d) => d === null)) {
    throw new ShapeError(`fit: the model's output shape ${formatSymbolicShape(outShape)} must be known`);
  }
  const out = outRow as number[];
  const yShape = [labels.n, ...labels.rowShape];
  const auto = accuracyKind(yShape, outShape);
  const sparse = labelsAreSparse(loss.kind, metrics, auto);
  // A loss function of the user's gets the labels as they come (Keras passes y_true unchanged).
  const custom = loss.kind === null && !sparse;
  const labelRow = custom ? [...labels.rowShape] : sparse ? out.slice(0, -1) : out;
  if (!custom && sizeOf(labels.rowShape) !== sizeOf(labelRow)) {
    const hint = sparse
      ? " (sparse losses and metrics take integer class indices; one-hot labels go with categoricalCrossentropy)"
      : sizeOf(labels.rowShape) === 1 && out.at(-1)! > 1
      ? " (integer class labels go with sparseCategoricalCrossentropy)"
      : "";
    throw new ShapeError(
      `labels of shape ${formatShape(yShape)} do not fit the model's output ${
        formatSymbolicShape(outShape)
      } ` +
        `and loss '${loss.name}': expected ${formatShape([labels.n, ...labelRow])}${hint}`,
    );
  }
  const fused = fusableActivation(loss.kind, model.lastActivation);
  const slot = (i: number) => i + 1;
  return {
    fused,
    sparse,
    labelDType: sparse ? "int32" : custom ? labels.dtype : "float32",
    labelRow,
    keys: ["loss", ...metrics.map((m) => m.key)],
    accumulate(yTrue, output, lossValue, sums, base) {
      const batch = output.shape[0];
      accumulate(sums, lossValue, base, batch);
      let probabilities: Tensor | null = null;
      const probs = () => (probabilities ??= fused === null ? output : applyActivation(fused, output));
      metrics.forEach((m, i) => {
        let values: Tensor;
        if (m.fn !== null) values = m.fn(yTrue, probs());
        else if (m.builtin === "mse") values = meanSquaredError(yTrue, probs());
        else if (m.builtin === "mae") values = meanAbsoluteError(yTrue, probs());
        else {
          const kind = m.builtin === "accuracy" ? auto : m.builtin!;
          // On logits, sigmoid(z) > 0.5 ⟺ z > 0; argMax is the same before and after softmax.
          values = accuracyOf(kind, yTrue, output, fused === "sigmoid" ? 0 : 0.5);
        }
        accumulate(sums, values, base + slot(i), batch);
      });
    },
  };
}

/** sums[slot] += batch · mean(values): per-example values are summed, a batch mean is scaled. */
function accumulate(sums: Tensor, values: Tensor, slot: number, batch: number): void {
  if (values.size === 0) return;
  runtime().dispatch(accumulateKernel, undefined, [values.buffer, sums.buffer], {
    n: values.size,
    slot,
    scale: batch / values.size,
  }, [1]);
}

/** Labels as the plan wants them: int32 or float32, shaped [B, ...labelRow]. */
function adaptLabels(plan: Plan, y: Tensor): Tensor {
  const typed = y.dtype === plan.labelDType ? y : cast(y, plan.labelDType);
  return reshape(typed, [y.shape[0], ...plan.labelRow]);
}

/** Forward, loss and metric sums for one batch; returns the loss. Metrics stay off the gradient tape. */
function batchLoss(
  model: Sequential,
  plan: Plan,
  x: Tensor,
  y: Tensor,
  training: boolean,
  sums: Tensor,
  base: number,
) {
  const labels = adaptLabels(plan, y);
  const input = x.dtype === "float32" ? x : cast(x, "float32");
  // The optimizer's step count seeds dropout's masks: a resumed run (same count) draws the same masks.
  const output = model.forward(
    input,
    training,
    plan.fused !== null,
    training ? model.optimizer!.iterations : undefined,
  );
  const loss = computeLoss(model.lossSpec!, labels, output, plan.fused);
  withTape(null, () => plan.accumulate(labels, output, loss, sums, base));
  return loss;
}

/** Runs the model over all of xs/ys in order (no gradients), adding loss and metric sums at `base`. */
export function evaluateBatches(
  model: Sequential,
  plan: Plan,
  xb: Batcher,
  yb: Batcher,
  batchSize: number,
  sums: Tensor,
  base: number,
): void {
  const n = xb.source.n;
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    tidy(() => {
      batchLoss(model, plan, xb.batch(null, start, count), yb.batch(null, start, count), false, sums, base);
    });
    runtime().flush(); // one submit per batch; the batch's buffers return to the pool
  }
}

/** The model's batch size argument, checked. */
export function checkBatchSize(batchSize: number, what = "batchSize"): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${batchSize}`);
  }
  return batchSize;
}

/** A source converted for the plan: x as float32, labels as int32 (sparse) or float32; GPU data are cast per batch. */
function forPlan(source: Source, dtype: "int32" | "float32"): Source {
  return source instanceof HostSource ? source.as(dtype) : source;
}

/** Keras's fit, with tfjs's signature; one fit of a model at a time. */
export async function fitModel(
  model: Sequential,
  x: ModelData,
  y: ModelData,
  args: ModelFitArgs = {},
): Promise<History> {
  model.requireCompiled("fit");
  model.beginTraining();
  try {
    return await fitLoop(model, x, y, args);
  } finally {
    model.endTraining();
  }
}

async function fitLoop(model: Sequential, x: ModelData, y: ModelData, args: ModelFitArgs): Promise<History> {
  const batchSize = checkBatchSize(args.batchSize ?? 32);
  const epochs = args.epochs ?? 1;
  const initialEpoch = args.initialEpoch ?? 0;
  const verbose = args.verbose ?? 1;
  const split = args.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new RangeError(`validationSplit must be in [0, 1), got ${split}`);
  // Read GPU data back once: batches are gathered from a shuffled order on the CPU.
  let xs = await toHost(toSource(x, "fit: x"));
  let ys = await toHost(toSource(y, "fit: y"));
  if (xs.n !== ys.n) throw new ShapeError(`fit: x has ${xs.n} examples, y has ${ys.n}`);
  model.ensureBuilt([null, ...xs.rowShape]);
  const plan = makePlan(model, ys);
  xs = xs.as("float32");
  ys = ys.as(plan.labelDType);
  let val: [Source, Source] | null = null;
  if (args.validationData !== undefined) {
    const [vx, vy] = args.validationData.map((d, i) => toSource(d, `fit: validationData[${i}]`));
    if (vx.n !== vy.n) throw new ShapeError(`fit: validationData has ${vx.n} inputs and ${vy.n} labels`);
    makePlan(model, vy); // checks the shapes
    val = [forPlan(vx, "float32"), forPlan(vy, plan.labelDType)];
  } else if (split > 0) {
    // Keras takes the last fraction, before any shuffling.
    const at = Math.floor(xs.n * (1 - split));
    val = [xs.slice(at, xs.n), ys.slice(at, ys.n)];
    [xs, ys] = [xs.slice(0, at), ys.slice(0, at)];
  }
  if (xs.n === 0) throw new ShapeError("fit: no training examples (is validationSplit too large?)");
  const steps = Math.ceil(xs.n / batchSize);
  const valBatchSize = checkBatchSize(args.validationBatchSize ?? batchSize, "validationBatchSize");

  const history = new History();
  const userCallbacks = [args.callbacks ?? []].flat() as (Callback | CustomCallbackArgs)[];
  const callbacks: (Callback | CustomCallbackArgs)[] = [...userCallbacks, history];
  const params = {
    epochs,
    initialEpoch,
    samples: xs.n,
    steps,
    batchSize,
    verbose,
    doValidation: val !== null,
    metrics: [...plan.keys, ...(val ? plan.keys.map((k) => `val_${k}`) : [])],
  };
  for (const cb of callbacks) {
    if (cb instanceof Callback) {
      cb.setModel(model);
      cb.setParams(params);
    }
  }
  const progress = new Progress(args.writer ?? defaultWriter(), verbose, epochs, steps);
  type Hook = ((...hookArgs: unknown[]) => unknown) | undefined;
  const hook = (cb: object, name: keyof CustomCallbackArgs) => (cb as Record<string, Hook>)[name];
  const liveReads = progress.wantsLiveUpdates ||
    callbacks.some((cb) => typeof hook(cb, "onBatchEnd") === "function");
  const emit = async (name: keyof CustomCallbackArgs, ...hookArgs: unknown[]) => {
    for (const cb of callbacks) await hook(cb, name)?.call(cb, ...hookArgs);
  };

  // Sums of loss and metrics, train then validation (2k slots) per epoch. When nothing reads
  // an epoch's logs as it ends (verbose 0, no onEpochEnd hook), several epochs keep their
  // own slots and are read back together: a readback costs more than a small model's epoch.
  const k = plan.keys.length;
  const deferLogs = verbose === 0 &&
    !userCallbacks.some((cb) => typeof hook(cb, "onEpochEnd") === "function");
  const chunk = deferLogs ? Math.max(1, Math.min(epochs - initialEpoch, MAX_DEFERRED_EPOCHS)) : 1;
  const sums = empty([chunk * 2 * k]);
  sums.kept = true;
  const zeros = new Float32Array(chunk * 2 * k);
  const trainX = new Batcher(xs), trainY = new Batcher(ys);
  const valX = val ? new Batcher(val[0]) : null, valY = val ? new Batcher(val[1]) : null;
  // Epoch e's order is a pure function of (seed, e), not of the epochs before it, so a run
  // resumed with initialEpoch = e sees the orders an uninterrupted run would have seen.
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 32);
  const order = new Int32Array(xs.n);
  const variables = model.trainableWeights;
  const optimizer = model.optimizer!;
  const logsOf = (values: Float32Array, base: number, count: number, prefix = ""): Logs =>
    Object.fromEntries(plan.keys.map((key, i) => [prefix + key, values[base + i] / count]));
  let pending: { epoch: number; seen: number }[] = [];
  const endEpochs = async () => {
    const values = await sums.data() as Float32Array;
    const ended = pending;
    pending = [];
    for (const [j, { epoch, seen }] of ended.entries()) {
      const logs = logsOf(values, j * 2 * k, seen);
      if (valX) Object.assign(logs, logsOf(values, j * 2 * k + k, valX.source.n, "val_"));
      progress.epochEnd(logs);
      await emit("onEpochEnd", epoch, logs);
    }
  };

  try {
    trainX.reserve(batchSize);
    trainY.reserve(batchSize);
    valX?.reserve(valBatchSize);
    valY?.reserve(valBatchSize);
    await emit("onTrainBegin");
    for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
      for (let i = 0; i < order.length; i++) order[i] = i;
      if (args.shuffle ?? true) {
        const random = new Random(mixSeed(seed, epoch)); // the shuffle of epoch e depends only on (seed, e)
        for (let i = order.length - 1; i > 0; i--) {
          const j = random.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      if (pending.length === 0) writeData(sums, zeros);
      const base = pending.length * 2 * k;
      progress.epochBegin(epoch);
      await emit("onEpochBegin", epoch);
      let seen = 0, lastRead = performance.now();
      let batchLogs: Logs = {};
      // A live read in flight: the sums as they stood after `step` steps of `seen` examples.
      let live: { values: Promise<Float32Array>; started: number; step: number; seen: number } | null = null;
      const finishLiveRead = async () => {
        if (live === null) return;
        const { values, step, seen } = live;
        live = null;
        batchLogs = logsOf(await values, base, seen);
        progress.update(step, batchLogs);
      };
      for (let step = 0; step < steps; step++) {
        const start = step * batchSize, count = Math.min(batchSize, xs.n - start);
        await emit("onBatchBegin", step, { batch: step, size: count });
        // ---- one training step: one submit, no await ----
        const xb = trainX.batch(order, start, count), yb = trainY.batch(order, start, count);
        // The activations are released before the submit, so they are reusable by the next step.
        const grads = tidy(() =>
          variableGrads(() => batchLoss(model, plan, xb, yb, true, sums, base), variables).grads
        );
        optimizer.applyGradients(grads); // ends the step with its one submit
        for (const g of Object.values(grads)) g.dispose();
        // The first step named the products worth tuning; later steps run the winners.
        if (tuningPending()) await tune();
        seen += count;
        const now = performance.now();
        if (live !== null && now - live.started >= READ_LATENCY_MS) await finishLiveRead();
        // A step longer than the interval finishes one read and starts the next.
        if (liveReads && live === null && now - lastRead >= READ_INTERVAL_MS) {
          const values = sums.data() as Promise<Float32Array>;
          values.catch(() => {}); // awaited by finishLiveRead; a step that throws first must not leave it unhandled
          live = { values, started: now, step: step + 1, seen };
          lastRead = now;
        }
        await emit("onBatchEnd", step, { batch: step, size: count, ...batchLogs });
        if (model.stopTraining) break;
      }
      await finishLiveRead();
      if (valX && valY) evaluateBatches(model, plan, valX, valY, valBatchSize, sums, base + k);
      pending.push({ epoch, seen });
      if (pending.length === chunk || epoch === epochs - 1 || model.stopTraining) await endEpochs();
    }
    if (pending.length > 0) await endEpochs();
    await emit("onTrainEnd");
  } finally {
    for (const b of [trainX, trainY, valX, valY]) b?.dispose();
    sums.dispose();
  }
  return history;
}
