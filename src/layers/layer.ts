/**
 * The Layer base class: Keras-style auto-numbered names ("dense", "dense_1"),
 * weights created as named variables when the input shape is known, shape
 * inference with a null batch dimension, and the config that model.json stores.
 */
import { ShapeError } from "../errors.ts";
import { getInitializer, type Initializer, type InitializerIdentifier } from "../initializers.ts";
import { variable } from "../ops/creation.ts";
import { type Tensor, tidy, type Variable, variableByName } from "../tensor.ts";

/** A shape whose dimensions may be unknown (null): the batch dimension, as Keras prints `None`. */
export type SymbolicShape = (number | null)[];

/** Options every layer takes, as in tfjs (`inputShape` excludes the batch dimension). */
export interface LayerArgs {
  /** The layer's name; unique in a model. Default: the snake_case class name, numbered ("dense_1"). */
  name?: string;
  /** Shape of one example (no batch dimension); the first layer of a model needs it (or `batchInputShape`). */
  inputShape?: readonly number[];
  /** Shape of the input with the batch dimension (null for any). */
  batchInputShape?: readonly (number | null)[];
  /** Fixes the batch dimension when `inputShape` is given. */
  batchSize?: number;
  /** Whether training updates the layer's weights (default true). */
  trainable?: boolean;
  /** Only "float32" is supported. */
  dtype?: "float32";
}

/** Options of `Layer.apply`. */
export interface CallArgs {
  /** True inside `fit`: dropout is active only then. */
  training?: boolean;
  /** Inside `fit`, the optimizer's step count: a seeded dropout layer's mask is a function of (seed, step). */
  step?: number;
  /**
   * Skip the layer's activation and return its input (pre-activation values):
   * the model does this for the last layer when the loss fuses that
   * activation (softmax or sigmoid cross-entropy on the logits).
   */
  skipActivation?: boolean;
}

/** A weight of a layer: its name in checkpoints (`dense/kernel`) and its variable. */
export interface LayerWeight {
  /** `${layer name}/kernel`: the key in weights.safetensors. */
  readonly name: string;
  /** The variable holding it (its own name may carry a suffix if the checkpoint name was taken). */
  readonly variable: Variable;
}

/** Keras's layer config: snake_case keys, JSON values. */
export type LayerConfig = Record<string, unknown>;

/** How many layers of each snake_case class name were named so far (Keras's unique_object_name). */
const nameCounts = new Map<string, number>();

/** `base`, then `base_1`, `base_2`, ... per process, as Keras numbers its layers. */
export function uniqueLayerName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** `(None, 128)`: a symbolic shape as Keras prints it. */
export function formatSymbolicShape(shape: SymbolicShape): string {
  const dims = shape.map((d) => (d === null ? "None" : String(d)));
  return `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`;
}

/**
 * A building block of a model: weights, a forward computation and its output shape.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const dense: wg.Layer = wg.layers.dense({ units: 3, inputShape: [4] });
 * const y = dense.apply(wg.ones([2, 4])); // builds the weights on first use: kernel [4, 3], bias [3]
 * assertEquals(y.shape, [2, 3]);
 * assertEquals(dense.countParams(), 4 * 3 + 3);
 * ```
 */
export abstract class Layer {
  /** The Keras class name stored in model.json, e.g. "Dense". */
  abstract readonly className: string;
  /** Unique name within a model, prefix of its weights' names. */
  readonly name: string;
  /** Whether training updates the layer's weights. */
  trainable: boolean;
  /** The input shape with batch dimension the layer was declared with, if any. */
  readonly batchInputShape: SymbolicShape | null;
  /** Whether `build` has run (the weights exist). */
  built = false;
  /** Input shape (batch dimension null), known once built. */
  inputShape: SymbolicShape | null = null;
  /** Output shape (batch dimension null), known once built. */
  outputShape: SymbolicShape | null = null;
  readonly #weights: LayerWeight[] = [];

