/**
 * Activation names as layers take them (`activation: "relu"`): each row says
 * whether the GEMM epilogue can apply it (dense and conv2d fuse it) and how
 * to apply it on its own (the Activation layer, softmax, predict).
 */
import type { FusedActivation } from "../../shaders/matmul.ts";
import { elu, leakyRelu, relu, sigmoid, step, tanh } from "../ops/elementwise.ts";
import { softmax } from "../ops/softmax.ts";
import type { Tensor } from "../tensor.ts";

/** Activations a layer accepts, by their tfjs names (Keras's snake_case spellings are aliases). */
export type ActivationIdentifier =
  | "linear"
  | "relu"
  | "sigmoid"
  | "tanh"
  | "softmax"
  | "elu"
  | "leakyRelu"
  | "step";

interface ActivationRow {
  /** The GEMM epilogue's name for it, when the epilogue can apply it. */
  fused?: FusedActivation;
  apply: (x: Tensor) => Tensor;
}

const ACTIVATIONS: Record<ActivationIdentifier, ActivationRow> = {
  linear: { fused: "linear", apply: (x) => x },
  relu: { fused: "relu", apply: relu },
  sigmoid: { fused: "sigmoid", apply: sigmoid },
  tanh: { fused: "tanh", apply: tanh },
  // NOTE: softmax needs the whole row, so no GEMM epilogue can apply it; the
  // loss fuses it instead (softmax + cross-entropy on the logits).
  softmax: { apply: (x) => softmax(x) },
  elu: { fused: "elu", apply: (x) => elu(x) },
  leakyRelu: { fused: "leakyRelu", apply: (x) => leakyRelu(x) },
  // NOTE: not in Keras; the perceptron lessons' threshold unit. Its gradient is zero.
  step: { fused: "step", apply: (x) => step(x) },
};

const ALIASES: Record<string, ActivationIdentifier> = { leaky_relu: "leakyRelu", leakyrelu: "leakyRelu" };

/** The canonical name of an activation; null/undefined mean linear; an unknown name throws, listing the known ones. */
export function activationName(identifier: string | null | undefined): ActivationIdentifier {
  if (identifier === undefined || identifier === null) return "linear";
  if (identifier in ACTIVATIONS) return identifier as ActivationIdentifier;
  const alias = ALIASES[identifier] ?? ALIASES[identifier.toLowerCase()];
  if (alias) return alias;
  throw new Error(
    `unknown activation '${identifier}': expected one of ${Object.keys(ACTIVATIONS).join(", ")}`,
  );
}

/** The epilogue activation for `name`, or undefined when it must run as its own op (softmax). */
export function fusedActivation(name: ActivationIdentifier): FusedActivation | undefined {
  return ACTIVATIONS[name].fused;
}

/** Applies `name` to x as a separate op. */
export function applyActivation(name: ActivationIdentifier, x: Tensor): Tensor {
  return ACTIVATIONS[name].apply(x);
}
