/**
 * In-place optimizer updates: a dispatch rewrites the weights w and the
 * optimizer's slot tensors (s0, s1, ...) of a group of variables (or, on
 * llvmpipe, of one large variable read from textures) from the gradients g.
 * The formulas are Keras's (keras/optimizers/*.py), so the same
 * hyperparameters train the same way.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { AT8, LINEAR_INDEX, TEXEL, WG_1D } from "./_wgsl.ts";

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
 * An optimizer pipeline: the rule, where it reads its inputs, and how many
 * variables one dispatch updates. `texture`: w, g and the slots of one
 * variable are read from texture copies (Runtime.texture) and each invocation
 * updates 4 elements (vec4), on llvmpipe ~3x faster than storage loads (a
 * texel costs ~1/4 of one float's storage load there); the writes go to
 * storage either way. Otherwise `count` variables (at most 8, and as many as
 * the adapter's storage bindings allow) share one dispatch, invocation i
 * updating element i of their concatenation: on llvmpipe, where the small
 * ones (biases) take this path, a dispatch costs ~0.05-0.1 ms whatever its size.
 */
export interface OptimizerVariant {
  kind: OptimizerKind;
  texture: boolean;
  count: number;
}

/** Variables one storage dispatch may update (`ends` holds their cumulative sizes). */
export const MAX_GROUPED_VARIABLES = 8;

/** Storage bindings one variable takes: w, g and the rule's slots. */
export const bindingsPerVariable = (kind: OptimizerKind): number => 2 + OPTIMIZER_UPDATES[kind].slots;

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
    // Element ends of the variables of a grouped dispatch: variable v is [ends[v-1], ends[v]).
    ["ends", "u32x8"],
  ],
  bindings: ({ kind, texture, count }) => {
    const slots = [...Array(OPTIMIZER_UPDATES[kind].slots).keys()];
    if (texture) {
      return [
        { name: "weights0", type: "vec4<f32>", access: "read_write" },
        ...slots.map((s) => ({ name: `slot${s}_0`, type: "vec4<f32>", access: "read_write" as const })),
        ...["weightsIn", "grads", ...slots.map((s) => `slotIn${s}`)].map((name) => ({
          name,
          type: "",
          access: "texture" as const,
        })),
      ];
    }
    return [...Array(count).keys()].flatMap((v) => [
      { name: `weights${v}`, type: "f32", access: "read_write" as const },
      ...slots.map((s) => ({ name: `slot${s}_${v}`, type: "f32", access: "read_write" as const })),
      { name: `grads${v}`, type: "f32", access: "read" as const },
    ]);
  },
  key: ({ kind, texture, count }) => `${kind}${texture ? "/texture" : count > 1 ? `/x${count}` : ""}`,
  source: ({ kind, texture, count }) => {
    const { slots, update } = OPTIMIZER_UPDATES[kind];
    const range = [...Array(slots).keys()];
    // The update of element j of variable v; `read(buffer, texture)` reads w, g or a slot at j.
    const body = (v: number, read: (buffer: string, copy: string) => string) => `
    let g = ${read(`grads${v}`, "grads")};
    var w = ${read(`weights${v}`, "weightsIn")};
${range.map((s) => `    var s${s} = ${read(`slot${s}_${v}`, `slotIn${s}`)};`).join("\n")}
    ${update}
    weights${v}[j] = w;
${range.map((s) => `    slot${s}_${v}[j] = s${s};`).join("\n")}`;
    if (texture) {
      return `
alias T = vec4<f32>;
${TEXEL}
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  // The 4 elements of texel j (lanes past n land in the buffer's padding).
  let j = linearIndex(gid, groups);
  if (j >= (params.n + 3u) / 4u) { return; }
  let p = params;
  {${body(0, (_, copy) => `texel(${copy}, j)`)}
  }
}`;
    }
    // Which variable element i falls in: a chain of ifs (only the taken one's loads and stores run).
    const branches = [...Array(count).keys()].map((v) =>
      `${v === 0 ? "" : " else "}if (i < at8(p.ends, ${v}u)) {
    let j = i${v === 0 ? "" : ` - at8(p.ends, ${v - 1}u)`};${body(v, (buffer) => `${buffer}[j]`)}
  }`
    );
    return `
alias T = f32;
${AT8}
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  let p = params;
  ${branches.join("")}
}`;
  },
};
