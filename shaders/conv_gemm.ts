/**
 * Implicit-GEMM convolution: the GEMM loads its input rows straight from the
 * image (no column matrix), and reads the filter from uniform buffers.
 *
 *   out[r, o] = act(Σ_{khw, i} in[pixel(r, khw), i] · w[khw, i, o] + bias[o])
 *
 * forward (conv2d):      r = output pixel (n, oh, ow), in = x [N,H,W,C], i = c, o = f,
 *                        pixel = (n, oh·SH + kh - padT, ow·SW + kw - padL) when inside the image;
 * transposed (dx):       r = input pixel (n, h, w), in = dz [N,OH,OW,F], i = f, o = c,
 *                        pixel = (n, (h + padT - kh)/SH, (w + padL - kw)/SW) when whole and inside.
 * khw = kh·KW + kw; CIN/COUT the in/out channels (C/F forward, F/C transposed).
 *
 * Why uniforms: on llvmpipe (GL) a storage load costs ~10 ns per float per
 * invocation, a uniform load ~0.7 ns (bench/conv_variants.md). So the filter,
 * reused by every row, sits in up to UBOS 64 KiB uniform blocks ("packed":
 * block b holds khw in [b·KB, (b+1)·KB) as [khw][i][o'], o' over a chunk of OC
 * output columns), and each invocation keeps TM rows × OC columns in
 * registers, loading each input value once for OC multiply-adds. Where whole
 * images of the input fit 64 KiB ("band"), the input too is read through
 * uniform windows, one dispatch per few windows.
 * No workgroup memory, no barriers.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { UNARY, type UnaryOp } from "./elementwise.ts";
import type { FusedActivation } from "./matmul.ts";
import { WINDOW_UNIFORMS } from "./conv.ts";

/** vec4s in one packed uniform block (64 KiB, the WebGPU default maxUniformBufferBindingSize). */
export const BLOCK_VEC4 = 4096;

export interface ConvGemmVariant {
  transposed: boolean;
  /** COUT % 4 == 0: outputs stored as vec4. */
  vecOut: boolean;
  /** Output columns per invocation (the packed chunk width), a multiple of 4. */
  oc: number;
  /** Rows per invocation. */
  tm: number;
  /** Uniform blocks bound (the filter's khw range split over them). */
  ubos: number;
  bias: boolean;
  activation: FusedActivation;
  /**
   * 0: the source from storage. n > 0: the source through n uniform windows of
   * ipw whole images each, images n0..: the dispatch covers only their rows
   * (several dispatches, ~14x cheaper loads).
   */
  band: number;
}

/** Invocations per workgroup: one SIMD group for the small banded dispatches, so they still spread over cores. */
export function convWorkgroup(v: ConvGemmVariant): number {
  return v.band > 0 ? 8 : 64;
}

const range = (n: number) => [...Array(n).keys()];

/** WGSL: for row i, `base_i` (index of in[pixel, 0] in floats) and `ok_i` (the pixel exists). */
function gather(v: ConvGemmVariant, i: number): string {
  return v.transposed
    ? `
      let th_${i} = i32(a_${i} + params.padT) - i32(kh);
      let tw_${i} = i32(b_${i} + params.padL) - i32(kw);
      let oh_${i} = u32(max(th_${i}, 0)) / params.SH;
      let ow_${i} = u32(max(tw_${i}, 0)) / params.SW;
      let ok_${i} = rowOk_${i} && th_${i} >= 0 && tw_${i} >= 0 && oh_${i} * params.SH == u32(th_${i}) &&
        ow_${i} * params.SW == u32(tw_${i}) && oh_${i} < params.OH && ow_${i} < params.OW;
      let base_${i} = select(0u, ((m_${i} * params.OH + oh_${i}) * params.OW + ow_${i}) * params.CIN, ok_${i});`
    : `
      let h_${i} = i32(a_${i} * params.SH + kh) - i32(params.padT);
      let w_${i} = i32(b_${i} * params.SW + kw) - i32(params.padL);
      let ok_${i} = rowOk_${i} && h_${i} >= 0 && h_${i} < i32(params.H) && w_${i} >= 0 && w_${i} < i32(params.W);
      let base_${i} = select(0u, ((m_${i} * params.H + u32(h_${i})) * params.W + u32(w_${i})) * params.CIN, ok_${i});`;
}

