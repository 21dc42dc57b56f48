/**
 * Inverted dropout with a counter-based RNG: element i is kept when
 * hash(seed, i) >= threshold (= rate·2³²) and then scaled by 1/(1 - rate).
 * The mask is a pure function of (seed, i), so the backward pass recomputes
 * exactly the forward's mask instead of storing it. Layout: flat f32 arrays.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, WG_1D } from "./_wgsl.ts";

/**
 * WGSL: the PCG hash (Jarzynski & Olano, "Hash Functions for GPU Rendering",
 * JCGT 2020: one LCG step and an RXS-M-XS permutation), and a two-input hash
 * built from it. NOTE: hashing i before mixing in the seed makes streams of
 * different seeds unrelated, where pcg(i + seed) would only shift one stream.
 */
export const PCG_HASH = /* wgsl */ `
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn hash2(seed: u32, i: u32) -> u32 {
  return pcg(pcg(i) ^ pcg(seed));
}
`;

/** y[i] = x[i]·scale where hash(seed, i) >= threshold, else 0 (also dx from dy, same seed). */
export const dropoutKernel: Kernel<void> = {
  name: "dropout",
  uniforms: [["n", "u32"], ["seed", "u32"], ["threshold", "u32"], ["scale", "f32"]],
  bindings: () => [
    { name: "x", type: "f32", access: "read" },
    { name: "y", type: "f32", access: "read_write" },
  ],
  source: () => `
${LINEAR_INDEX}
${PCG_HASH}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  y[i] = select(0.0, x[i] * params.scale, hash2(params.seed, i) >= params.threshold);
}`,
};
