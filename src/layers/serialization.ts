/**
 * Layers from model.json: Keras's `{ class_name, config }` (snake_case keys,
 * as tfjs and Keras write them) back to layer objects. Options this engine
 * cannot honour (regularizers, constraints, channels_first, noise_shape)
 * are refused by name rather than silently dropped.
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
import type { Layer, LayerArgs } from "./layer.ts";
import { AveragePooling2D, MaxPooling2D, type Pooling2DLayerArgs } from "./pooling.ts";

type Args = Record<string, unknown>;

/** Layer classes by their Keras/tfjs class names (MaxPool2D and AvgPool2D are Keras's aliases). */
const LAYER_CLASSES: Record<string, (args: Args) => Layer> = {
  Dense: (a) => new Dense(a as unknown as DenseLayerArgs),
  Conv2D: (a) => new Conv2D(a as unknown as Conv2DLayerArgs),
  MaxPooling2D: (a) => new MaxPooling2D(a as Pooling2DLayerArgs),
  MaxPool2D: (a) => new MaxPooling2D(a as Pooling2DLayerArgs),
  AveragePooling2D: (a) => new AveragePooling2D(a as Pooling2DLayerArgs),
  AvgPool2D: (a) => new AveragePooling2D(a as Pooling2DLayerArgs),
  Flatten: (a) => new Flatten(a as LayerArgs),
  Dropout: (a) => new Dropout(a as unknown as DropoutLayerArgs),
  Activation: (a) => new Activation(a as unknown as ActivationLayerArgs),
  Reshape: (a) => new Reshape(a as unknown as ReshapeLayerArgs),
};

/** Keys that must be null (or absent): features this engine does not have. */
const MUST_BE_NULL = [
  "kernel_regularizer",
  "bias_regularizer",
  "activity_regularizer",
  "kernel_constraint",
  "bias_constraint",
  "noise_shape",
];

/** `use_bias` → `useBias`. */
function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Turns a Keras layer config into the layer's tfjs-style options. */
export function layerArgsFromConfig(className: string, config: Args): Args {
  const args: Args = {};
  for (const [key, value] of Object.entries(config)) {
    if (MUST_BE_NULL.includes(key)) {
      if (value !== null && value !== undefined) {
        throw new Error(
          `${className} '${config.name}': ${key} is not supported (got ${JSON.stringify(value)})`,
        );
      }
      continue;
    }
    if (key === "data_format") {
      if (value !== "channels_last" && value !== "channelsLast" && value !== null) {
        throw new Error(`${className} '${config.name}': only data_format 'channels_last' is supported`);
      }
      continue;
    }
    // Keras 3 writes dtype as a policy object, and batch_shape for batch_input_shape.
    if (key === "dtype") {
      if (typeof value === "string") args.dtype = value;
      continue;
    }
    if (key === "batch_shape") {
      args.batchInputShape = value;
      continue;
    }
    args[camel(key)] = value;
  }
  return args;
}

/** The layer a `{ class_name, config }` describes; an unknown class names the known ones. */
export function deserializeLayer(json: { class_name?: unknown; config?: unknown }): Layer {
  const className = String(json?.class_name);
  const make = Object.hasOwn(LAYER_CLASSES, className) ? LAYER_CLASSES[className] : undefined;
  if (make === undefined) {
    throw new Error(
      `unknown layer class '${className}': expected one of ${Object.keys(LAYER_CLASSES).join(", ")}`,
    );
  }
  const config = (json.config ?? {}) as Args;
  return make(layerArgsFromConfig(className, config));
}
