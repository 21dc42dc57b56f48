/**
 * conv2d's filter and bias gradients as one implicit GEMM over the output pixels:
 *
 *   dW[khw, c, f] = Σ_m x[pixel(m, khw), c] · dz[m, f]      (khw = kh·KW + kw < KHW)
 *   dbias[f]      = Σ_m dz[m, f]                           (the extra block khw = KHW, c = 0, x ≡ 1)
 *   dz = act'(y)·dy, from y when `activation` (its derivative needs y alone), else dz = dy
 *
 * Legend: x [N,H,W,C], dy/y [M = N·OH·OW, F], m = (n, oh, ow), pixel(m, khw) =
 * (n, oh·SH + kh - padT, ow·SW + kw - padL) (zero outside the image).
 * dy and y are read through uniform windows of R rows ([R, F], R·F ≤ 16384
 * floats): on llvmpipe a uniform load is ~14x cheaper than a storage load
 * (bench/conv_variants.md). A dispatch binds UBOS consecutive windows; its
 * invocations are (khw, channel block of TC, split s of S), each summing its
 * share of every window's rows into TC × F registers, written as one slice
 * of partial sums [slices, KHW + 1, C, F] that a reduction adds up.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { activationGradFunction, type FusedActivation } from "./matmul.ts";
import { pixelWalk, WINDOW_FLOATS, WINDOW_UNIFORMS } from "./conv.ts";

/** Invocations per workgroup: one llvmpipe SIMD group. */
export const FILTER_GRAD_WG = 8;

export interface FilterGradVariant {
  /** Kernel positions (khw, the bias block counting as one) per invocation. */
  tk: number;
  /** Channels per invocation. */
  tc: number;
  /** F / 4: vec4 columns per row (F ≤ 64). */
  fc: number;
  /** Windows bound per dispatch. */
  ubos: number;
  activation: FusedActivation;
  /** x read through one uniform window of whole images n0.. (and dy, y through one window of their rows). */
  band: boolean;
}

const range = (n: number) => [...Array(n).keys()];

/** WGSL: the rows of window `b` this invocation sums: dz row once, then TK × TC × F multiply-adds. */
function windowLoop(v: FilterGradVariant, b: number): string {
  const walk = pixelWalk("r0", ["n", "oh", "ow"], ["params.OH", "params.OW"]);
  const lines: string[] = [];
  for (const j of range(v.fc)) {
    const at = `(r - lo) * ${v.fc}u + ${j}u`;
    lines.push(
      v.activation === "linear"
        ? `let d_${j} = dy${b}[${at}];`
        : `let d_${j} = activationGrad4(dy${b}[${at}], y${b}[${at}]);`,
    );
  }
  for (const k of range(v.tk)) {
    lines.push(`{
        let h = i32(oh * params.SH + kh_${k}) - i32(params.padT);
        let w = i32(ow * params.SW + kw_${k}) - i32(params.padL);
        let ok = h >= 0 && h < i32(params.H) && w >= 0 && w < i32(params.W);
        let base = select(0u, (((n - params.n0) * params.H + u32(h)) * params.W + u32(w)) * params.C + c0, ok);`);
    for (const t of range(v.tc)) {
      const e = `min(base + ${t}u, params.xLast)`;
      const load = v.band ? `x[${e} / 4u][${e} % 4u]` : `x[${e}]`;
      const one = t === 0 ? "select(0.0, 1.0, c0 == 0u)" : "0.0";
      lines.push(
        `  let x_${t} = select(select(0.0, ${load}, ok && c0 + ${t}u < params.C), ${one}, bias_${k});`,
      );
      for (const j of range(v.fc)) {
        lines.push(`  acc_${k}_${t}_${j} = fma(vec4<f32>(x_${t}), d_${j}, acc_${k}_${t}_${j});`);
      }
    }
    lines.push("}");
  }
  return `
  {
    let lo = params.row0 + ${b}u * params.R;
    let hi = min(lo + params.R, params.rowEnd);
    let share = (params.R + params.S - 1u) / params.S;
    let r0 = min(lo + s * share, hi);
    let r1 = min(r0 + share, hi);
    // (n, oh, ow) of r0, then carried along: no division per row
    ${walk.start}
    for (var r = r0; r < r1; r++) {
      ${lines.join("\n      ")}
      ${walk.next}
    }
  }`;
}

export const filterGradKernel: Kernel<FilterGradVariant> = {
  name: "conv_filter_grad",
  uniforms: [
    ...WINDOW_UNIFORMS,
    ["rowEnd", "u32"],
    ["n0", "u32"],
    ["F", "u32"],
    ["R", "u32"],
    ["row0", "u32"],
    ["S", "u32"],
    ["slice0", "u32"],
    ["xLast", "u32"],
    ["alpha", "f32"],
  ],
  bindings: (v) => [
    v.band
      ? { name: "x", type: "vec4<f32>", access: "uniform", length: WINDOW_FLOATS / 4 } as const
      : { name: "x", type: "f32", access: "read" } as const,
    ...range(v.ubos).flatMap((b) => [
      { name: `dy${b}`, type: "vec4<f32>", access: "uniform", length: WINDOW_FLOATS / 4 } as const,
      ...(v.activation === "linear"
        ? []
        : [{ name: `y${b}`, type: "vec4<f32>", access: "uniform", length: WINDOW_FLOATS / 4 } as const]),
    ]),
    { name: "partial", type: "vec4<f32>", access: "read_write" },
  ],
  source: (v) => {
    return `
${v.activation === "linear" ? "" : activationGradFunction(v.activation)}

@compute @workgroup_size(${FILTER_GRAD_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let KHW = params.KH * params.KW;
  let kBlocks = (KHW + ${v.tk}u) / ${v.tk}u; // KHW + 1 positions, the last being the bias
  let cBlocks = (params.C + ${v.tc - 1}u) / ${v.tc}u;
  let id = gid.x;
  if (id >= kBlocks * cBlocks * params.S) { return; }
  let k0 = (id % kBlocks) * ${v.tk}u;
  let c0 = ((id / kBlocks) % cBlocks) * ${v.tc}u;
  let s = id / (kBlocks * cBlocks);
  ${
      range(v.tk).map((k) =>
        `let khw_${k} = min(k0 + ${k}u, KHW);
  let bias_${k} = khw_${k} == KHW; // one channel block (c0 = 0) sums dz for the bias
  let kh_${k} = select(khw_${k} / params.KW, 0u, bias_${k});
  let kw_${k} = select(khw_${k} % params.KW, 0u, bias_${k});`
      ).join("\n  ")
    }
  ${
      range(v.tk).flatMap((k) =>
        range(v.tc).flatMap((t) => range(v.fc).map((j) => `var acc_${k}_${t}_${j} = vec4<f32>(0.0);`))
      )
        .join("\n  ")
    }
${range(v.ubos).map((b) => windowLoop(v, b)).join("\n")}
  let slice = params.slice0 + s;
  ${
      range(v.tk).flatMap((k) =>
        range(v.tc).map((t) =>
          `if (k0 + ${k}u <= KHW && c0 + ${t}u < params.C) {
    let at = ((slice * (KHW + 1u) + khw_${k}) * params.C + c0 + ${t}u) * ${v.fc}u;
    ${range(v.fc).map((j) => `partial[at + ${j}u] = acc_${k}_${t}_${j};`).join(" ")}
  }`
        )
      ).join("\n  ")
    }
}`;
  },
};
