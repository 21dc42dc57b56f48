/**
 * Optimizers by name for `compile` ("sgd", "adam", "rmsprop", "adagrad",
 * Keras's defaults), and their Keras config for model.json's training config.
 */
import { Optimizer } from "../optimizers/optimizer.ts";
import { adagrad, adam, momentum, rmsprop, sgd } from "../optimizers/train.ts";

/** Optimizer names `compile` accepts (Keras's defaults: SGD lr 0.01, the others 0.001). */
export type OptimizerIdentifier = "sgd" | "adam" | "rmsprop" | "adagrad";

const BY_NAME: Record<string, () => Optimizer> = {
  sgd: () => sgd(),
  adam: () => adam(),
  rmsprop: () => rmsprop(),
  adagrad: () => adagrad(),
};

/** The optimizer itself, or a new one with Keras's defaults for a name (case-insensitive). */
export function getOptimizer(identifier: Optimizer | string): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  const make = typeof identifier === "string" ? BY_NAME[identifier.toLowerCase()] : undefined;
  if (make === undefined) {
    throw new Error(
      `unknown optimizer ${JSON.stringify(identifier)}: expected an optimizer from wg.train or one of ` +
        Object.keys(BY_NAME).join(", "),
    );
  }
  return make();
}

/** Keras's `{ class_name, config }` of an optimizer. */
export interface OptimizerJSON {
  /** "SGD", "Adam", "RMSprop" or "Adagrad". */
  class_name: string;
  /** Keras's argument names, e.g. `learning_rate`, `beta_1`. */
  config: Record<string, number | boolean>;
}

/** The optimizer as Keras writes it in a training config. */
export function optimizerToJSON(optimizer: Optimizer): OptimizerJSON {
  const c = optimizer.config;
  const learning_rate = c.learningRate;
  switch (optimizer.kind) {
    case "sgd":
    case "momentum":
      return { class_name: "SGD", config: { learning_rate, momentum: c.momentum, nesterov: c.nesterov } };
    case "adagrad":
      return {
        class_name: "Adagrad",
        config: { learning_rate, initial_accumulator_value: c.initialAccumulatorValue, epsilon: c.epsilon },
      };
    case "rmsprop":
    case "rmspropMomentum":
    case "rmspropCentered":
      return {
        class_name: "RMSprop",
        config: {
          learning_rate,
          rho: c.beta1,
          momentum: c.momentum,
          epsilon: c.epsilon,
          centered: optimizer.kind === "rmspropCentered",
        },
      };
    case "adam":
      return {
        class_name: "Adam",
        config: { learning_rate, beta_1: c.beta1, beta_2: c.beta2, epsilon: c.epsilon, amsgrad: false },
      };
  }
}

/** An optimizer from Keras's JSON (missing fields take Keras's defaults). */
export function optimizerFromJSON(json: OptimizerJSON): Optimizer {
  const c = json.config ?? {};
  const num = (key: string, fallback: number) => (typeof c[key] === "number" ? c[key] as number : fallback);
  const lr = (fallback: number) => num("learning_rate", num("lr", fallback));
  switch (String(json.class_name).toLowerCase()) {
    case "sgd": {
      const m = num("momentum", 0);
      return m > 0 ? momentum(lr(0.01), m, c.nesterov === true) : sgd(lr(0.01));
    }
    case "adagrad":
      return adagrad(lr(0.001), num("initial_accumulator_value", 0.1));
    case "rmsprop":
      return rmsprop(
        lr(0.001),
        num("rho", 0.9),
        num("momentum", 0),
        num("epsilon", 1e-7),
        c.centered === true,
      );
    case "adam":
      if (c.amsgrad === true) throw new Error("optimizer config: Adam with amsgrad is not supported");
      return adam(lr(0.001), num("beta_1", 0.9), num("beta_2", 0.999), num("epsilon", 1e-7));
    default:
      throw new Error(`optimizer config: unknown optimizer class '${json.class_name}'`);
  }
}
