/**
 * The one import of wgsl-preprocessor (`#if ${cond}` / `#else` / `#endif` in
 * template literals), and WGSL snippets several kernels share.
 */
// @ts-types="./_wgsl_preprocessor.d.ts"
import { wgsl } from "npm:wgsl-preprocessor@1.0.1/wgsl-preprocessor.js";

import { TEXTURE_LINE } from "../src/gpu/texture_pool.ts";

export { wgsl };

/** WGSL: `texel(t, i)`, texel i of a tensor copied into a texture (layout: src/gpu/texture_pool.ts). */
export const TEXEL = /* wgsl */ `
fn texel(t: texture_2d<f32>, i: u32) -> vec4<f32> {
  return textureLoad(t, vec2<u32>(i & ${TEXTURE_LINE - 1}u, i >> ${Math.log2(TEXTURE_LINE)}u), 0);
}
`;

/** WGSL: `scalarAt(t, i)`, float i of a tensor copied into a texture (needs TEXEL). */
export const SCALAR_AT = /* wgsl */ `
fn scalarAt(t: texture_2d<f32>, i: u32) -> f32 {
  return texel(t, i >> 2u)[i & 3u];
}
`;

/** Threads per workgroup of the 1-D (elementwise) kernels. */
export const WG_1D = 64;

/**
 * Workgroup counts for `n` invocations of `perGroup` threads: x up to 65535,
 * spilling into y (kernels rebuild the linear index with `linearIndex`).
 */
export function grid1D(n: number, perGroup = WG_1D): [number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/** WGSL: the linear invocation index of a `grid1D` dispatch. */
export const LINEAR_INDEX = /* wgsl */ `
fn linearIndex(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * ${WG_1D}u;
}
`;

/** WGSL: element `i` of a u32x8 uniform (shapes, strides). */
export const AT8 = /* wgsl */ `
fn at8(v: array<vec4<u32>, 2>, i: u32) -> u32 {
  return v[i / 4u][i % 4u];
}
`;
