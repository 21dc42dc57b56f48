/**
 * Sequential: a stack of layers, each feeding the next, with tfjs's model
 * API (add, summary, compile, fit, evaluate, predict, save) and Keras's
 * behaviour where the two differ in what they compute.
 */
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { Conv2D } from "../layers/convolutional.ts";
import { Layer, type LayerConfig, type SymbolicShape, uniqueLayerName } from "../layers/layer.ts";
import { MaxPooling2D } from "../layers/pooling.ts";
import { mul } from "../ops/elementwise.ts";
import { cast } from "../ops/transform.ts";
import type { Optimizer } from "../optimizers/optimizer.ts";
import { formatShape, shapesEqual } from "../shape.ts";
import { empty, type Tensor, tidy, type Variable } from "../tensor.ts";
import type { History } from "./callbacks.ts";
import { Batcher, HostSource, type ModelData, toSource } from "./data.ts";
import { checkBatchSize, evaluateBatches, fitModel, makePlan, type ModelFitArgs } from "./fit.ts";
import { type LossFn, type LossIdentifier, type LossSpec, resolveLoss } from "./losses.ts";
import { type MetricFn, type MetricIdentifier, type MetricSpec, resolveMetric } from "./metrics.ts";
import { getOptimizer, type OptimizerIdentifier, type OptimizerJSON, optimizerToJSON } from "./optimizers.ts";
import { saveModel, type SaveOptions, type SaveResult } from "./save.ts";
import { summaryLines } from "./summary.ts";

/** Options of `sequential`. */
export interface SequentialArgs {
  /** Layers to add, in order. */
  layers?: Layer[];
  /** Default "sequential", numbered like layers ("sequential_1"). */
  name?: string;
}

/** Options of `compile`, as in tfjs; strings may use Keras's spellings. */
export interface ModelCompileArgs {
  /** An optimizer from wg.train, or "sgd", "adam", "rmsprop", "adagrad" (Keras's defaults). */
  optimizer: Optimizer | OptimizerIdentifier | string;
  /** A loss name ("categoricalCrossentropy", "mse", "sparse_categorical_crossentropy", ...) or function. */
  loss: LossIdentifier | string | LossFn;
  /** Metric names ("accuracy", "acc", "mae", ...) or functions; their keys in history are as given. */
  metrics?: MetricIdentifier | string | MetricFn | (MetricIdentifier | string | MetricFn)[];
}

/** Options of evaluate and predict. */
export interface ModelEvaluateArgs {
  /** Examples per batch (default 32). */
  batchSize?: number;
  /** Accepted for tfjs compatibility; nothing is printed. */
  verbose?: number;
}

/** The training config model.json stores (Keras's keys). */
export interface TrainingConfig {
  /** The loss's name as compile got it. */
  loss: string;
  /** The metrics' names as compile got them. */
  metrics: string[];
  /** The optimizer as Keras serializes it. */
  optimizer_config: OptimizerJSON;
  /** Not supported (Keras's field, always null). */
  weighted_metrics: null;
  /** Not supported (Keras's field, always null). */
  loss_weights: null;
}

/**
 * A linear stack of layers. Create one with `wg.sequential()`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const y = wg.tensor([[0], [1], [1], [0]]);
 * const model = new wg.Sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [2], activation: "sigmoid" })] });
 * model.add(wg.layers.dense({ units: 1 })); // layers can also be added one by one
 * assertEquals(model.layers.length, 2);
 * assertEquals(model.countParams(), 3 + 2);
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
 * const history = await model.fit(x, y, { epochs: 2, verbose: 0 });
 * assertEquals(history.history.loss.length, 2);
 * ```
 */
export class Sequential {
  /** The Keras class name stored in model.json. */
  readonly className = "Sequential";
  /** The model's name (Keras's "sequential", "sequential_1", ...). */
  readonly name: string;
  /** The layers, in order. */
  readonly layers: Layer[] = [];
  /** Set by a callback to end fit after the current batch. */
  stopTraining = false;
  /** The compiled optimizer. */
  optimizer: Optimizer | null = null;
  /** @internal The compiled loss. */
  lossSpec: LossSpec | null = null;
  /** @internal The compiled metrics. */
  metricSpecs: MetricSpec[] = [];
  #ownsOptimizer = false;
  #built = false;
  #training = false;

