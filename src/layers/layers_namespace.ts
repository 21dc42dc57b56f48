/**
 * The `wg.layers` namespace: layer factories with tfjs's names and options
 * (`wg.layers.dense({ units: 10, activation: "softmax" })`), and the layer
 * classes and option types they create.
 */
import { Conv2D, type Conv2DLayerArgs } from "./convolutional.ts";
import {
  Activation,
  type ActivationLayerArgs,
  Dense,
  type DenseLayerArgs,
  Dropout,
  type DropoutLayerArgs,
  Flatten,
  Reshape,
  type ReshapeLayerArgs,
} from "./core.ts";
import type { LayerArgs } from "./layer.ts";
import { AveragePooling2D, MaxPooling2D, type Pooling2DLayerArgs } from "./pooling.ts";

export type { ActivationIdentifier } from "./activations.ts";
export {
  type CallArgs,
  Layer,
  type LayerArgs,
  type LayerConfig,
  type LayerWeight,
  type SymbolicShape,
} from "./layer.ts";
export type { HasActivation } from "./core.ts";
export type { Pooling2D } from "./pooling.ts";
export {
  Activation,
  type ActivationLayerArgs,
  AveragePooling2D,
  Conv2D,
  type Conv2DLayerArgs,
  Dense,
  type DenseLayerArgs,
  Dropout,
  type DropoutLayerArgs,
  Flatten,
  MaxPooling2D,
  type Pooling2DLayerArgs,
  Reshape,
  type ReshapeLayerArgs,
};

/**
 * A densely connected layer: y = activation(x·kernel + bias), one fused GEMM.
 *
 * @param args `units`, and optionally `activation`, `useBias`, `kernelInitializer` (default glorotUniform),
 *   `biasInitializer` (default zeros), `inputShape` for the first layer.
 * @returns The layer (unbuilt until its input shape is known).
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 3, inputShape: [4] })] });
 * assertEquals(model.countParams(), 4 * 3 + 3);
 * model.dispose();
 * ```
 */
export function dense(args: DenseLayerArgs): Dense {
  return new Dense(args);
}

/**
 * A 2-D convolution over NHWC inputs with an HWIO kernel, bias and activation fused.
 *
 * @param args `filters`, `kernelSize`, and optionally `strides`, `padding` ("valid"/"same"), `activation`, ...
 * @returns The layer.
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const conv = wg.layers.conv2d({ filters: 32, kernelSize: 3, inputShape: [32, 32, 3] });
 * const model = wg.sequential({ layers: [conv] });
 * assertEquals(model.countParams(), 896); // 3·3·3·32 + 32, as Keras reports
 * model.dispose();
 * ```
 */
export function conv2d(args: Conv2DLayerArgs): Conv2D {
  return new Conv2D(args);
}

/**
 * Max pooling over NHWC inputs (default 2x2 windows, strides = poolSize).
 *
 * @param args `poolSize`, `strides`, `padding`.
 * @returns The layer.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({
 *   layers: [wg.layers.maxPooling2d({ poolSize: 2, inputShape: [28, 28, 8] })],
 * });
 * assertEquals(model.outputShape, [null, 14, 14, 8]);
 * ```
 */
export function maxPooling2d(args: Pooling2DLayerArgs = {}): MaxPooling2D {
  return new MaxPooling2D(args);
}

/**
 * Average pooling over NHWC inputs (default 2x2 windows, strides = poolSize).
 *
 * @param args `poolSize`, `strides`, `padding`.
 * @returns The layer.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const pool = wg.layers.averagePooling2d({ poolSize: 2 });
 * const y = pool.apply(wg.tensor([1, 2, 3, 4], [1, 2, 2, 1])); // one 2x2 window
 * assertEquals(Array.from(await y.data()), [2.5]);
 * ```
 */
export function averagePooling2d(args: Pooling2DLayerArgs = {}): AveragePooling2D {
  return new AveragePooling2D(args);
}

/**
 * Flattens each example to one axis.
 *
 * @param args Common layer options (`inputShape`, `name`).
 * @returns The layer.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({
 *   layers: [wg.layers.flatten({ inputShape: [28, 28, 1] })],
 * });
 * assertEquals(model.outputShape, [null, 784]);
 * ```
 */
export function flatten(args: LayerArgs = {}): Flatten {
  return new Flatten(args);
}

/**
 * Inverted dropout, active only during `fit`.
 *
 * @param args `rate` in [0, 1), optional `seed`.
 * @returns The layer.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const drop = wg.layers.dropout({ rate: 0.5 });
 * const x = wg.ones([1, 4]);
 * assertEquals(Array.from(await drop.apply(x).data()), [1, 1, 1, 1]); // outside fit: the identity
 * ```
 */
export function dropout(args: DropoutLayerArgs): Dropout {
  return new Dropout(args);
}

/**
 * Applies an activation ("relu", "softmax", ...).
 *
 * @param args `activation`.
 * @returns The layer.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const softmax = wg.layers.activation({ activation: "softmax" });
 * const p = await softmax.apply(wg.tensor([[0, 0]])).data();
 * assertEquals(Array.from(p), [0.5, 0.5]);
 * ```
 */
export function activation(args: ActivationLayerArgs): Activation {
  return new Activation(args);
}

/**
 * Reshapes each example to `targetShape` (one entry may be -1).
 *
 * @param args `targetShape`.
 * @returns The layer.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({
 *   layers: [wg.layers.reshape({ targetShape: [28, 28, 1], inputShape: [784] })],
 * });
 * assertEquals(model.outputShape, [null, 28, 28, 1]);
 * ```
 */
export function reshape(args: ReshapeLayerArgs): Reshape {
  return new Reshape(args);
}
