/**
 * conv2d: a 2-D convolution layer, NHWC inputs and HWIO kernels, computed
 * as im2col + one GEMM with the bias and activation fused in its epilogue.
 * Shapes: B batch, H×W image, C input channels, F filters, KH×KW kernel.
 */
import { ShapeError } from "../errors.ts";
import type { Initializer, InitializerIdentifier } from "../initializers.ts";
import { fusedConv2d } from "../ops/conv.ts";
import { convPoolConfig, fusedConv2dMaxPool } from "../ops/conv_pool.ts";
import type { Tensor, Variable } from "../tensor.ts";
import {
  type ActivationIdentifier,
  activationName,
  applyActivation,
  fusedActivation,
} from "./activations.ts";
import type { HasActivation } from "./core.ts";
import type { MaxPooling2D } from "./pooling.ts";
import {
  type CallArgs,
  formatSymbolicShape,
  Layer,
  type LayerArgs,
  type LayerConfig,
  resolveInitializer,
  serializeInitializer,
  type SymbolicShape,
  toPair,
} from "./layer.ts";

/** Options of `conv2d`, as in tfjs (channels-last only). */
export interface Conv2DLayerArgs extends LayerArgs {
  /** Output channels F. */
  filters: number;
  /** KH×KW, or one number for a square kernel. */
  kernelSize: number | [number, number];
  /** Default 1. */
  strides?: number | [number, number];
  /** "valid" (default, no padding) or "same" (output ceil(H/stride)). */
  padding?: "valid" | "same";
  /** Only "channelsLast" (NHWC), the default. */
  dataFormat?: "channelsLast";
  /** Only 1 (no dilation). */
  dilationRate?: number | [number, number];
  /** Applied to the output (default linear). */
  activation?: ActivationIdentifier | string;
  /** Default true. */
  useBias?: boolean;
  /** Default "glorotUniform", as in Keras. */
  kernelInitializer?: InitializerIdentifier;
  /** Default "zeros". */
  biasInitializer?: InitializerIdentifier;
}

/** One output axis of a window: TensorFlow's rule for "valid" and "same". */
export function windowOutput(size: number | null, k: number, stride: number, padding: "valid" | "same") {
  if (size === null) return null;
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

/** Checks a padding option. */
export function checkPadding(padding: unknown, layer: string): "valid" | "same" {
  if (padding !== "valid" && padding !== "same") {
    throw new ShapeError(`${layer}: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`);
  }
  return padding;
}

/** y = act(conv2d(x, kernel) + bias): x [B, H, W, C] → y [B, OH, OW, F]; kernel [KH, KW, C, F]. */
export class Conv2D extends Layer implements HasActivation {
  /** The Keras class name stored in model.json. */
  readonly className = "Conv2D";
  /** Output channels. */
  readonly filters: number;
  /** Kernel height and width. */
  readonly kernelSize: [number, number];
  /** Vertical and horizontal stride. */
  readonly strides: [number, number];
  /** "valid" or "same". */
  readonly padding: "valid" | "same";
  /** The activation applied to the output. */
  readonly activation: ActivationIdentifier;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  /** Initializes the kernel. */
  readonly kernelInitializer: Initializer;
  /** Initializes the bias. */
  readonly biasInitializer: Initializer;
  /** [KH, KW, C, F], once built. */
  kernel: Variable | null = null;
  /** [F], once built (if useBias). */
  bias: Variable | null = null;

  /** Use the factory in `wg.layers`. */
  constructor(args: Conv2DLayerArgs) {
    super(args, "conv2d");
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new ShapeError(`${this.name}: filters must be a positive integer, got ${args.filters}`);
    }
    if (args.dataFormat !== undefined && args.dataFormat !== "channelsLast") {
      throw new ShapeError(`${this.name}: only dataFormat 'channelsLast' (NHWC) is supported`);
    }
    if (
      args.dilationRate !== undefined &&
      toPair(args.dilationRate, "dilationRate", this.name).some((d) => d !== 1)
    ) {
      throw new ShapeError(`${this.name}: dilationRate other than 1 is not supported`);
    }
    this.filters = args.filters;
    this.kernelSize = toPair(args.kernelSize, "kernelSize", this.name);
    this.strides = toPair(args.strides ?? 1, "strides", this.name);
    this.padding = checkPadding(args.padding ?? "valid", this.name);
    this.activation = activationName(args.activation);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, "glorotUniform");
    this.biasInitializer = resolveInitializer(args.biasInitializer, "zeros");
  }

  /** Creates the kernel (and bias). */
  protected override buildWeights(inputShape: SymbolicShape): void {
    const channels = inputShape[3];
    if (inputShape.length !== 4 || channels === null) {
      throw new ShapeError(
        `${this.name}: expects NHWC inputs (batch, height, width, channels) with known channels, ` +
          `got ${formatSymbolicShape(inputShape)}`,
      );
    }
    this.kernel = this.addWeight(
      "kernel",
      [...this.kernelSize, channels, this.filters],
      this.kernelInitializer,
    );
    if (this.useBias) this.bias = this.addWeight("bias", [this.filters], this.biasInitializer);
  }

  /** The output shape for an input shape (batch dimension first). */
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const [b, h, w] = inputShape;
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.strides;
    const oh = windowOutput(h, kh, sh, this.padding), ow = windowOutput(w, kw, sw, this.padding);
    if ((oh !== null && oh < 1) || (ow !== null && ow < 1)) {
      throw new ShapeError(
        `${this.name}: a ${kh}x${kw} kernel does not fit an input of ${formatSymbolicShape(inputShape)} ` +
          `with '${this.padding}' padding`,
      );
    }
    return [b, oh, ow, this.filters];
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor, { skipActivation = false }: CallArgs): Tensor {
    const act = skipActivation ? "linear" : this.activation;
    const fused = fusedActivation(act);
    const y = fusedConv2d({
      x,
      filter: this.kernel!,
      strides: this.strides,
      pad: this.padding,
      bias: this.bias ?? undefined,
      activation: fused ?? "linear",
    });
    return fused === undefined ? applyActivation(act, y) : y;
  }

  /**
   * @internal This layer and the max pool after it as one op (Sequential's forward pass): for a first
   * layer, one kernel each way that never stores the conv's output (src/ops/conv_pool.ts); null
   * where the activation is not linear or relu (the two layers then run one after the other).
   */
  applyWithPool(x: Tensor, pool: MaxPooling2D, { skipActivation = false }: CallArgs): Tensor | null {
    const act = fusedActivation(skipActivation ? "linear" : this.activation);
    if ((act !== "linear" && act !== "relu") || !convPoolConfig.fuse) return null;
    this.prepare(x.shape);
    pool.prepare(this.computeOutputShape([...x.shape]) as number[]);
    return fusedConv2dMaxPool({
      x,
      filter: this.kernel!,
      bias: this.bias ?? undefined,
      strides: this.strides,
      pad: this.padding,
      activation: act,
      poolSize: pool.poolSize,
      poolStrides: pool.strides,
      poolPad: pool.padding,
    });
  }

  /** The options particular to this layer, Keras's keys. */
  protected override layerConfig(): LayerConfig {
    return {
      filters: this.filters,
      kernel_size: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      data_format: "channels_last",
      dilation_rate: [1, 1],
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
