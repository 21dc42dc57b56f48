/**
 * The `wg.train` namespace: optimizer factories with TensorFlow.js's
 * signatures and Keras's defaults (Keras's epsilon 1e-7 where tfjs says null).
 */
import { Optimizer } from "./optimizer.ts";

/**
 * Plain gradient descent: w -= lr·g. Keras's default lr is 0.01.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.variable(wg.tensor([3]), true, "doc_sgd_x");
 * const optimizer = wg.train.sgd(0.1);
 * optimizer.minimize(() => wg.sum(wg.square(x)));
 * assertAlmostEquals((await x.data())[0], 2.4, 1e-5);
 * x.dispose();
 * ```
 */
export function sgd(learningRate = 0.01): Optimizer {
  return new Optimizer("sgd", { learningRate });
}

/**
 * SGD with momentum: v = m·v - lr·g; w += v (Nesterov: w += m·v - lr·g).
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.variable(wg.tensor([3]), true, "doc_momentum_x");
 * const optimizer = wg.train.momentum(0.1, 0.9);
 * optimizer.minimize(() => wg.sum(wg.square(x)));
 * assertAlmostEquals((await x.data())[0], 2.4, 1e-5);
 * x.dispose();
 * ```
 */
export function momentum(learningRate = 0.01, momentum = 0.9, useNesterov = false): Optimizer {
  return new Optimizer("momentum", { learningRate, momentum, nesterov: useNesterov });
}

/**
 * AdaGrad: acc += g²; w -= lr·g / √(acc + ε). Keras defaults: lr 0.001, initial accumulator 0.1.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.variable(wg.tensor([3]), true, "doc_adagrad_x");
 * const optimizer = wg.train.adagrad(0.1);
 * optimizer.minimize(() => wg.sum(wg.square(x)));
 * assertAlmostEquals((await x.data())[0], 2.900139, 1e-5);
 * x.dispose();
 * ```
 */
export function adagrad(learningRate = 0.001, initialAccumulatorValue = 0.1): Optimizer {
  return new Optimizer("adagrad", { learningRate, initialAccumulatorValue });
}

/**
 * RMSprop: ms = ρ·ms + (1-ρ)·g²; w -= lr·g / √(ms + ε), with optional
 * momentum and centering. Keras defaults: lr 0.001, ρ (decay) 0.9, ε 1e-7.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.variable(wg.tensor([3]), true, "doc_rmsprop_x");
 * const optimizer = wg.train.rmsprop(0.01);
 * optimizer.minimize(() => wg.sum(wg.square(x)));
 * assertAlmostEquals((await x.data())[0], 2.968377, 1e-5);
 * x.dispose();
 * ```
 */
export function rmsprop(
  learningRate = 0.001,
  decay = 0.9,
  momentum = 0,
  epsilon = 1e-7,
  centered = false,
): Optimizer {
  const kind = centered ? "rmspropCentered" : momentum > 0 ? "rmspropMomentum" : "rmsprop";
  return new Optimizer(kind, { learningRate, beta1: decay, momentum, epsilon });
}

/**
 * Adam (Keras's form): defaults lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.variable(wg.tensor([3]), true, "doc_adam_x");
 * const optimizer = wg.train.adam(0.1);
 * optimizer.minimize(() => wg.sum(wg.square(x)));
 * assertAlmostEquals((await x.data())[0], 2.9, 1e-5);
 * x.dispose();
 * ```
 */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): Optimizer {
  return new Optimizer("adam", { learningRate, beta1, beta2, epsilon });
}