  /** `snakeName` is the default name's base: "dense", "max_pooling2d". */
  protected constructor(args: LayerArgs, snakeName: string) {
    this.name = args.name ?? uniqueLayerName(snakeName);
    this.trainable = args.trainable ?? true;
    if (args.dtype !== undefined && args.dtype !== "float32") {
      throw new TypeError(`${this.name}: only float32 layers are supported, got dtype '${args.dtype}'`);
    }
    if (args.batchInputShape !== undefined) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape !== undefined) {
      this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
    } else this.batchInputShape = null;
  }

  /** Creates the weights for inputs of `inputShape`, once; records the input and output shapes. */
  build(inputShape: readonly (number | null)[]): void {
    if (this.built) return;
    this.inputShape = [null, ...inputShape.slice(1)];
    this.buildWeights(this.inputShape);
    this.outputShape = this.computeOutputShape(this.inputShape);
    this.built = true;
  }

  /** Subclasses create their weights here with `addWeight`. */
  protected buildWeights(_inputShape: SymbolicShape): void {}

  /** The output shape for an input shape (batch dimension first, null if unknown). */
  computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return inputShape;
  }

  /** The forward computation on a built layer. */
  protected abstract call(x: Tensor, args: CallArgs): Tensor;

  /** Builds the layer for x's shape if needed, checks x fits, and runs the forward computation. */
  apply(x: Tensor, args: CallArgs = {}): Tensor {
    this.prepare(x.shape);
    return this.call(x, args);
  }

  /** @internal Builds the layer for inputs of `shape` if needed and checks such inputs fit it. */
  prepare(shape: readonly number[]): void {
    if (!this.built) this.build(shape);
    const want = this.inputShape!;
    const fits = shape.length === want.length && want.every((d, i) => d === null || d === shape[i]);
    if (!fits) {
      throw new ShapeError(
        `layer '${this.name}' (${this.className}) expects inputs of shape ${formatSymbolicShape(want)}, ` +
          `got [${shape.join(",")}]`,
      );
    }
  }

  /**
   * Creates a weight variable named `${layer name}/${suffix}` (made unique
   * among live variables if another model uses the name) from an initializer.
   */
  protected addWeight(suffix: string, shape: number[], initializer: Initializer): Variable {
    const name = `${this.name}/${suffix}`;
    let variableName = name;
    for (let i = 1; variableByName(variableName) !== undefined; i++) variableName = `${name}_${i}`;
    const v = tidy(() => variable(initializer.apply(shape), true, variableName));
    this.#weights.push({ name, variable: v });
    return v;
  }

  /** The weights with their checkpoint names, in creation order (kernel before bias). */
  get namedWeights(): readonly LayerWeight[] {
    return this.#weights;
  }

  /** All weight variables, in creation order. */
  get weights(): Variable[] {
    return this.#weights.map((w) => w.variable);
  }

  /** The variables training updates (none if the layer is not trainable). */
  get trainableWeights(): Variable[] {
    return this.trainable ? this.weights : [];
  }

  /** The variables training leaves alone. */
  get nonTrainableWeights(): Variable[] {
    return this.trainable ? [] : this.weights;
  }

  /** Number of weight values (scalars) of the layer. */
  countParams(): number {
    return this.#weights.reduce((n, w) => n + w.variable.size, 0);
  }

  /** The layer's Keras config (snake_case keys), as model.json stores it. */
  getConfig(): LayerConfig {
    const config: LayerConfig = { name: this.name, trainable: this.trainable, dtype: "float32" };
    if (this.batchInputShape !== null) config.batch_input_shape = this.batchInputShape;
    return { ...config, ...this.layerConfig() };
  }

  /** The options particular to the layer (snake_case keys). */
  protected layerConfig(): LayerConfig {
    return {};
  }

  /** Frees the weights. The layer cannot be used afterwards. */
  dispose(): void {
    for (const w of this.#weights) w.variable.dispose();
    this.#weights.length = 0;
    this.built = false; // used again, it builds new weights
  }

  /** `Dense(dense_1)`. */
  toString(): string {
    return `${this.className}(${this.name})`;
  }
}

/** An initializer from a name ("glorotUniform", "he_normal"), `{ className, config }`, or an instance. */
export function resolveInitializer(
  identifier: InitializerIdentifier | undefined | null,
  fallback: string,
): Initializer {
  if (identifier === undefined || identifier === null) return getInitializer(fallback);
  // model.json spells it Keras's way: { class_name, config }.
  const keras = identifier as { class_name?: unknown; config?: Record<string, unknown> };
  if (typeof keras === "object" && typeof keras.class_name === "string") {
    return getInitializer({ className: keras.class_name, config: keras.config ?? {} });
  }
  return getInitializer(identifier);
}

/** An initializer as model.json stores it (Keras's spelling): `{ class_name, config }`. */
export function serializeInitializer(init: Initializer): LayerConfig {
  const { className, config } = init.getConfig();
  return { class_name: className, config };
}

/** `n` or `[a, b]` as a pair (kernel sizes, strides, pool sizes). */
export function toPair(value: number | readonly number[], what: string, layer: string): [number, number] {
  const p = typeof value === "number" ? [value, value] : [...value];
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v > 0)) {
    throw new ShapeError(
      `${layer}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`,
    );
  }
  return p as [number, number];
}