/** WGSL: the khw loop over uniform block `blk`. */
function blockLoop(v: ConvGemmVariant, blk: number): string {
  const cols = v.oc / 4;
  const inner: string[] = [];
  // NOTE: scalar loads: on llvmpipe a load costs the same per float as part of a vec4,
  // and a channel at a time keeps the unrolled body (and the compile time) 4x smaller.
  // band: the row's image is in window win_i; reading every window and selecting costs
  // `band` uniform loads per input value, each used for OC multiply-adds.
  const load = (i: number, e: string) => {
    if (v.band === 0) return `src[${e}]`;
    const at = (b: number) => `src${b}[(${e}) / 4u][(${e}) % 4u]`;
    let expr = at(0);
    for (const b of range(v.band).slice(1)) expr = `select(${expr}, ${at(b)}, win_${i} == ${b}u)`;
    return expr;
  };
  for (const i of range(v.tm)) inner.push(`let x_${i} = select(0.0, ${load(i, `base_${i} + c`)}, ok_${i});`);
  for (const j of range(cols)) {
    inner.push(`let w_${j} = w${blk}[wRow + ${j}u];`);
    for (const i of range(v.tm)) inner.push(`acc_${i}_${j} = fma(vec4<f32>(x_${i}), w_${j}, acc_${i}_${j});`);
  }
  return `
  for (var khw = ${blk}u * params.KB; khw < min(${blk + 1}u * params.KB, params.KH * params.KW); khw++) {
    let kh = khw / params.KW;
    let kw = khw % params.KW;
    ${range(v.tm).map((i) => gather(v, i)).join("")}
    for (var c = 0u; c < params.CIN; c++) {
      let wRow = ((khw - ${blk}u * params.KB) * params.CIN + c) * ${cols}u;
      ${inner.join("\n      ")}
    }
  }`;
}

function epilogue(v: ConvGemmVariant): string {
  const lines: string[] = [];
  for (const i of range(v.tm)) {
    lines.push(`if (rowOk_${i}) {`);
    for (const j of range(v.oc / 4)) {
      lines.push(`  store(r_${i}, params.col0 + ${4 * j}u, acc_${i}_${j});`);
    }
    lines.push("}");
  }
  return lines.join("\n  ");
}

export const convGemmKernel: Kernel<ConvGemmVariant> = {
  name: "conv_gemm",
  uniforms: [
    ["row0", "u32"],
    ["rowEnd", "u32"],
    ["n0", "u32"],
    ["ipw", "u32"],
    ...WINDOW_UNIFORMS,
    ["CIN", "u32"],
    ["COUT", "u32"],
    ["col0", "u32"],
    ["KB", "u32"],
    ["alpha", "f32"],
  ],
  bindings: (v) => [
    ...(v.band > 0
      ? range(v.band).map((b) =>
        ({ name: `src${b}`, type: "vec4<f32>", access: "uniform", length: BLOCK_VEC4 }) as const
      )
      : [{ name: "src", type: "f32", access: "read" } as const]),
    ...range(v.ubos).map((b) =>
      ({ name: `w${b}`, type: "vec4<f32>", access: "uniform", length: BLOCK_VEC4 }) as const
    ),
    // the bias of this chunk's columns, packed after the filter blocks (a 256-byte window)
    ...(v.bias ? [{ name: "bias", type: "vec4<f32>", access: "uniform", length: 16 } as const] : []),
    { name: "out", type: v.vecOut ? "vec4<f32>" : "f32", access: "read_write" },
  ],
  source: (v) => {
    const act = v.activation === "linear" ? "x" : UNARY[v.activation as UnaryOp].forward;

    // row r = (n, a, b): (n, oh, ow) forward, (n, h, w) transposed
    const [A, B] = v.transposed ? ["H", "W"] : ["OH", "OW"];
    const wg = convWorkgroup(v);
    return `
fn activate(x: f32) -> f32 {
  let alpha = params.alpha;
  _ = alpha;
  return ${act};
}

// out[r, col..col+3] = act(acc + bias) for the columns inside COUT.
fn store(r: u32, col: u32, acc: vec4<f32>) {
  var v = acc${v.bias ? " + bias[(col - params.col0) / 4u]" : ""};
  for (var e = 0u; e < 4u; e++) { v[e] = activate(v[e]); }
  ${
      v.vecOut
        ? "if (col < params.COUT) { out[(r * params.COUT + col) / 4u] = v; }"
        : "for (var e = 0u; e < 4u; e++) { if (col + e < params.COUT) { out[r * params.COUT + col + e] = v[e]; } }"
    }
}

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = params.row0 + (wid.x + wid.y * groups.x) * ${wg * v.tm}u + lid;
  ${
      range(v.tm).map((i) =>
        `let r_${i} = first + ${i * wg}u;
  let rowOk_${i} = r_${i} < params.rowEnd;
  let b_${i} = r_${i} % params.${B};
  let a_${i} = (r_${i} / params.${B}) % params.${A};
  let n_${i} = r_${i} / (params.${B} * params.${A});
  let win_${i} = (n_${i} - params.n0) / params.ipw; // band: the source window holding the image
  let m_${i} = (n_${i} - params.n0) % params.ipw; // the image within that window (or within src)`
      ).join("\n  ")
    }
  ${
      range(v.tm).flatMap((i) => range(v.oc / 4).map((j) => `var acc_${i}_${j} = vec4<f32>(0.0);`)).join(
        "\n  ",
      )
    }
