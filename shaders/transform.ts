/** Data movement: transpose (any permutation, rank <= 8), zero padding, oneHot, cast. Layouts are row-major. */
import type { Kernel } from "../src/gpu/kernel.ts";
import { AT8, LINEAR_INDEX, WG_1D } from "./_wgsl.ts";

/** out[coords] = x[coords permuted]: `inStrides` holds x's stride for each output dimension. */
export const transposeKernel: Kernel<{ dtype: "f32" | "i32" }> = {
  name: "transpose",
  uniforms: [["n", "u32"], ["rank", "u32"], ["outShape", "u32x8"], ["inStrides", "u32x8"]],
  bindings: ({ dtype }) => [
    { name: "x", type: dtype, access: "read" },
    { name: "out", type: dtype, access: "read_write" },
  ],
  key: ({ dtype }) => dtype,
  source: () => `
${LINEAR_INDEX}
${AT8}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  var src = 0u;
  var rest = i;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let dim = at8(params.outShape, u32(d));
    src += (rest % dim) * at8(params.inStrides, u32(d));
    rest = rest / dim;
  }
  out[i] = x[src];
}`,
};

/** out[n, c] = onValue if indices[n] == c else offValue; an index outside [0, depth) gives a row of offValue. */
export const oneHotKernel: Kernel<void> = {
  name: "one_hot",
  uniforms: [["n", "u32"], ["depth", "u32"], ["onValue", "f32"], ["offValue", "f32"]],
  bindings: () => [
    { name: "indices", type: "i32", access: "read" },
    { name: "out", type: "f32", access: "read_write" },
  ],
  source: () => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n * params.depth) { return; }
  let c = i32(i % params.depth);
  out[i] = select(params.offValue, params.onValue, indices[i / params.depth] == c);
}`,
};

/** Converts between float32 and int32 (float to int truncates toward zero). */
export const castKernel: Kernel<{ to: "f32" | "i32" }> = {
  name: "cast",
  uniforms: [["n", "u32"]],
  bindings: ({ to }) => [
    { name: "x", type: to === "f32" ? "i32" : "f32", access: "read" },
    { name: "out", type: to, access: "read_write" },
  ],
  key: ({ to }) => to,
  source: ({ to }) => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  out[i] = ${to}(x[i]);
}`,
};

/** out [batches, RP, LP] = x [batches, R, L] with zero rows and columns added after (R <= RP, L <= LP). */
export const padMatrixKernel: Kernel<void> = {
  name: "pad_matrix",
  uniforms: [["n", "u32"], ["R", "u32"], ["L", "u32"], ["RP", "u32"], ["LP", "u32"]],
  bindings: () => [
    { name: "x", type: "f32", access: "read" },
    { name: "out", type: "f32", access: "read_write" },
  ],
  source: () => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  let j = i % params.LP;
  let br = i / params.LP;
  let r = br % params.RP;
  let b = br / params.RP;
  let inside = r < params.R && j < params.L;
  out[i] = select(0.0, x[select(0u, (b * params.R + r) * params.L + j, inside)], inside);
}`,
};
