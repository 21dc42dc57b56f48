/**
 * Convolution as im2col + GEMM: the kernels that move data between an NHWC
 * image and its column matrix (the GEMM itself is shaders/matmul.ts).
 *
 * Legend: N batch, H×W input, C channels, KH×KW filter (HWIO), SH/SW strides,
 * OH×OW output, padT/padL zero rows/columns before the input.
 * The column matrix is [M, Kp] row-major: M = N·OH·OW rows (one per output
 * pixel, m = (n·OH + oh)·OW + ow), K = KH·KW·C columns (k = (kh·KW + kw)·C + c),
 * and Kp >= K the row stride: K rounded up to a multiple of 4 so the GEMM
 * reads rows as vec4; columns K..Kp-1 hold zeros.
 *
 * Every kernel is one invocation per output element, or per 4 channels
 * (`vec`: vec4 loads and stores) when C % 4 == 0. No workgroup memory: on
 * llvmpipe it costs more than it saves (PLATFORM.md).
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, WG_1D } from "./_wgsl.ts";

/** The window geometry every conv and pool kernel takes as uniforms (see src/ops/_window.ts). */
export const WINDOW_UNIFORMS = [
  ["H", "u32"],
  ["W", "u32"],
  ["C", "u32"],
  ["KH", "u32"],
  ["KW", "u32"],
  ["SH", "u32"],
  ["SW", "u32"],
  ["OH", "u32"],
  ["OW", "u32"],
  ["padT", "u32"],
  ["padL", "u32"],
] as const;

/**
 * Floats in one uniform window (64 KiB, WebGPU's default maxUniformBufferBindingSize).
 * The conv and pool kernels read big operands through such windows where they can:
 * on llvmpipe a uniform load costs ~1/14 of a storage load (bench/conv_variants.md).
 */
export const WINDOW_FLOATS = 16384;

/**
 * WGSL for walking the pixels (n, oh, ow) of [N, OH, OW] from flat index `first` without a division per
 * pixel: `start` declares the three counters at `first`, `next` steps them to the following pixel.
 * [n, oh, ow] and [OH, OW] name the counters and the bounds (e.g. params.OH).
 */
export function pixelWalk(first: string, [n, oh, ow]: readonly string[], [OH, OW]: readonly string[]) {
  return {
    start: `var ${ow} = ${first} % ${OW};
  var ${oh} = (${first} / ${OW}) % ${OH};
  var ${n} = ${first} / (${OW} * ${OH});`,
    next: `${ow} += 1u;
    if (${ow} == ${OW}) {
      ${ow} = 0u;
      ${oh} += 1u;
      if (${oh} == ${OH}) {
        ${oh} = 0u;
        ${n} += 1u;
      }
    }`,
  };
}

/** `vec`: each invocation handles 4 consecutive channels (requires C % 4 == 0). */
export interface ConvVariant {
  vec: boolean;
}

const elem = (vec: boolean) => (vec ? "vec4<f32>" : "f32");
const lanes = (vec: boolean) => (vec ? 4 : 1);

/** cols[m, k] = x[n, oh·SH + kh - padT, ow·SW + kw - padL, c]; 0 in the padding and for k >= K. */
export const im2colKernel: Kernel<ConvVariant> = {
  name: "im2col",
  uniforms: [["total", "u32"], ...WINDOW_UNIFORMS, ["K", "u32"], ["Kp", "u32"]],
  bindings: ({ vec }) => [
    { name: "x", type: elem(vec), access: "read" },
    { name: "cols", type: elem(vec), access: "read_write" },
  ],
  source: ({ vec }) => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups); // index into cols, in units of ${lanes(vec)} floats
  if (i >= params.total) { return; }
  let rowLen = params.Kp / ${lanes(vec)}u;
  let m = i / rowLen;
  let k = (i % rowLen) * ${lanes(vec)}u;
  var v = ${elem(vec)}(0.0);
  if (k < params.K) {
    let c = k % params.C;
    let khw = k / params.C;
    let ow = m % params.OW;
    let noh = m / params.OW;
    let h = i32((noh % params.OH) * params.SH + khw / params.KW) - i32(params.padT);
    let w = i32(ow * params.SW + khw % params.KW) - i32(params.padL);
    if (h >= 0 && h < i32(params.H) && w >= 0 && w < i32(params.W)) {
      let n = noh / params.OH;
      v = x[(((n * params.H + u32(h)) * params.W + u32(w)) * params.C + c) / ${lanes(vec)}u];
    }
  }
  cols[i] = v;
}`,
};

/**
 * col2im, the adjoint of im2col: dx[n, h, w, c] = Σ dcols[m, k] over the
 * (kh, kw) whose window position (oh, ow) = ((h + padT - kh)/SH, (w + padL - kw)/SW)
 * is a whole output pixel. A gather (no atomics): each dx element sums its own terms.
 */
export const col2imKernel: Kernel<ConvVariant> = {
  name: "col2im",
  uniforms: [["total", "u32"], ...WINDOW_UNIFORMS, ["Kp", "u32"]],
  bindings: ({ vec }) => [
    { name: "dcols", type: elem(vec), access: "read" },
    { name: "dx", type: elem(vec), access: "read_write" },
  ],
  source: ({ vec }) => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups); // index into dx, in units of ${lanes(vec)} floats
  if (i >= params.total) { return; }
  let L = ${lanes(vec)}u;
  let cl = i % (params.C / L);
  let nhw = i / (params.C / L);
  let w = nhw % params.W;
  let h = (nhw / params.W) % params.H;
  let n = nhw / (params.W * params.H);
  var acc = ${elem(vec)}(0.0);
  for (var kh = 0u; kh < params.KH; kh++) {
    let th = i32(h + params.padT) - i32(kh);
    if (th < 0) { break; } // th only decreases with kh
    let oh = u32(th) / params.SH;
    if (u32(th) % params.SH != 0u || oh >= params.OH) { continue; }
    for (var kw = 0u; kw < params.KW; kw++) {
      let tw = i32(w + params.padL) - i32(kw);
      if (tw < 0) { break; }
      let ow = u32(tw) / params.SW;
      if (u32(tw) % params.SW != 0u || ow >= params.OW) { continue; }
      let m = (n * params.OH + oh) * params.OW + ow;
      acc += dcols[(m * params.Kp + (kh * params.KW + kw) * params.C) / L + cl];
    }
  }
  dx[i] = acc;
}`,
};
