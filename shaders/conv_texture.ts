/**
 * Convolution as a GEMM whose operands are read from textures (the layout of
 * src/gpu/texture_pool.ts), with the image gathered in place: no column
 * matrix, no uniform windows. The tiling is the texture GEMM's (TM x TN
 * outputs per invocation, 8-wide workgroups, shaders/matmul.ts); only where
 * a row's operand texel lives differs:
 *
 *   forward:    y[m, f]   = act(Σ_{khw, c} x[pixel(m, khw), c] · w[khw, c, f] + bias[f])
 *               rows m = (n, oh, ow), a texel = 4 channels of x at one pixel, 4 k's.
 *   inputGrad:  dx[p, c]  = Σ_{khw, f} dz[opixel(p, khw), f] · w[khw, c, f]
 *               rows p = (n, h, w), a texel = 4 filters of dz, 4 k's; w read as [c][f] per khw.
 *   filterGrad: dW[khw·C + c, f] = Σ_m x[pixel(m, khw), c] · dz[m, f], over the m's of slice z
 *               (partial sums per slice, added up after): a texel of x = 4 rows (channels) at one m;
 *               4 more rows, the first of them dbias[f] = Σ_m dz[m, f].
 *
 * x [N,H,W,C], w [KH,KW,C,F] (HWIO), dz [N,OH,OW,F]; F a multiple of 4. C a
 * multiple of 4 too, so that a texel never straddles a pixel, except for
 * `scalarC` (forward, filterGrad: x read one float at a time) and inputGrad
 * (its operands are dz and w; columns past C are computed, never stored).
 * Pixels outside the image (padding, or a position no output reaches) contribute 0.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { pixelWalk, WINDOW_UNIFORMS } from "./conv.ts";
import { SCALAR_AT } from "./_wgsl.ts";
import {
  activationGradFunction,
  EPILOGUE_UNIFORMS,
  epilogueBindings,
  type FusedActivation,
  textureGemmMain,
} from "./matmul.ts";

export type ConvTextureMode = "forward" | "inputGrad" | "filterGrad";

export interface ConvTextureVariant {
  mode: ConvTextureMode;
  activation: FusedActivation;
  /** Outputs per invocation: rows (a multiple of 4) and columns (8, 16 or 32). */
  tm: number;
  tn: number;
  /** Both strides 1: inputGrad needs no division to find the output pixel. */
  unitStride: boolean;
  /**
   * No padding ("valid"): every window lies inside the image, so filterGrad finds a row's
   * texel as the output pixel's plus a constant per row, with no bounds test.
   */
  inside?: boolean;
  /**
   * forward, filterGrad: C is not a multiple of 4 (a first layer: 1 or 3 channels), so x is read one
   * float at a time, a k per read instead of 4.
   */
  scalarC?: boolean;
  /** The output's columns (N) are a multiple of 4: stored a vec4 at a time (shaders/matmul.ts epilogue). */
  vecOut?: boolean;
  /** filterGrad: dz = act'(y)·dy formed on the fly from dy (wt) and y (a third texture, yt). */
  gradOf?: Exclude<FusedActivation, "linear">;
}

const range = (n: number) => [...Array(n).keys()];

/** WGSL: the FMAs of one k (kk of a quad) into the TM x TN accumulators. */
function fmas(tm: number, tn: number, a: (i: number) => string, b: (c: number) => string): string[] {
  return range(tm).flatMap((i) =>
    range(tn / 4).map((c) => `acc_${i}_${c} = fma(vec4<f32>(${a(i)}), ${b(c)}, acc_${i}_${c});`)
  );
}

