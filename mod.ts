/**
 * webgpu-deep-learning: a deep-learning engine for Deno whose every kernel is
 * a hand-written WGSL compute shader, driven by a TypeScript autograd tape,
 * with an API shaped like TensorFlow.js.
 *
 * Importing this module acquires the WebGPU device (a top-level await), so
 * ops can then be called synchronously, as in TensorFlow.js. If there is no
 * adapter, the import still succeeds and the first op throws a DeviceError
 * that says how to get one.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[1, 2], [3, 4]]);
 * const g = wg.grad((x) => wg.sum(wg.square(x)))(x); // d/dx Σx² = 2x
 * const [a, b, c, d] = await g.data();
 * assertAlmostEquals(a + b + c + d, 20);
 * ```
 *
 * @module
 */
import { ready as acquireRuntime } from "./src/gpu/runtime.ts";

export { flush } from "./src/gpu/runtime.ts";
export { tune, type TuningStore, tuningTable, useTuningStore } from "./src/gpu/autotune.ts";
export { fileTuningStore } from "./src/io/tuning_store.ts";

/**
 * Resolves once the WebGPU device is acquired (importing this module already
 * waits for it); rejects with a DeviceError saying how to get an adapter.
 *
 * @returns A promise that resolves when ops can run.
 * @throws {DeviceError} No WebGPU adapter or device, with how to get one.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await wg.ready(); // a clear DeviceError here beats one at the first op
 * assertEquals(Array.from(await wg.add(wg.tensor([1]), 1).data()), [2]);
 * ```
 */
export async function ready(): Promise<void> {
  await acquireRuntime();
}
export {
  CheckpointFormatError,
  DatasetFormatError,
  DeviceError,
  DisposedTensorError,
  DTypeError,
  GPUAssertionError,
  ShapeError,
} from "./src/errors.ts";
export {
  type DType,
  keep,
  memory,
  type MemoryInfo,
  type NestedArray,
  Tensor,
  type TensorContainer,
  tidy,
  Variable,
} from "./src/tensor.ts";
export type { Shape } from "./src/shape.ts";
export {
  fill,
  ones,
  onesLike,
  randomNormal,
  randomUniform,
  scalar,
  tensor,
  type TensorLike,
  variable,
  zeros,
  zerosLike,
} from "./src/ops/creation.ts";
export {
  abs,
  add,
  div,
  elu,
  exp,
  leakyRelu,
  log,
  maximum,
  minimum,
  mul,
  neg,
  reciprocal,
  relu,
  sigmoid,
  sqrt,
  square,
  step,
  sub,
  tanh,
} from "./src/ops/elementwise.ts";
export { fusedMatMul, type FusedMatMulConfig, matMul } from "./src/ops/matmul.ts";
export type { FusedActivation } from "./shaders/matmul.ts";
export { conv2d, fusedConv2d, type FusedConv2DConfig, type Padding } from "./src/ops/conv.ts";
export { avgPool, maxPool } from "./src/ops/pool.ts";
export { dropout } from "./src/ops/dropout.ts";
export { argMax, argMin, max, mean, min, sum } from "./src/ops/reduce.ts";
export { logSoftmax, softmax } from "./src/ops/softmax.ts";
export { cast, oneHot, reshape, transpose } from "./src/ops/transform.ts";
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads } from "./src/autograd/gradients.ts";
export { loadLayersModel, type SaveOptions, type SaveResult } from "./src/models/save.ts";
export {
  type ModelCompileArgs,
  type ModelEvaluateArgs,
  Sequential,
  sequential,
  type SequentialArgs,
  type TrainingConfig,
} from "./src/models/sequential.ts";
export type { ModelFitArgs } from "./src/models/fit.ts";
export type { HostData, ModelData } from "./src/models/data.ts";
export type { ProgressWriter } from "./src/models/progress.ts";
export type { LossFn, LossIdentifier } from "./src/models/losses.ts";
export type { MetricFn, MetricIdentifier } from "./src/models/metrics.ts";
export type { OptimizerIdentifier, OptimizerJSON } from "./src/models/optimizers.ts";
export type {
  CallArgs,
  Layer,
  LayerArgs,
  LayerConfig,
  LayerWeight,
  SymbolicShape,
} from "./src/layers/layer.ts";
export type { Callback, CustomCallbackArgs, History, Logs, TrainingParams } from "./src/models/callbacks.ts";
export type { Initializer, InitializerConfig, InitializerIdentifier } from "./src/initializers.ts";
export type { NamedTensor, Optimizer, OptimizerConfig } from "./src/optimizers/optimizer.ts";
export type { OptimizerKind } from "./shaders/optimizers.ts";
/**
 * Layer factories as in `tf.layers`: dense, conv2d, maxPooling2d, averagePooling2d, flatten, dropout, activation, reshape.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const conv = wg.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", inputShape: [28, 28, 1] });
 * const model = wg.sequential({ layers: [conv, wg.layers.maxPooling2d({ poolSize: 2 }), wg.layers.flatten()] });
 * assertEquals(model.outputShape, [null, 14 * 14 * 8]);
 * ```
 */