  /** Use `wg.sequential()`. */
  constructor(args: SequentialArgs = {}) {
    this.name = args.name ?? uniqueLayerName("sequential");
    for (const layer of args.layers ?? []) this.add(layer);
  }

  /** Appends a layer; it is built at once if the model's input shape is known. */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new TypeError(`${this.name}.add: ${String(layer)} is not a layer`);
    if (this.layers.some((l) => l.name === layer.name)) {
      throw new Error(
        `${this.name}.add: all layers of a model need unique names; '${layer.name}' is already used`,
      );
    }
    this.layers.push(layer);
    if (this.#built) layer.build(this.layers.at(-2)!.outputShape!);
    else if (this.layers.length === 1 && layer.batchInputShape !== null) this.build(layer.batchInputShape);
  }

  /** Builds every layer for inputs of `inputShape` (batch dimension first, may be null). */
  build(inputShape?: SymbolicShape): void {
    const shape = inputShape ?? this.layers[0]?.batchInputShape;
    if (!shape) {
      throw new Error(`${this.name}.build: give the input shape, or the first layer an inputShape`);
    }
    let current: SymbolicShape = [null, ...shape.slice(1)];
    for (const layer of this.layers) {
      layer.build(current);
      current = layer.outputShape!;
    }
    this.#built = this.layers.length > 0;
  }

  /** Whether the layers are built (their weights exist). */
  get built(): boolean {
    return this.#built;
  }