/** forward: per kernel position, each row's pixel; then 4 channels per texel (scalarC: 1 per float). */
function forwardBody({ tm, tn, scalarC }: ConvTextureVariant): string {
  const perRow = range(tm).map((i) => `
    let m_${i} = min(row + ${i}u, params.M - 1u);
    let ow_${i} = m_${i} % params.OW;
    let noh_${i} = m_${i} / params.OW;
    let hb_${i} = i32((noh_${i} % params.OH) * params.SH) - i32(params.padT);
    let wb_${i} = i32(ow_${i} * params.SW) - i32(params.padL);
    let n_${i} = noh_${i} / params.OH;`).join("");
  const atPosition = range(tm).map((i) => `
      let h_${i} = hb_${i} + i32(kh);
      let w_${i} = wb_${i} + i32(kw);
      let ok_${i} = h_${i} >= 0 && h_${i} < i32(params.H) && w_${i} >= 0 && w_${i} < i32(params.W);
      let base_${i} = ((n_${i} * params.H + u32(max(h_${i}, 0))) * params.W + u32(max(w_${i}, 0))) * cs;`)
    .join("");
  const quad = scalarC
    ? [
      ...range(tm).map((i) => `let a_${i} = select(0.0, scalarAt(src, base_${i} + q), ok_${i});`),
      ...range(tn / 4).map((c) => `let b_${c} = texel(wt, wb + ${c}u);`),
      ...fmas(tm, tn, (i) => `a_${i}`, (c) => `b_${c}`),
    ]
    : [
      ...range(tm).map((i) => `let a_${i} = select(vec4<f32>(0.0), texel(src, base_${i} + q), ok_${i});`),
      ...range(4).flatMap((kk) =>
        range(tn / 4).map((c) => `let b_${kk}_${c} = texel(wt, wb + ${kk}u * f4 + ${c}u);`)
      ),
      ...range(4).flatMap((kk) => fmas(tm, tn, (i) => `a_${i}[${kk}]`, (c) => `b_${kk}_${c}`)),
    ];
  const L = scalarC ? 1 : 4;
  return `
  let cs = params.C / ${L}u; // reads per pixel: texels, or floats (scalarC)
  let f4 = params.F / 4u;${perRow}
  for (var kh = 0u; kh < params.KH; kh++) {
    for (var kw = 0u; kw < params.KW; kw++) {${atPosition}
      // w[kh, kw, ${scalarC ? "q" : "4q + kk"}, col ..]
      var wb = ((kh * params.KW + kw) * params.C) * f4 + col / 4u;
      for (var q = 0u; q < cs; q++) {
        ${quad.join("\n        ")}
        wb += ${L}u * f4;
      }
    }
  }`;
}

/** inputGrad: per kernel position, the output pixel each row's input pixel feeds; 4 filters per texel. */
function inputGradBody({ tm, tn, unitStride }: ConvTextureVariant): string {
  const perRow = range(tm).map((i) => `
    let p_${i} = min(row + ${i}u, params.M - 1u);
    let w_${i} = p_${i} % params.W;
    let nh_${i} = p_${i} / params.W;
    let h_${i} = nh_${i} % params.H;
    let n_${i} = nh_${i} / params.H;`).join("");
  const atPosition = range(tm).map((i) => {
    const th = `i32(h_${i} + params.padT) - i32(kh)`, tw = `i32(w_${i} + params.padL) - i32(kw)`;
    return unitStride
      ? `
      let oh_${i} = ${th};
      let ow_${i} = ${tw};
      let ok_${i} = oh_${i} >= 0 && ow_${i} >= 0 && oh_${i} < i32(params.OH) && ow_${i} < i32(params.OW);
      let base_${i} = ((n_${i} * params.OH + u32(max(oh_${i}, 0))) * params.OW + u32(max(ow_${i}, 0))) * f4;`
      : `
      let th_${i} = ${th};
      let tw_${i} = ${tw};
      let oh_${i} = u32(max(th_${i}, 0)) / params.SH;
      let ow_${i} = u32(max(tw_${i}, 0)) / params.SW;
      let ok_${i} = th_${i} >= 0 && tw_${i} >= 0 && oh_${i} * params.SH == u32(th_${i}) &&
        ow_${i} * params.SW == u32(tw_${i}) && oh_${i} < params.OH && ow_${i} < params.OW;
      let base_${i} = ((n_${i} * params.OH + oh_${i}) * params.OW + ow_${i}) * f4;`;
  }).join("");
  const quad = [
    ...range(tm).map((i) => `let a_${i} = select(vec4<f32>(0.0), texel(src, base_${i} + q), ok_${i});`),
    // w[kh, kw, col + j, 4q .. 4q + 3]: 4 k's of column j
    ...range(tn).map((j) => `let b_${j} = texel(wt, wb + ${j}u * f4 + q);`),
    ...range(4).flatMap((kk) =>
      fmas(
        tm,
        tn,
        (i) => `a_${i}[${kk}]`,
        (c) => `vec4<f32>(${range(4).map((e) => `b_${4 * c + e}[${kk}]`).join(", ")})`,
      )
    ),
  ];
  return `
  let f4 = params.F / 4u;${perRow}
  for (var kh = 0u; kh < params.KH; kh++) {
    for (var kw = 0u; kw < params.KW; kw++) {${atPosition}
      let wb = ((kh * params.KW + kw) * params.C + col) * f4;
      for (var q = 0u; q < f4; q++) {
        ${quad.join("\n        ")}
      }
    }
  }`;
}

/**
 * filterGrad: rows are (kernel position, channel), read in units of 4 (a texel of x) or, scalarC, 1;
 * one m per step, its pixel kept incrementally.
 */
