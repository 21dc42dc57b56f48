/**
 * maxPooling2d and averagePooling2d over NHWC inputs: x [B, H, W, C] →
 * [B, OH, OW, C], a window of poolSize sliding by strides (default poolSize).
 */
import { ShapeError } from "../errors.ts";
import { avgPool, maxPool } from "../ops/pool.ts";
import type { Tensor } from "../tensor.ts";
import { checkPadding, windowOutput } from "./convolutional.ts";
import {
  formatSymbolicShape,
  Layer,
  type LayerArgs,
  type LayerConfig,
  type SymbolicShape,
  toPair,
} from "./layer.ts";

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
export abstract class Pooling2D extends Layer {
  /** Window height and width. */
  readonly poolSize: [number, number];
  /** Vertical and horizontal stride. */
  readonly strides: [number, number];
  /** "valid" or "same". */
  readonly padding: "valid" | "same";

  /** Use the factory in `wg.layers`. */
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

  /** The output shape for an input shape (batch dimension first). */
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    if (inputShape.length !== 4) {
      throw new ShapeError(
        `${this.name}: expects NHWC inputs (batch, height, width, channels), got ${
          formatSymbolicShape(inputShape)
        }`,
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

  /** The options particular to this layer, Keras's keys. */
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
  /** The Keras class name stored in model.json. */
  readonly className = "MaxPooling2D";

  /** Use the factory in `wg.layers`. */
  constructor(args: Pooling2DLayerArgs = {}) {
    super(args, "max_pooling2d");
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor): Tensor {
    return maxPool(x, this.poolSize, this.strides, this.padding);
  }
}

/** The mean of each window ("same" padding: the mean of the pixels inside the image, as in TensorFlow). */
export class AveragePooling2D extends Pooling2D {
  /** The Keras class name stored in model.json. */
  readonly className = "AveragePooling2D";

  /** Use the factory in `wg.layers`. */
  constructor(args: Pooling2DLayerArgs = {}) {
    super(args, "average_pooling2d");
  }

  /** The forward computation (see the class comment). */
  protected call(x: Tensor): Tensor {
    return avgPool(x, this.poolSize, this.strides, this.padding);
  }
}