  /** @internal Builds from the data's shape on first use, or checks the data fit. */
  ensureBuilt(inputShape: SymbolicShape): void {
    if (!this.#built) this.build(inputShape);
    const want = this.inputShape;
    if (want.length !== inputShape.length || want.some((d, i) => d !== null && d !== inputShape[i])) {
      throw new ShapeError(
        `${this.name}: expects inputs of shape ${formatShape(want.map((d) => d ?? -1))} (-1: any), ` +
          `got ${formatShape(inputShape.map((d) => d ?? -1))}`,
      );
    }
  }

  /** The input shape, batch dimension null. */
  get inputShape(): SymbolicShape {
    this.#requireBuilt("inputShape");
    return this.layers[0].inputShape!;
  }

  /** The output shape, batch dimension null. */
  get outputShape(): SymbolicShape {
    this.#requireBuilt("outputShape");
    return this.layers.at(-1)!.outputShape!;
  }

  /** @internal The last layer's activation (the loss may fuse softmax/sigmoid into itself). */
  get lastActivation(): string | undefined {
    return (this.layers.at(-1) as { activation?: string } | undefined)?.activation;
  }

  /** The layer called `name`, or at `index`. */
  getLayer(nameOrIndex: string | number): Layer {
    const layer = typeof nameOrIndex === "number"
      ? this.layers[nameOrIndex]
      : this.layers.find((l) => l.name === nameOrIndex);
    if (layer === undefined) throw new Error(`${this.name}: no layer ${JSON.stringify(nameOrIndex)}`);
    return layer;
  }

  /**
   * Prints Keras's summary table: each layer's name and type, output shape
   * (None for the batch) and parameter count, then the totals.
   */
  summary(lineLength?: number, positions?: number[], printFn: (line: string) => void = console.log): void {
    this.#requireBuilt("summary");
    for (const line of summaryLines(this.name, this.layers, lineLength, positions)) printFn(line);
  }

  /** Number of weight values of all layers. */
  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** All weight variables, layer by layer (kernel before bias). */
  get weights(): Variable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  /** The variables fit updates. */
  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /** The variables fit leaves alone. */
  get nonTrainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  /** Copies of the weights' values, in `weights` order (the caller owns and disposes them, as Keras returns copies). */
  getWeights(): Tensor[] {
    return this.weights.map((v) => {
      const copy = empty(v.shape);
      if (v.size > 0) runtime().copy(v.buffer, 0, copy.buffer, 0, v.size * 4);
      return copy;
    });
  }

  /** Overwrites the weights' values in place from tensors in `weights` order (copied, not kept). */
  setWeights(weights: readonly Tensor[]): void {
    const variables = this.weights;
    if (weights.length !== variables.length) {
      throw new ShapeError(
        `${this.name}.setWeights: the model has ${variables.length} weights, got ${weights.length}`,
      );
    }
    variables.forEach((v, i) => {
      if (!shapesEqual(weights[i].shape, v.shape) || weights[i].dtype !== v.dtype) {
        throw new ShapeError(
          `${this.name}.setWeights: weight ${i} ('${v.name}') is ${v.dtype} ${formatShape(v.shape)}, ` +
            `got ${weights[i].dtype} ${formatShape(weights[i].shape)}`,
        );
      }
    });
    variables.forEach((v, i) => {
      if (v.size > 0) runtime().copy(weights[i].buffer, 0, v.exclusiveBuffer(false), 0, v.size * 4);
    });
  }

  /** Sets the optimizer, loss and metrics for fit and evaluate. */
  compile(args: ModelCompileArgs): void {
    if (this.#ownsOptimizer) this.optimizer?.dispose();
    this.#ownsOptimizer = typeof args.optimizer === "string";
    this.optimizer = getOptimizer(args.optimizer);
    this.lossSpec = resolveLoss(args.loss);
    const metrics = args.metrics === undefined ? [] : [args.metrics].flat();
    this.metricSpecs = metrics.map(resolveMetric);
    const keys = this.metricSpecs.map((m) => m.key);
    if (new Set(keys).size !== keys.length) {
      throw new Error(`compile: metrics repeat a name: ${keys.join(", ")}`);
    }
  }

  /** "loss", then the metric keys, as history and evaluate order them. */
  get metricsNames(): string[] {
    return ["loss", ...this.metricSpecs.map((m) => m.key)];
  }

  /** @internal Throws unless compiled. */
  requireCompiled(what: string): void {
    if (this.optimizer === null || this.lossSpec === null) {
      throw new Error(`${this.name}.${what}: compile the model first (model.compile({ optimizer, loss }))`);
    }
  }

  /**
   * @internal The forward pass; `skipLastActivation` leaves the last activation to a fused loss;
   * `step` (fit's optimizer step) seeds dropout.
   */
  forward(x: Tensor, training: boolean, skipLastActivation = false, step?: number): Tensor {
    const last = this.layers.length - 1;
    let y = x;
    for (let i = 0; i <= last; i++) {
      const layer = this.layers[i], next = this.layers[i + 1];
      const args = { training, step, skipActivation: skipLastActivation && i === last };
      // A conv layer and the max pool after it run as one op (src/ops/conv_pool.ts) where they can.
      const pooled = layer instanceof Conv2D && next instanceof MaxPooling2D
        ? layer.applyWithPool(y, next, args)
        : null;
      if (pooled) i++;
      y = pooled ?? layer.apply(y, args);
    }
    return y;
  }

  /** Runs the layers on x (dropout active only with `training: true`), as tfjs's `model.apply`. */
  apply(x: Tensor, args: { training?: boolean } = {}): Tensor {
    this.ensureBuilt([null, ...x.shape.slice(1)]);
    return tidy(() => this.forward(x, args.training ?? false));
  }

  /**
   * The model's outputs for x, computed in batches of `batchSize` (so inputs
   * of any size fit, streamed from the CPU or copied from the GPU in ranges).
   */
  predict(x: ModelData, args: ModelEvaluateArgs = {}): Tensor {
    const batchSize = checkBatchSize(args.batchSize ?? 32);
    const source = toSource(x, "predict: x");
    this.ensureBuilt([null, ...source.rowShape]);
    const float = source instanceof HostSource ? source.as("float32") : source;
    const rowOut = this.outputShape.slice(1);
    if (rowOut.some((d) => d === null)) {
      throw new ShapeError(
        `${this.name}.predict: the output shape ${formatShape(rowOut.map((d) => d ?? -1))} is not known`,
      );
    }
    const out = empty([float.n, ...(rowOut as number[])]);
    const rowBytes = (out.size / Math.max(float.n, 1)) * 4;
    const batches = new Batcher(float);
    try {
      for (let start = 0; start < float.n; start += batchSize) {
        const count = Math.min(batchSize, float.n - start);
        tidy(() => {
          const xb = batches.batch(null, start, count);
          const y = this.forward(xb.dtype === "float32" ? xb : cast(xb, "float32"), false);
          if (y.size > 0) runtime().copy(y.buffer, 0, out.buffer, start * rowBytes, y.size * 4);
        });
        runtime().flush(); // one submit per batch; its buffers return to the pool
      }
    } catch (error) {
      out.dispose();
      throw error;
    } finally {
      batches.dispose();
    }
    return out;
  }

  /**
   * The loss and metrics over x and y, computed in batches on the GPU; a
   * scalar tensor (the loss) without metrics, else one per `metricsNames`.
   */
  evaluate(x: ModelData, y: ModelData, args: ModelEvaluateArgs = {}): Tensor | Tensor[] {
    this.requireCompiled("evaluate");
    const batchSize = checkBatchSize(args.batchSize ?? 32);
    const xs = toSource(x, "evaluate: x"), ys = toSource(y, "evaluate: y");
    if (xs.n !== ys.n) throw new ShapeError(`evaluate: x has ${xs.n} examples, y has ${ys.n}`);
    if (xs.n === 0) throw new ShapeError("evaluate: no examples");
    this.ensureBuilt([null, ...xs.rowShape]);
    const plan = makePlan(this, ys);
    const xb = new Batcher(xs instanceof HostSource ? xs.as("float32") : xs);
    const yb = new Batcher(ys instanceof HostSource ? ys.as(plan.labelDType) : ys);
    const sums = empty([plan.keys.length]);
    try {
      runtime().upload(sums.buffer, new Float32Array(plan.keys.length));
      evaluateBatches(this, plan, xb, yb, batchSize, sums, 0);
      return tidy(() => {
        const results = plan.keys.map((_, i) => {
          const slot = empty([]);
          runtime().copy(sums.buffer, i * 4, slot.buffer, 0, 4);
          return mul(slot, 1 / xs.n);
        });
        return results.length === 1 ? results[0] : results;
      });
    } finally {
      xb.dispose();
      yb.dispose();
      sums.dispose();
    }
  }

  /** Trains the model (see ModelFitArgs); resolves to the History of the epochs' logs. */
  async fit(x: ModelData, y: ModelData, args: ModelFitArgs = {}): Promise<History> {
    return await fitModel(this, x, y, args);
  }

  /** @internal fit's guard against two concurrent fits of one model (as tfjs). */
  beginTraining(): void {
    if (this.#training) throw new Error(`${this.name}.fit: another fit of this model is still running`);
    this.#training = true;
    this.stopTraining = false;
  }

  /** @internal */
  endTraining(): void {
    this.#training = false;
  }

  /** Saves model.json (topology and training config) and weights.safetensors, each written atomically. */
  async save(url: string, options: SaveOptions = {}): Promise<SaveResult> {
    return await saveModel(this, url, options);
  }

  /** Keras's model config: `{ name, layers: [{ class_name, config }] }`. */
  getConfig(): { name: string; layers: { class_name: string; config: LayerConfig }[] } {
    return {
      name: this.name,
      layers: this.layers.map((l) => ({ class_name: l.className, config: l.getConfig() })),
    };
  }

  /** @internal The training config for model.json, or null if not compiled. */
  trainingConfig(): TrainingConfig | null {
    if (this.optimizer === null || this.lossSpec === null) return null;
    return {
      loss: this.lossSpec.name,
      metrics: this.metricSpecs.map((m) => m.key),
      optimizer_config: optimizerToJSON(this.optimizer),
      weighted_metrics: null,
      loss_weights: null,
    };
  }

  /** Frees the weights (and the optimizer's state if compile created the optimizer from a name). */
  dispose(): void {
    for (const layer of this.layers) layer.dispose();
    if (this.#ownsOptimizer) this.optimizer?.dispose();
  }

  #requireBuilt(what: string): void {
    if (!this.#built) {
      throw new Error(
        `${this.name}.${what}: the model is not built yet: give the first layer an inputShape, ` +
          "call build(), or call fit/predict on data",
      );
    }
  }
}

/**
 * Creates a Sequential model, as `tf.sequential`.
 *
 * @param args `layers` to add in order, and the model's `name`.
 * @returns The model (built once the first layer's input shape is known).
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({
 *   layers: [
 *     wg.layers.dense({ units: 8, inputShape: [2], activation: "relu" }),
 *     wg.layers.dense({ units: 1, activation: "sigmoid" }),
 *   ],
 * });
 * model.compile({ optimizer: "adam", loss: "binaryCrossentropy", metrics: ["accuracy"] });
 * const x = wg.tensor([[0, 0], [1, 1]]), y = wg.tensor([[0], [1]]);
 * const history = await model.fit(x, y, { epochs: 2, verbose: 0 });
 * assertEquals(Object.keys(history.history), ["loss", "accuracy"]);
 * assertEquals(model.predict(x).shape, [2, 1]);
 * model.dispose();
 * ```
 */
export function sequential(args?: SequentialArgs): Sequential {
  return new Sequential(args);
}