export * as layers from "./src/layers/layers_namespace.ts";
/**
 * Per-example metric functions as in `tf.metrics`.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const hits = wg.metrics.binaryAccuracy(wg.tensor([[1], [0]]), wg.tensor([[0.9], [0.8]]));
 * assertEquals(Array.from(await hits.data()), [1, 0]);
 * ```
 */
export * as metrics from "./src/models/metrics_namespace.ts";
/**
 * Keras's callbacks: earlyStopping, learningRateScheduler, modelCheckpoint.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[0], [1]]), y = wg.tensor([[0], [1]]);
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 1, inputShape: [1] })] });
 * model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
 * // Stops as soon as the loss fails to improve by 10 for 1 epoch: after epoch 2.
 * const stop = wg.callbacks.earlyStopping({ monitor: "loss", minDelta: 10, patience: 1 });
 * const history = await model.fit(x, y, { epochs: 50, verbose: 0, callbacks: [stop] });
 * assertEquals(history.epoch.length, 2);
 * ```
 */
export * as callbacks from "./src/models/callbacks_namespace.ts";
/**
 * Weight initializers as in `tf.initializers`, with Keras's math; seedable.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.glorotUniform({ seed: 1 });
 * const dense = wg.layers.dense({ units: 4, inputShape: [3], kernelInitializer: init });
 * const limit = Math.sqrt(6 / (3 + 4)); // Glorot: U(-limit, limit)
 * const kernel = await wg.sequential({ layers: [dense] }).getWeights()[0].data();
 * assert(kernel.every((w) => Math.abs(w) <= limit));
 * ```
 */
export * as initializers from "./src/initializers.ts";
/**
 * Optimizers as in `tf.train`, with Keras's update rules and defaults: sgd, momentum, adagrad, rmsprop, adam.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.variable(wg.tensor([1, -2]), true, "w_train");
 * const adam = wg.train.adam(0.1);
 * for (let i = 0; i < 100; i++) adam.minimize(() => wg.sum(wg.square(w)));
 * assert((await w.data()).every((v) => Math.abs(v) < 0.1)); // near the minimum at 0
 * w.dispose();
 * ```
 */
export * as train from "./src/optimizers/train_namespace.ts";
/**
 * Losses as in `tf.losses`, reduced to their mean; labels come first.
 *
 * @example
 * ```ts
 * import * as wg from "./mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const mse = wg.losses.meanSquaredError(wg.tensor([1, 2]), wg.tensor([1, 4]));
 * assertAlmostEquals((await mse.data())[0], 2); // ((1-1)² + (2-4)²) / 2
 * ```
 */
export * as losses from "./src/ops/losses.ts";

// Acquire the device now so ops can be synchronous; a failure is kept and
// rethrown, with how to fix it, by the first op that needs the GPU.
await acquireRuntime().catch(() => {});
