/**
 * The lessons' models, built and compiled from the CLI's options: the Keras
 * MNIST CNN, a one-hidden-layer MLP, and the single sigmoid unit of the
 * perceptron lessons. Weights and dropout masks are seeded from --seed.
 */
import * as wg from "../../mod.ts";
import { isGate, type TrainOptions } from "./args.ts";

/** What a model needs to know about its data. */
export interface ModelShape {
  /** One example's shape: [H, W, C] for images, [2] for the gates. */
  inputShape: number[];
  /** Classes; 2 for the gates, which have one sigmoid output. */
  classes: number;
}

/** A seed for the k-th seeded part of a model: a hash of (seed, k), so parts differ but are reproducible. */
export function subSeed(seed: number, k: number): number {
  let h = (seed >>> 0) ^ Math.imul(k + 0x51ed27, 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 15), 0x297a2d39);
  h = Math.imul(h ^ (h >>> 12), 0x85ebca6b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Builds the model the options name, seeded.
 *
 * - cnn: Conv2D(32, 3, relu) → MaxPool 2 → Conv2D(64, 3, relu) → MaxPool 2 → Flatten → Dropout(0.5) →
 *   Dense(classes, softmax), the Keras "Simple MNIST convnet" example (99.1% on MNIST after 15 epochs).
 * - mlp: images: Flatten → Dense(128, relu) → Dropout(0.2) → Dense(classes, softmax) (784-128-10 on MNIST);
 *   gates: Dense(8, relu) → Dense(1, sigmoid), enough hidden units to bend the line XOR needs.
 * - perceptron: one Dense(1, sigmoid) unit: logistic regression, a straight line between the classes.
 */
export function buildModel(options: TrainOptions, shape: ModelShape): wg.Sequential {
  const seed = (k: number) => subSeed(options.seed, k);
  const init = (k: number) => wg.initializers.glorotUniform({ seed: seed(k) });
  const { inputShape, classes } = shape;
  const name = `${options.dataset.replace(/-/g, "_")}_${options.model}`;
  if (isGate(options.dataset)) {
    const out = (k: number, extra = {}) =>
      wg.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: init(k), ...extra });
    const layers = options.model === "perceptron"
      ? [out(1, { inputShape })]
      : [wg.layers.dense({ units: 8, activation: "relu", inputShape, kernelInitializer: init(1) }), out(2)];
    return wg.sequential({ name, layers });
  }
  if (options.model === "perceptron") {
    throw new Error("the perceptron model is for the logic gates (xor, and, or, nand)");
  }
  const softmax = (k: number) =>
    wg.layers.dense({ units: classes, activation: "softmax", kernelInitializer: init(k) });
  if (options.model === "mlp") {
    return wg.sequential({
      name,
      layers: [
        wg.layers.flatten({ inputShape }),
        wg.layers.dense({ units: 128, activation: "relu", kernelInitializer: init(1) }),
        // NOTE: without it the MLP overfits (train 99.1%, test 97.5% after 10 epochs here); with it, as in
        // TensorFlow's beginner quickstart, test accuracy keeps rising for longer.
        wg.layers.dropout({ rate: 0.2, seed: seed(3) }),
        softmax(2),
      ],
    });
  }
  const conv = (filters: number, k: number, extra = {}) =>
    wg.layers.conv2d({ filters, kernelSize: 3, activation: "relu", kernelInitializer: init(k), ...extra });
  return wg.sequential({
    name,
    layers: [
      conv(32, 1, { inputShape }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      conv(64, 2),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.flatten(),
      wg.layers.dropout({ rate: 0.5, seed: seed(3) }),
      softmax(4),
    ],
  });
}

/** The optimizer the options name, with their learning rate (Keras's other defaults). */
export function makeOptimizer(options: TrainOptions): wg.Optimizer {
  const lr = options.lr;
  switch (options.optimizer) {
    case "adam":
      return wg.train.adam(lr);
    case "sgd":
      return wg.train.sgd(lr);
    case "momentum":
      return wg.train.momentum(lr, 0.9);
    case "rmsprop":
      return wg.train.rmsprop(lr);
    case "adagrad":
      return wg.train.adagrad(lr);
  }
}

/**
 * The learning rate of each step: constant, or cosine decay from `lr` towards
 * 0 over the run, step t of T at lr·(1 + cos(π·t/T))/2 (Keras's CosineDecay).
 * A smaller step at the end settles the weights: on MNIST's MLP, +0.2-0.3
 * points of test accuracy; step by step rather than per epoch, a short run's
 * last epoch does not train at one fixed, still large rate (README.md, Training).
 */
export function scheduleCallback(
  options: TrainOptions,
  stepsPerEpoch: number,
  model: { optimizer?: wg.Optimizer | null },
): wg.CustomCallbackArgs {
  const { lr, epochs } = options;
  const total = epochs * stepsPerEpoch;
  let epochNow = 0;
  return {
    onEpochBegin(epoch) {
      epochNow = epoch;
    },
    onBatchBegin(batch) {
      const t = epochNow * stepsPerEpoch + batch;
      model.optimizer!.learningRate = options.lrSchedule === "cosine"
        ? lr * (1 + Math.cos(Math.PI * t / total)) / 2
        : lr;
    },
  };
}

/** The loss for a dataset: binary cross-entropy on the gates' one sigmoid output, else sparse categorical. */
export function lossFor(options: TrainOptions): string {
  return isGate(options.dataset) ? "binaryCrossentropy" : "sparseCategoricalCrossentropy";
}

/** Builds and compiles the model (its optimizer is owned by the caller, disposed with the model). */
export function createModel(options: TrainOptions, shape: ModelShape): wg.Sequential {
  const model = buildModel(options, shape);
  model.compile({ optimizer: makeOptimizer(options), loss: lossFor(options), metrics: ["accuracy"] });
  return model;
}
