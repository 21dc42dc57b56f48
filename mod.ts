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

/**
 * Resolves once the WebGPU device is acquired (importing this module already
 * waits for it); rejects with a DeviceError saying how to get an adapter.
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
export { conv2d, type FusedConv2DConfig, fusedConv2d, type Padding } from "./src/ops/conv.ts";
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
/** Layer factories as in `tf.layers`. */
export * as layers from "./src/layers/layers_namespace.ts";
/** Per-example metric functions as in `tf.metrics`. */
export * as metrics from "./src/models/metrics_namespace.ts";
/** Keras's callbacks: earlyStopping, modelCheckpoint. */
export * as callbacks from "./src/models/callbacks_namespace.ts";
/** Weight initializers as in `tf.initializers`, with Keras's math; seedable. */
export * as initializers from "./src/initializers.ts";
/** Optimizers as in `tf.train`, with Keras's update rules and defaults. */
export * as train from "./src/optimizers/train_namespace.ts";
/** Losses as in `tf.losses`, reduced to their mean; labels come first. */
export * as losses from "./src/ops/losses.ts";

// Acquire the device now so ops can be synchronous; a failure is kept and
// rethrown, with how to fix it, by the first op that needs the GPU.
await acquireRuntime().catch(() => {});
