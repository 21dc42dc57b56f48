/**
 * Core layers: dense (one fused GEMM: x·kernel + bias, activation in the
 * epilogue), activation, flatten, reshape and dropout. Shapes: B batch,
 * F input features, U units.
 */
import { ShapeError } from "../errors.ts";
import type { Initializer, InitializerIdentifier } from "../initializers.ts";
import { dropout } from "../ops/dropout.ts";
import { fusedMatMul } from "../ops/matmul.ts";
import { reshape } from "../ops/transform.ts";
import { mixSeed, Random } from "../random.ts";
import type { Tensor, Variable } from "../tensor.ts";
import {
  type ActivationIdentifier,
  activationName,
  applyActivation,
  fusedActivation,
} from "./activations.ts";
import {
  type CallArgs,
  formatSymbolicShape,
  Layer,
  type LayerArgs,
  type LayerConfig,
  resolveInitializer,
  serializeInitializer,
  type SymbolicShape,
} from "./layer.ts";

/** A layer whose output goes through an activation the model may hand to the loss (softmax, sigmoid). */
export interface HasActivation {
  /** The activation applied to the output. */
  readonly activation: ActivationIdentifier;
}

/** Options of `dense`, as in tfjs. */
export interface DenseLayerArgs extends LayerArgs {
  /** Output features. */
  units: number;
  /** Applied to the output (default linear). */
  activation?: ActivationIdentifier | string;
  /** Whether to add a bias (default true). */
  useBias?: boolean;
  /** Default "glorotUniform", as in Keras. */
  kernelInitializer?: InitializerIdentifier;
  /** Default "zeros". */
  biasInitializer?: InitializerIdentifier;
  /** Input features, when this is the first layer (same as `inputShape: [inputDim]`). */
  inputDim?: number;
}

/** y = act(x·kernel + bias) over the last axis: x [..., F] → y [..., U]. */
export class Dense extends Layer implements HasActivation {
  /** The Keras class name stored in model.json. */
  readonly className = "Dense";
  /** Output features. */
  readonly units: number;
  /** The activation applied to the output. */
  readonly activation: ActivationIdentifier;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  /** Initializes the kernel. */
  readonly kernelInitializer: Initializer;
  /** Initializes the bias. */
  readonly biasInitializer: Initializer;
  /** [F, U], once built. */
  kernel: Variable | null = null;
  /** [U], once built (if useBias). */
  bias: Variable | null = null;

  /** Use the factory in `wg.layers`. */
  constructor(args: DenseLayerArgs) {
    super(
      args.inputDim !== undefined && args.inputShape === undefined && args.batchInputShape === undefined
        ? { ...args, inputShape: [args.inputDim] }
        : args,
      "dense",
    );
    if (!Number.isInteger(args.units) || args.units < 1) {
      throw new ShapeError(`${this.name}: units must be a positive integer, got ${args.units}`);
    }
    this.units = args.units;
    this.activation = activationName(args.activation);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, "glorotUniform");
    this.biasInitializer = resolveInitializer(args.biasInitializer, "zeros");
  }

  /** Creates the kernel (and bias). */
  protected override buildWeights(inputShape: SymbolicShape): void {
    const features = inputShape.at(-1);
    if (inputShape.length < 2 || features === null || features === undefined) {
      throw new ShapeError(
        `${this.name}: the last dimension of its input must be known, got ${formatSymbolicShape(inputShape)}`,
      );
    }
    this.kernel = this.addWeight("kernel", [features, this.units], this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight("bias", [this.units], this.biasInitializer);
  }

  /** The output shape for an input shape (batch dimension first). */
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return [...inputShape.slice(0, -1), this.units];
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor, { skipActivation = false }: CallArgs): Tensor {
    const act = skipActivation ? "linear" : this.activation;
    const fused = fusedActivation(act);
    // Rank > 2: the same GEMM over all leading axes, seen as one batch of rows.
    const x2 = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]]);
    let y = fusedMatMul({
      a: x2,
      b: this.kernel!,
      bias: this.bias ?? undefined,
      activation: fused ?? "linear",
    });
    if (fused === undefined) y = applyActivation(act, y);
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.units]);
  }

  /** The options particular to this layer, Keras's keys. */
  protected override layerConfig(): LayerConfig {
    return {
      units: this.units,
      activation: this.activation,
      use_bias: this.useBias,
      kernel_initializer: serializeInitializer(this.kernelInitializer),
      bias_initializer: serializeInitializer(this.biasInitializer),
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    };
  }
}

/** Options of `activation`. */
export interface ActivationLayerArgs extends LayerArgs {
  /** "relu", "sigmoid", "softmax", ... */
  activation: ActivationIdentifier | string;
}

/** Applies an activation elementwise (softmax over the last axis). */
export class Activation extends Layer implements HasActivation {
  /** The Keras class name stored in model.json. */
  readonly className = "Activation";
  /** The activation applied to the output. */
  readonly activation: ActivationIdentifier;

