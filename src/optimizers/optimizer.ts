/**
 * Optimizers with TensorFlow.js's interface (`minimize`, `applyGradients`,
 * `getWeights`/`setWeights`) and Keras's update rules and defaults. Updates
 * are in-place kernels, each over a group of variables (up to 8, as the
 * adapter's storage bindings allow) or, on llvmpipe, over one large variable
 * read from textures; `applyGradients` ends the training step with one submit.
 */
import {
  bindingsPerVariable,
  MAX_GROUPED_VARIABLES,
  OPTIMIZER_UPDATES,
  optimizerKernel,
  type OptimizerKind,
} from "../../shaders/optimizers.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { variableGrads } from "../autograd/gradients.ts";
import { DTypeError, ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { fill, scalar } from "../ops/creation.ts";
import { formatShape, shapesEqual } from "../shape.ts";
import { keep, type Tensor, type Variable, variableByName } from "../tensor.ts";

/** A tensor with a name, as tfjs's `NamedTensor`. */
export interface NamedTensor {
  /** E.g. a variable name, or `<variable>/<slot>` for optimizer state. */
  name: string;
  /** The value. */
  tensor: Tensor;
}

/** Hyperparameters of one optimizer; unused ones are ignored by its kernel. */
export interface OptimizerConfig {
  /** Step size. */
  learningRate: number;
  /** Adam's β₁; RMSprop's decay ρ. */
  beta1?: number;
  /** Adam's β₂. */
  beta2?: number;
  /** Added to denominators against division by zero (Keras: 1e-7). */
  epsilon?: number;
  /** Momentum of SGD-with-momentum and RMSprop. */
  momentum?: number;
  /** Nesterov momentum for SGD. */
  nesterov?: boolean;
  /** Initial value of Adagrad's accumulator. */
  initialAccumulatorValue?: number;
}

/** Floats from which llvmpipe's update reads texture copies (MLP step, Adam: 1.36-1.59 → 1.20-1.30 ms at 4096). */
const TEXTURE_MIN_FLOATS = 4096;

/** Names of each kind's slot tensors, for `getWeights` (e.g. `dense/kernel/m`). */
const SLOT_NAMES: Record<OptimizerKind, readonly string[]> = {
  sgd: [],
  momentum: ["velocity"],
  adagrad: ["accumulator"],
  rmsprop: ["rms"],
  rmspropMomentum: ["rms", "momentum"],
  rmspropCentered: ["rms", "momentum", "mg"],
  adam: ["m", "v"],
};

/**
 * Updates variables from their gradients. Create one with `wg.train.*`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertAlmostEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.variable(wg.tensor([3]), true, "w_opt");
 * const opt: wg.Optimizer = wg.train.sgd(0.25);
 * for (let i = 0; i < 20; i++) opt.minimize(() => wg.sum(wg.square(w))); // w ← w - 0.25·2w = w/2
 * assertAlmostEquals((await w.data())[0], 3 / 2 ** 20, 1e-6);
 * w.dispose();
 * ```
 */
export class Optimizer {
  /** The kind of update (e.g. "adam"), as in the kernel table. */
  readonly kind: OptimizerKind;
  /** Hyperparameters; `learningRate` may be changed between steps. */
  readonly config: Required<OptimizerConfig>;
  /** Steps applied so far (Adam's bias correction uses it). */
  iterations = 0;
  readonly #slots = new Map<string, Tensor[]>();

  /** @internal Use `wg.train.sgd()`, `adam()`, ... */
  constructor(kind: OptimizerKind, config: OptimizerConfig) {
    this.kind = kind;
    this.config = {
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      momentum: 0,
      nesterov: false,
      initialAccumulatorValue: 0.1,
      ...config,
    };
  }

  /** The learning rate, read on every step. */
  get learningRate(): number {
    return this.config.learningRate;
  }
  set learningRate(value: number) {
    this.config.learningRate = value;
  }

  /**
   * Computes the gradients of the scalar `f()` with respect to `varList`
   * (default: all trainable variables) and applies them. Returns the loss
   * when `returnCost`, else null (and disposes it).
   */
  minimize(f: () => Tensor, returnCost = false, varList?: Variable[]): Tensor | null {
    const { value, grads } = variableGrads(f, varList);
    this.applyGradients(grads);
    for (const g of Object.values(grads)) g.dispose();
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /**
   * Updates each named variable in place from its gradient, then submits the
   * step (one submit, no readback). Every pair is checked before any update.
   */
  applyGradients(grads: Record<string, Tensor> | readonly NamedTensor[]): void {
    const entries = Array.isArray(grads)
      ? (grads as readonly NamedTensor[]).map((g) => [g.name, g.tensor] as const)
      : Object.entries(grads as Record<string, Tensor>);
    const gpu = runtime();
    // Untracked views keep every gradient's buffer shared while the variables are made exclusive: a
    // gradient that is a variable of this call (or a view of one) keeps its values in the old buffer, so no
    // dispatch reads a buffer it also writes (a grouped dispatch doing so would be invalid, and skipped).
    const updates = checkedUpdates(entries).map(({ v, grad }) => ({
      v,
      gradient: grad.view(grad.shape, false),
    }));
    const planned = updates.map(({ v, gradient }) => ({
      size: v.size,
      weights: v.exclusiveBuffer(),
      slots: this.#slotsOf(v).map((s) => s.buffer),
      grad: gradient.buffer,
      // On llvmpipe, reading texture copies is ~3x faster than storage loads (shaders/optimizers.ts),
      // except for small variables (biases), where the four copies cost more than they save.
      texture: gpu.ctx.isFallbackAdapter && v.size >= TEXTURE_MIN_FLOATS && v.size <= gpu.textures.maxFloats,
    }));
    const release = () => updates.forEach(({ gradient }) => gradient.dispose());
    const written = new Set(planned.flatMap((u) => [u.weights, ...u.slots]));
    const slotGradient = planned.findIndex((u) => written.has(u.grad));
    if (slotGradient >= 0) {
      release();
      throw new Error(
        `applyGradients: the gradient of '${updates[slotGradient].v.name}' is one of this optimizer's slots`,
      );
    }
    this.iterations++;
    const c = this.config;
    const t = this.iterations;
    const alphaT = c.learningRate * Math.sqrt(1 - c.beta2 ** t) / (1 - c.beta1 ** t);
    const uniforms = {
      lr: c.learningRate,
      beta1: c.beta1,
      beta2: c.beta2,
      oneMinusBeta1: 1 - c.beta1,
      oneMinusBeta2: 1 - c.beta2,
      epsilon: c.epsilon,
      momentum: c.momentum,
      alphaT,
      nesterov: c.nesterov ? 1 : 0,
    };
    for (const { size, weights, slots, grad } of planned.filter((u) => u.texture)) {
      gpu.dispatch(
        optimizerKernel,
        { kind: this.kind, texture: true, count: 1 },
        [weights, ...slots, ...[weights, grad, ...slots].map((b) => gpu.texture(b, Math.ceil(size / 4) * 4))],
        { n: size, ends: [], ...uniforms },
        grid1D(Math.ceil(size / 4)),
      );
    }
    const grouped = planned.filter((u) => !u.texture);
    const perDispatch = Math.max(
      1,
      Math.min(
        MAX_GROUPED_VARIABLES,
        Math.floor(gpu.device.limits.maxStorageBuffersPerShaderStage / bindingsPerVariable(this.kind)),
      ),
    );
    for (let first = 0; first < grouped.length; first += perDispatch) {
      const group = grouped.slice(first, first + perDispatch);
      const ends: number[] = [];
      for (const { size } of group) ends.push((ends.at(-1) ?? 0) + size);
      gpu.dispatch(
        optimizerKernel,
        { kind: this.kind, texture: false, count: group.length },
        group.flatMap((u) => [u.weights, ...u.slots, u.grad]),
        { n: ends.at(-1)!, ends, ...uniforms },
        grid1D(ends.at(-1)!),
      );
    }
    release();
    gpu.flush();
  }

  /** The iteration count (as a scalar named "iter") and every slot tensor, named `<variable>/<slot>`. */
  getWeights(): NamedTensor[] {
    const weights: NamedTensor[] = [{ name: "iter", tensor: keep(scalar(this.iterations)) }];
    for (const [name, slots] of this.#slots) {
      slots.forEach((tensor, i) => weights.push({ name: `${name}/${SLOT_NAMES[this.kind][i]}`, tensor }));
    }
    return weights;
  }

  /** Restores what `getWeights` returned (slot values are copied in; `iter` sets the step count). */
  async setWeights(weights: readonly NamedTensor[]): Promise<void> {
    for (const { name, tensor } of weights) {
      if (name === "iter") {
        this.iterations = Math.round((await tensor.data())[0]);
        continue;
      }
      const cut = name.lastIndexOf("/");
      const variableName = name.slice(0, cut);
      const slotIndex = SLOT_NAMES[this.kind].indexOf(name.slice(cut + 1));
      const v = variableByName(variableName);
      if (v === undefined || slotIndex < 0) {
        throw new Error(`setWeights: '${name}' is not a ${this.kind} slot of a live variable`);
      }
      if (!shapesEqual(tensor.shape, v.shape)) {
        throw new ShapeError(
          `setWeights: '${name}' has shape ${formatShape(tensor.shape)}, the variable ${
            formatShape(v.shape)
          }`,
        );
      }
      const slot = this.#slotsOf(v)[slotIndex];
      runtime().copy(tensor.buffer, 0, slot.buffer, 0, v.size * 4);
    }
  }

  /** Frees the slot tensors. */
  dispose(): void {
    for (const slots of this.#slots.values()) for (const s of slots) s.dispose();
    this.#slots.clear();
  }

  #slotsOf(v: Variable): Tensor[] {
    let slots = this.#slots.get(v.name);
    if (slots === undefined) {
      const initial = this.kind === "adagrad" ? this.config.initialAccumulatorValue : 0;
      slots = Array.from({ length: OPTIMIZER_UPDATES[this.kind].slots }, () => keep(fill(v.shape, initial)));
      this.#slots.set(v.name, slots);
    }
    return slots;
  }
}

/**
 * The variables named by `entries` and their gradients, checked (dtypes, shapes, each variable once:
 * two updates of one variable in one dispatch would bind its buffer twice for writing); empty ones left out.
 */
function checkedUpdates(entries: readonly (readonly [string, Tensor])[]): { v: Variable; grad: Tensor }[] {
  const seen = new Set<string>();
  const updates: { v: Variable; grad: Tensor }[] = [];
  for (const [name, grad] of entries) {
    const v = variableByName(name);
    if (v === undefined) throw new Error(`applyGradients: no live variable is called '${name}'`);
    if (seen.has(name)) throw new Error(`applyGradients: '${name}' is given more than one gradient`);
    seen.add(name);
    if (grad.dtype !== "float32" || v.dtype !== "float32") {
      throw new DTypeError(`applyGradients: '${name}' and its gradient must be float32`);
    }
    if (!shapesEqual(grad.shape, v.shape)) {
      throw new ShapeError(
        `applyGradients: gradient ${formatShape(grad.shape)} does not match variable '${name}' ` +
          formatShape(v.shape),
      );
    }
    if (v.size > 0) updates.push({ v, grad });
  }
  return updates;
}
