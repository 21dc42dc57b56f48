/**
 * A first conv layer and the max pool after it as one kernel each way, for
 * convs too small for a GEMM to pay (KH·KW·C ≤ 32: MNIST's 3x3x1, CIFAR's
 * 3x3x3) and pools whose windows tile the conv's output (2x2 stride 2):
 *
 *   forward:    z = conv(x, w) + bias at the PH·PW positions of each pool window;
 *               y = act(max z), arg = where the max was (first position on ties)
 *   filterGrad: g = act'(y)·dy; dW[khw, c, f] = Σ_p g[p, f] · x[pixel(p, arg[p, f], khw), c],
 *               dbias[f] = Σ_p g[p, f], over the pooled pixels p of slice s (partial sums
 *               per slice, added up after).
 *
 * act(max z) = max act(z) for a non-decreasing act; only linear and relu are
 * fused (src/ops/conv_pool.ts), for which the arg-max of z is also one of
 * act(z) wherever the gradient is not 0. The conv's output (4x the pooled
 * one) is never stored: on llvmpipe every stored float costs ~31 cycles,
 * which is what bounds a small conv, its pool and their backward passes
 * (bench/conv_variants.md).
 *
 * Layout: x [N,H,W,C], w [KH,KW,C,F] (HWIO), bias [F], y/dy [N,POH,POW,F],
 * arg [N,POH,POW,F/4]; F a multiple of 4 (4 filters per invocation, one
 * texel). x, w, bias, dy, y and arg are read from texture copies
 * (src/gpu/texture_pool.ts). arg holds, per pooled pixel and group of 4
 * filters, their 4 window positions a₀..a₃ as one f32 Σ aᵢ·Pⁱ (P = PH·PW ≤ 16:
 * exact below 2²⁴): a quarter of the stores of one arg-max per output.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, SCALAR_AT, TEXEL, WG_1D } from "./_wgsl.ts";
import { pixelWalk, WINDOW_UNIFORMS } from "./conv.ts";
import { activateFunction, activationGradFunction } from "./matmul.ts";

/**
 * The conv's and the pool's geometry, compile-time constants: the kernels unroll the window positions,
 * the filter taps and the input patch under one pool window (first layers are few shapes).
 */
export interface ConvPoolShape {
  /** The pool's window. */
  ph: number;
  pw: number;
  /** The filter's KH, KW, C and the conv's strides. */
  kh: number;
  kw: number;
  c: number;
  sh: number;
  sw: number;
  /** F / 4: groups of 4 filters. */
  f4: number;
  activation: "linear" | "relu";
}

export interface ConvPoolVariant extends ConvPoolShape {
  /** Also store the arg-max (for the filter gradient). */
  withArg: boolean;
}

/** Uniforms both kernels take: the conv's window, then the pool's output. */
const UNIFORMS = [
  ...WINDOW_UNIFORMS,
  ["POH", "u32"],
  ["POW", "u32"],
  ["total", "u32"],
] as const;

/** [from, to), or [0, from) given one bound. */
const range = (from: number, to?: number) =>
  to === undefined ? [...Array(from).keys()] : [...Array(Math.max(0, to - from)).keys()].map((i) => from + i);

/** WGSL: x at pixel (h, w) of image n, channel c; 0 outside the image. */
const X_AT = /* wgsl */ `
fn xAt(n: u32, h: i32, w: i32, c: u32) -> f32 {
  let ok = h >= 0 && h < i32(params.H) && w >= 0 && w < i32(params.W);
  let i = ((n * params.H + u32(max(h, 0))) * params.W + u32(max(w, 0))) * params.C + c;
  return select(0.0, scalarAt(xt, i), ok);
}`;

/** Window position a's (row, column) in the pool window. */
function position(v: ConvPoolShape, a: number): [number, number] {
  return [Math.floor(a / v.pw), a % v.pw];
}

/** Tap k's (kh, kw, c) in the filter: k = (kh·KW + kw)·C + c. */
function tap(v: ConvPoolShape, k: number): [number, number, number] {
  return [Math.floor(k / (v.c * v.kw)), Math.floor(k / v.c) % v.kw, k % v.c];
}

/** WGSL: the input patch under one pool window, x_r_q_c for pixel (h0 + r, w0 + q), loaded once. */
function patch(v: ConvPoolShape): string {
  const rows = (v.ph - 1) * v.sh + v.kh, cols = (v.pw - 1) * v.sw + v.kw;
  return range(rows).flatMap((r) =>
    range(cols).flatMap((q) =>
      range(v.c).map((c) => `let x_${r}_${q}_${c} = xAt(n, h0 + ${r}, w0 + ${q}, ${c}u);`)
    )
  ).join("\n    ");
}

/** WGSL name of the patch value that position a's window multiplies by tap k. */
function patchAt(v: ConvPoolShape, a: number, k: number): string {
  const [ay, ax] = position(v, a), [kh, kw, c] = tap(v, k);
  return `x_${ay * v.sh + kh}_${ax * v.sw + kw}_${c}`;
}