  /** Use the factory in `wg.layers`. */
  constructor(args: ActivationLayerArgs) {
    super(args, "activation");
    this.activation = activationName(args.activation);
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor, { skipActivation = false }: CallArgs): Tensor {
    return skipActivation ? x : applyActivation(this.activation, x);
  }

  /** The options particular to this layer, Keras's keys. */
  protected override layerConfig(): LayerConfig {
    return { activation: this.activation };
  }
}

/** Flattens each example to one axis: [B, d1, d2, ...] → [B, d1·d2·...]. */
export class Flatten extends Layer {
  /** The Keras class name stored in model.json. */
  readonly className = "Flatten";

  /** Use the factory in `wg.layers`. */
  constructor(args: LayerArgs = {}) {
    super(args, "flatten");
  }

  /** The output shape for an input shape (batch dimension first). */
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const rest = inputShape.slice(1);
    if (rest.some((d) => d === null)) {
      throw new ShapeError(
        `${this.name}: the input shape ${
          formatSymbolicShape(inputShape)
        } must be fully known except the batch`,
      );
    }
    return [inputShape[0], (rest as number[]).reduce((a, b) => a * b, 1)];
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], x.size / Math.max(1, x.shape[0]) || 0]);
  }

  /** The options particular to this layer, Keras's keys. */
  protected override layerConfig(): LayerConfig {
    return { data_format: "channels_last" };
  }
}

/** Options of `reshape`. */
export interface ReshapeLayerArgs extends LayerArgs {
  /** Shape of each example (no batch dimension); one entry may be -1. */
  targetShape: number[];
}

/** Reshapes each example to `targetShape` (no copy). */
export class Reshape extends Layer {
  /** The Keras class name stored in model.json. */
  readonly className = "Reshape";
  /** Shape of each example after the reshape. */
  readonly targetShape: number[];

  /** Use the factory in `wg.layers`. */
  constructor(args: ReshapeLayerArgs) {
    super(args, "reshape");
    if (!Array.isArray(args.targetShape) || args.targetShape.filter((d) => d === -1).length > 1) {
      throw new ShapeError(`${this.name}: targetShape must be a list of sizes with at most one -1`);
    }
    this.targetShape = [...args.targetShape];
  }

  /** The output shape for an input shape (batch dimension first). */
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const rest = inputShape.slice(1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const size = rest.some((d) => d === null) ? null : (rest as number[]).reduce((a, b) => a * b, 1);
    const unknown = this.targetShape.indexOf(-1);
    const out: SymbolicShape = [...this.targetShape];
    if (size !== null) {
      if (unknown >= 0 ? size % known !== 0 : size !== known) {
        throw new ShapeError(
          `${this.name}: cannot reshape ${formatSymbolicShape(inputShape)} to (None, ${this.targetShape}): ` +
            `${size} values per example`,
        );
      }
      if (unknown >= 0) out[unknown] = size / known;
    } else if (unknown >= 0) out[unknown] = null;
    return [inputShape[0], ...out];
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.targetShape]);
  }

  /** The options particular to this layer, Keras's keys. */
  protected override layerConfig(): LayerConfig {
    return { target_shape: this.targetShape };
  }
}

/** Options of `dropout`. */
export interface DropoutLayerArgs extends LayerArgs {
  /** Fraction of the inputs set to zero during training, in [0, 1). */
  rate: number;
  /** Seeds the masks, so that a run can be reproduced. */
  seed?: number;
}

/**
 * Inverted dropout: during `fit` each value is zeroed with probability
 * `rate` and the others scaled by 1/(1-rate); at inference it is the identity.
 */
export class Dropout extends Layer {
  /** The Keras class name stored in model.json. */
  readonly className = "Dropout";
  /** Fraction of the inputs zeroed in training. */
  readonly rate: number;
  /** The masks' seed, or null for a fresh one per fit. */
  readonly seed: number | null;
  readonly #random: Random;

  /** Use the factory in `wg.layers`. */
  constructor(args: DropoutLayerArgs) {
    super(args, "dropout");
    if (!(args.rate >= 0 && args.rate < 1)) {
      throw new RangeError(`${this.name}: rate must be in [0, 1), got ${args.rate}`);
    }
    this.rate = args.rate;
    this.seed = args.seed ?? null;
    this.#random = new Random(args.seed ?? undefined); // null (from model.json): unseeded
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor, { training = false, step }: CallArgs): Tensor {
    if (!training || this.rate === 0) return x;
    // A fresh mask each step: seeded, a function of (seed, optimizer step), so a resumed fit (whose
    // optimizer state holds the step) draws the masks an uninterrupted one would; else the layer's stream.
    const maskSeed = this.seed !== null && step !== undefined
      ? mixSeed(this.seed, step) >>> 1
      : this.#random.int(2 ** 31);
    return dropout(x, this.rate, maskSeed);
  }

  /** The options particular to this layer, Keras's keys. */
  protected override layerConfig(): LayerConfig {
    return { rate: this.rate, noise_shape: null, seed: this.seed };
  }
}
