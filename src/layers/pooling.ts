/**
 * maxPooling2d and averagePooling2d over NHWC inputs: x [B, H, W, C] →
 * [B, OH, OW, C], a window of poolSize sliding by strides (default poolSize).
 */
import { ShapeError } from "../errors.ts";
import { avgPool, maxPool } from "../ops/pool.ts";
import type { Tensor } from "../tensor.ts";
import { checkPadding, windowOutput } from "./convolutional.ts";
import { formatSymbolicShape, Layer, type LayerArgs, type LayerConfig, type SymbolicShape, toPair } from "./layer.ts";

/** Options of the pooling layers, as in tfjs. */
export interface Pooling2DLayerArgs extends LayerArgs {
  /** Window size (default [2, 2]). */
  poolSize?: number | [number, number];
  /** Default: poolSize. */
  strides?: number | [number, number];
  /** "valid" (default) or "same". */
  padding?: "valid" | "same";
  /** Only "channelsLast" (NHWC), the default. */
  dataFormat?: "channelsLast";
}

/** The shared geometry of max and average pooling. */
abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "valid" | "same";

  protected constructor(args: Pooling2DLayerArgs, snakeName: string) {
    super(args, snakeName);
    if (args.dataFormat !== undefined && args.dataFormat !== "channelsLast") {
      throw new ShapeError(`${this.name}: only dataFormat 'channelsLast' (NHWC) is supported`);
    }
    this.poolSize = toPair(args.poolSize ?? 2, "poolSize", this.name);
    // Keras: strides=None means strides = pool_size.
    this.strides = toPair(args.strides ?? this.poolSize, "strides", this.name);
    this.padding = checkPadding(args.padding ?? "valid", this.name);
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    if (inputShape.length !== 4) {
      throw new ShapeError(
        `${this.name}: expects NHWC inputs (batch, height, width, channels), got ${formatSymbolicShape(inputShape)}`,
      );
    }
    const [b, h, w, c] = inputShape;
    const oh = windowOutput(h, this.poolSize[0], this.strides[0], this.padding);
    const ow = windowOutput(w, this.poolSize[1], this.strides[1], this.padding);
    if ((oh !== null && oh < 1) || (ow !== null && ow < 1)) {
      throw new ShapeError(
        `${this.name}: a ${this.poolSize.join("x")} window does not fit an input of ` +
          `${formatSymbolicShape(inputShape)} with '${this.padding}' padding`,
      );
    }
    return [b, oh, ow, c];
  }

  protected override layerConfig(): LayerConfig {
    return {
      pool_size: this.poolSize,
      padding: this.padding,
      strides: this.strides,
      data_format: "channels_last",
    };
  }
}

/** The maximum of each window. */
export class MaxPooling2D extends Pooling2D {
  readonly className = "MaxPooling2D";

  constructor(args: Pooling2DLayerArgs = {}) {
    super(args, "max_pooling2d");
  }

  protected call(x: Tensor): Tensor {
    return maxPool(x, this.poolSize, this.strides, this.padding);
  }
}

/** The mean of each window ("same" padding: the mean of the pixels inside the image, as in TensorFlow). */
export class AveragePooling2D extends Pooling2D {
  readonly className = "AveragePooling2D";

  constructor(args: Pooling2DLayerArgs = {}) {
    super(args, "average_pooling2d");
  }

  protected call(x: Tensor): Tensor {
    return avgPool(x, this.poolSize, this.strides, this.padding);
  }
}