${range(v.ubos).map((b) => blockLoop(v, b)).join("\n")}
  ${epilogue(v)}
}`;
  },
};

/**
 * Packs a HWIO filter [KH,KW,C,F] into uniform blocks: block (chunk j, ubo b)
 * starts at float (j·UBOS + b)·4·BLOCK_VEC4 and holds w[khw][i][o'] for khw in
 * [b·KB, (b+1)·KB), o = j·OC + o' (zero past COUT), i.e. [khw][c][f] forward
 * and [khw][f][c] transposed. With a bias, 64 floats per chunk follow the
 * blocks: bias[j·OC + o'] (zero past COUT).
 */
export const packFilterKernel: Kernel<{ transposed: boolean; bias: boolean }> = {
  name: "pack_filter",
  uniforms: [["total", "u32"], ["KHW", "u32"], ["C", "u32"], ["F", "u32"], ["OC", "u32"], ["KB", "u32"], [
    "ubos",
    "u32",
  ], ["blocks", "u32"]],
  bindings: ({ bias }) => [
    { name: "w", type: "f32", access: "read" },
    ...(bias ? [{ name: "bias", type: "f32", access: "read" } as const] : []),
    { name: "packed", type: "f32", access: "read_write" },
  ],
  source: ({ transposed, bias }) => `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 64u;
  if (e >= params.total) { return; }
  let blockFloats = params.blocks * ${4 * BLOCK_VEC4}u;
  if (e >= blockFloats) {
    ${
    bias
      ? `let o = ((e - blockFloats) / 64u) * params.OC + (e - blockFloats) % 64u;
    let ok = (e - blockFloats) % 64u < params.OC && o < params.F;
    packed[e] = select(0.0, bias[min(o, params.F - 1u)], ok);`
      : ""
  }
    return;
  }
  let blockSize = ${4 * BLOCK_VEC4}u;
  let block = e / blockSize;
  let local = e % blockSize;
  let CIN = ${transposed ? "params.F" : "params.C"};
  let COUT = ${transposed ? "params.C" : "params.F"};
  let khw = (block % params.ubos) * params.KB + local / (CIN * params.OC);
  let i = (local / params.OC) % CIN;
  let o = (block / params.ubos) * params.OC + local % params.OC;
  let inBlock = local < params.KB * CIN * params.OC;
  let ok = inBlock && khw < params.KHW && o < COUT;
  let c = ${transposed ? "o" : "i"};
  let f = ${transposed ? "i" : "o"};
  packed[e] = select(0.0, w[min((khw * params.C + c) * params.F + f, params.KHW * params.C * params.F - 1u)], ok);
}`,
};