function filterGradBody({ tm, tn, inside, scalarC, gradOf }: ConvTextureVariant): string {
  const L = scalarC ? 1 : 4;
  const units = range(tm / L);
  const zero = scalarC ? "0.0" : "vec4<f32>(0.0)";
  const one = scalarC ? "1.0" : "vec4<f32>(1.0, 0.0, 0.0, 0.0)";
  const x = (at: string) => (scalarC ? `scalarAt(src, ${at})` : `texel(src, ${at})`);
  // inside: x's read for unit u at output pixel (n, oh, ow) is at that pixel's corner plus off_u.
  const xRead = (u: number) =>
    inside
      ? x(`corner + off_${u}`)
      : `select(${zero}, ${
        x(`((n * params.H + u32(max(h_${u}, 0))) * params.W + u32(max(w_${u}, 0))) * cs + cq_${u}`)
      }, ok_${u})`;
  // Row M - 4 is the bias's: its "input" is 1 (dbias = Σ_m dz[m, f]); rows past it are never read.
  const perUnit = units.map((u) => `
  let r_${u} = min(row + ${L * u}u, params.M - 4u);
  let isBias_${u} = r_${u} == params.M - 4u;
  let khw_${u} = r_${u} / params.C;
  let cq_${u} = (r_${u} % params.C) / ${L}u;
  let kh_${u} = i32(khw_${u} / params.KW) - i32(params.padT);
  let kw_${u} = i32(khw_${u} % params.KW) - i32(params.padL);${
    inside
      ? `
  let off_${u} = (u32(kh_${u}) * params.W + u32(kw_${u})) * cs + cq_${u};`
      : ""
  }`).join("");
  const dz = (c: number) => {
    const at = `m * f4 + col / 4u + ${c}u`;
    return gradOf ? `activationGrad4(texel(wt, ${at}), texel(yt, ${at}))` : `texel(wt, ${at})`;
  };
  const walk = pixelWalk("m0", ["n", "oh", "ow"], ["params.OH", "params.OW"]);
  const step = [
    ...(inside ? [`let corner = ((n * params.H + oh * params.SH) * params.W + ow * params.SW) * cs;`] : []),
    ...units.map((u) =>
      `${
        inside ? "" : `
      let h_${u} = i32(oh * params.SH) + kh_${u};
      let w_${u} = i32(ow * params.SW) + kw_${u};
      let ok_${u} = h_${u} >= 0 && h_${u} < i32(params.H) && w_${u} >= 0 && w_${u} < i32(params.W);`
      }
      let a_${u} = select(${xRead(u)}, ${one}, isBias_${u});`
    ),
    ...range(tn / 4).map((c) => `let b_${c} = ${dz(c)};`),
    ...fmas(tm, tn, (i) => (scalarC ? `a_${i}` : `a_${i >> 2}[${i & 3}]`), (c) => `b_${c}`),
  ];
  return `
  let cs = params.C / ${L}u;
  let f4 = params.F / 4u;${perUnit}
  let m0 = batch * params.sliceRows;
  let m1 = min(m0 + params.sliceRows, params.rows);
  ${walk.start}
  for (var m = m0; m < m1; m++) {
    ${step.join("\n    ")}
    ${walk.next}
  }`;
}

/** WGSL helpers of the variants: a float of x (scalarC), the fused activation's derivative (gradOf). */
function helpers({ scalarC, gradOf }: ConvTextureVariant): string {
  return [
    scalarC ? SCALAR_AT : "",
    gradOf ? activationGradFunction(gradOf) : "",
  ].join("\n");
}

/**
 * The kernel. Bindings: `src` (x, or dz for inputGrad), `wt` (w, or for
 * filterGrad dz, or dy under `gradOf`) and, under `gradOf`, `yt` (y) as
 * textures; bias (storage; bound but unread without one); c, the output
 * [M, N] (filterGrad: [slices][M, N]).
 */
export const convTextureKernel: Kernel<ConvTextureVariant> = {
  name: "conv_texture",
  uniforms: [
    ...WINDOW_UNIFORMS,
    ["F", "u32"],
    // Rows and columns of the output, and (filterGrad) the m's summed: all, in slices of sliceRows.
    ["M", "u32"],
    ["N", "u32"],
    ["rows", "u32"],
    ["sliceRows", "u32"],
    // filterGrad: gid.x = slice · rowBlocks + row block (textureGemmMain's batchAlongX).
    ["rowBlocks", "u32"],
    ["batches", "u32"],
    ...EPILOGUE_UNIFORMS,
  ],
  bindings: (v) => [
    { name: "src", type: "", access: "texture" },
    { name: "wt", type: "", access: "texture" },
    ...(v.gradOf ? [{ name: "yt", type: "", access: "texture" } as const] : []),
    ...epilogueBindings(!!v.vecOut),
  ],
  key: (v) =>
    `${v.mode}/${v.activation}/${v.tm}x${v.tn}${v.unitStride ? "/s1" : ""}${v.inside ? "/inside" : ""}` +
    `${v.scalarC ? "/scalarC" : ""}${v.gradOf ? `/grad:${v.gradOf}` : ""}${v.vecOut ? "/vec" : ""}`,
  source: (v) => {
    const body = v.mode === "forward"
      ? forwardBody(v)
      : v.mode === "inputGrad"
      ? inputGradBody(v)
      : filterGradBody(v);
    return helpers(v) + textureGemmMain(v, body, v.mode === "filterGrad" ? "batchAlongX" : "rows");
  },
};
