/**
 * In-place optimizer updates: one dispatch per variable rewrites the weights w
 * and the optimizer's slot tensors (s0, s1, ...) from the gradient g. The
 * formulas are Keras's (keras/optimizers/*.py), so the same hyperparameters
 * train the same way.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, TEXEL, WG_1D } from "./_wgsl.ts";

/** The update rules the optimizer kernel implements (RMSprop's variants are separate rules). */
export type OptimizerKind =
  | "sgd"
  | "momentum"
  | "adagrad"
  | "rmsprop"
  | "rmspropMomentum"
  | "rmspropCentered"
  | "adam";

/**
 * Slots per variable and the update, in w, g, s0..s2 and params (lr, beta1, beta2, their complements
 * oneMinusBeta1/2, epsilon, momentum, alphaT). The complements come from the host in float64: 1 - β
 * in float32 loses digits (1 - f32(0.999) is 0.001 - 1.3e-5 relative, a bias in Adam's v).
 */
export const OPTIMIZER_UPDATES: Record<OptimizerKind, { slots: number; update: string }> = {
  sgd: { slots: 0, update: "w = w - p.lr * g;" },
  // v = m·v - lr·g;  w += v  (Nesterov: w += m·v - lr·g)
  momentum: {
    slots: 1,
    update: `s0 = p.momentum * s0 - p.lr * g;
    w = w + select(s0, p.momentum * s0 - p.lr * g, p.nesterov != 0u);`,
  },
  // acc += g²;  w -= lr·g / √(acc + ε)
  adagrad: { slots: 1, update: "s0 = s0 + g * g;\n    w = w - p.lr * g / sqrt(s0 + p.epsilon);" },
  // ms = ρ·ms + (1-ρ)·g²;  w -= lr·g / √(ms + ε)
  rmsprop: {
    slots: 1,
    update: "s0 = p.beta1 * s0 + p.oneMinusBeta1 * g * g;\n    w = w - p.lr * g / sqrt(s0 + p.epsilon);",
  },
  // as rmsprop, then mom = m·mom + increment; w -= mom
  rmspropMomentum: {
    slots: 2,
    update: `s0 = p.beta1 * s0 + p.oneMinusBeta1 * g * g;
    s1 = p.momentum * s1 + p.lr * g / sqrt(s0 + p.epsilon);
    w = w - s1;`,
  },
  // centered: the denominator uses the variance ms - mg², mg = ρ·mg + (1-ρ)·g
  rmspropCentered: {
    slots: 3,
    update: `s0 = p.beta1 * s0 + p.oneMinusBeta1 * g * g;
    s2 = p.beta1 * s2 + p.oneMinusBeta1 * g;
    s1 = p.momentum * s1 + p.lr * g / sqrt(max(s0 - s2 * s2, T(0.0)) + p.epsilon);
    w = w - s1;`,
  },
  // m += (g - m)(1-β₁);  v += (g² - v)(1-β₂);  w -= αₜ·m / (√v + ε),  αₜ = lr·√(1-β₂ᵗ)/(1-β₁ᵗ)
  adam: {
    slots: 2,
    update: `s0 = s0 + (g - s0) * p.oneMinusBeta1;
    s1 = s1 + (g * g - s1) * p.oneMinusBeta2;
    w = w - p.alphaT * s0 / (sqrt(s1) + p.epsilon);`,
  },
};

/**
 * An optimizer pipeline: the rule, and where it reads its inputs. `texture`:
 * w, g and the slots are read from texture copies (Runtime.texture) and each
 * invocation updates 4 elements (vec4), on llvmpipe ~3x faster than storage
 * loads (a texel costs ~1/4 of one float's storage load there); the writes go
 * to storage either way.
 */
export interface OptimizerVariant {
  kind: OptimizerKind;
  texture: boolean;
}

export const optimizerKernel: Kernel<OptimizerVariant> = {
  name: "optimizer",
  uniforms: [
    ["n", "u32"],
    ["lr", "f32"],
    ["beta1", "f32"],
    ["beta2", "f32"],
    ["oneMinusBeta1", "f32"],
    ["oneMinusBeta2", "f32"],
    ["epsilon", "f32"],
    ["momentum", "f32"],
    ["alphaT", "f32"],
    ["nesterov", "u32"],
  ],
  bindings: ({ kind, texture }) => {
    const slots = [...Array(OPTIMIZER_UPDATES[kind].slots).keys()];
    const type = texture ? "vec4<f32>" : "f32";
    return [
      { name: "weights", type, access: "read_write" },
      ...slots.map((i) => ({ name: `slot${i}`, type, access: "read_write" as const })),
      ...(texture
        ? ["weightsIn", "grads", ...slots.map((i) => `slotIn${i}`)].map((name) => ({
          name,
          type: "",
          access: "texture" as const,
        }))
        : [{ name: "grads", type, access: "read" as const }]),
    ];
  },
  key: ({ kind, texture }) => `${kind}${texture ? "/texture" : ""}`,
  source: ({ kind, texture }) => {
    const { slots, update } = OPTIMIZER_UPDATES[kind];
    const range = [...Array(slots).keys()];
    const read = (buffer: string, copy: string) => texture ? `texel(${copy}, i)` : `${buffer}[i]`;
    return `
alias T = ${texture ? "vec4<f32>" : "f32"};
${texture ? TEXEL : ""}
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  // Element i, or with textures the 4 elements of texel i (lanes past n land in the buffer's padding).
  let i = linearIndex(gid, groups);
  if (i >= ${texture ? "(params.n + 3u) / 4u" : "params.n"}) { return; }
  let p = params;
  let g = ${read("grads", "grads")};
  var w = ${read("weights", "weightsIn")};
${range.map((s) => `  var s${s} = ${read(`slot${s}`, `slotIn${s}`)};`).join("\n")}
    ${update}
  weights[i] = w;
${range.map((s) => `  slot${s}[i] = s${s};`).join("\n")}
}`;
  },
};