/** One invocation per pooled row (n, poh), walking its POW pixels: every filter of each. */
export const convPoolKernel: Kernel<ConvPoolVariant> = {
  name: "conv_pool",
  uniforms: [...UNIFORMS, ["hasBias", "u32"], ["alpha", "f32"]],
  bindings: ({ withArg }) => [
    { name: "xt", type: "", access: "texture" },
    { name: "wt", type: "", access: "texture" },
    { name: "bt", type: "", access: "texture" },
    { name: "y", type: "vec4<f32>", access: "read_write" },
    ...(withArg ? [{ name: "arg", type: "f32", access: "read_write" } as const] : []),
  ],
  source: (v) => {
    const P = v.ph * v.pw, taps = v.kh * v.kw * v.c;
    const group = (fg: number) => {
      const lines = range(P).map((a) =>
        `var z_${a} = select(vec4<f32>(0.0), texel(bt, ${fg}u), params.hasBias != 0u);`
      );
      for (const k of range(taps)) {
        lines.push(`w = texel(wt, ${k * v.f4 + fg}u);`);
        for (const a of range(P)) lines.push(`z_${a} = fma(vec4<f32>(${patchAt(v, a, k)}), w, z_${a});`);
      }
      // NOTE: strict > in row-major window order: on ties the first position wins (as maxPool).
      lines.push("best = z_0;", "at = vec4<f32>(0.0);");
      for (const a of range(1, P)) {
        lines.push(
          `better = z_${a} > best;`,
          `best = select(best, z_${a}, better);`,
          `at = select(at, vec4<f32>(${a}.0), better);`,
        );
      }
      lines.push(`y[o + ${fg}u] = activate4(best);`);
      if (v.withArg) {
        lines.push(`arg[o + ${fg}u] = dot(at, vec4<f32>(1.0, ${P}.0, ${P * P}.0, ${P ** 3}.0));`);
      }
      return `{\n      ${lines.join("\n      ")}\n    }`;
    };
    return `
${LINEAR_INDEX}
${TEXEL}
${SCALAR_AT}
${X_AT}
${activateFunction(v.activation)}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linearIndex(gid, groups); // (n, poh)
  if (row >= params.total) { return; }
  let poh = row % params.POH;
  let n = row / params.POH;
  // the input pixel under the pool window's first position's first tap
  let h0 = i32(poh * ${v.ph * v.sh}u) - i32(params.padT);
  var w0 = -i32(params.padL);
  var w: vec4<f32>;
  var best: vec4<f32>;
  var at: vec4<f32>;
  var better: vec4<bool>;
  for (var px = 0u; px < params.POW; px++) {
    ${patch(v)}
    let o = (row * params.POW + px) * ${v.f4}u;
    ${range(v.f4).map(group).join("\n    ")}
    w0 += ${v.pw * v.sw};
  }
}`;
  },
};

/**
 * Partial sums [S, KH·KW·C + 1, F] of dW (rows khw·C + c) and dbias (the last row):
 * one invocation per slice s of the pooled pixels and group of 4 filters.
 */
export const convPoolFilterGradKernel: Kernel<ConvPoolShape> = {
  name: "conv_pool_filter_grad",
  uniforms: [...UNIFORMS, ["rows", "u32"], ["share", "u32"], ["alpha", "f32"]],
  bindings: () => [
    { name: "xt", type: "", access: "texture" },
    { name: "dyt", type: "", access: "texture" },
    { name: "yt", type: "", access: "texture" },
    { name: "argt", type: "", access: "texture" },
    { name: "partial", type: "vec4<f32>", access: "read_write" },
  ],
  source: (v) => {
    const P = v.ph * v.pw, taps = range(v.kh * v.kw * v.c), filters = range(4);
    // filter i of the group picked position a_i; its tap k multiplies the patch value chosen by a_i
    const decode = filters.map((i) => `let a_${i} = (code / ${P ** i}u) % ${P}u;`);
    const fmas = taps.map((k) => {
      const xs = filters.map((i) =>
        range(1, P).reduce((x, a) => `select(${x}, ${patchAt(v, a, k)}, a_${i} == ${a}u)`, patchAt(v, 0, k))
      );
      return `acc_${k} = fma(vec4<f32>(${xs.join(", ")}), g, acc_${k});`;
    });
    const walk = pixelWalk("r0", ["n", "poh", "px"], ["params.POH", "params.POW"]);
    const stores = [...taps, taps.length].map((k) =>
      `partial[base + ${k * v.f4}u] = ${k === taps.length ? "accBias" : `acc_${k}`};`
    );
    return `
${LINEAR_INDEX}
${TEXEL}
${SCALAR_AT}
${X_AT}
${v.activation === "linear" ? "" : activationGradFunction(v.activation)}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = linearIndex(gid, groups);
  if (idx >= params.total) { return; }
  let fg = idx % ${v.f4}u;
  let s = idx / ${v.f4}u;
  let r0 = min(s * params.share, params.rows);
  let r1 = min(r0 + params.share, params.rows);
  ${taps.map((k) => `var acc_${k} = vec4<f32>(0.0);`).join(" ")}
  var accBias = vec4<f32>(0.0);
  // (n, poh, px) of r0, then carried along: no division per row
  ${walk.start}
  for (var r = r0; r < r1; r++) {
    let o = r * ${v.f4}u + fg;
    ${
      v.activation === "linear"
        ? "let g = texel(dyt, o);"
        : "let g = activationGrad4(texel(dyt, o), texel(yt, o));"
    }
    let code = u32(scalarAt(argt, o));
    ${decode.join("\n    ")}
    let h0 = i32(poh * ${v.ph * v.sh}u) - i32(params.padT);
    let w0 = i32(px * ${v.pw * v.sw}u) - i32(params.padL);
    ${patch(v)}
    accBias += g;
    ${fmas.join("\n    ")}
    ${walk.next}
  }
  let base = s * ${(taps.length + 1) * v.f4}u + fg;
  ${stores.join("\n  ")}
}`;
  },
};
