/**
 * Max and average pooling and their gradients, NHWC (x [N,H,W,C], y [N,OH,OW,C]).
 * Window geometry (KH×KW window, SH/SW strides, padT/padL) in uniforms, as for
 * conv (shaders/conv.ts). Padded positions are never part of a window: max
 * never picks them, average divides by the count of real inputs (as TensorFlow).
 *
 * One invocation per image row (n, oh) of the output (forward) or (n, h) of
 * the input (backward, a gather over the windows that contain each input: no
 * atomics), 4 channels at a time (`vec`) when C % 4 == 0; windows that tile
 * the image scatter their gradient from each output row instead (`disjoint`).
 * `band`: the tensor the kernel reads from
 * (x forward; dy and arg backward) is read through one 64 KiB uniform window
 * holding whole images n0.., and the dispatch covers those images only: on
 * llvmpipe a uniform load costs ~1/14 of a storage load (bench/conv_variants.md).
 * `texture` (vec only): those tensors are read from texture copies instead
 * (Runtime.texture), one dispatch for all images.
 * The arg-max is stored as f32 (h·W + w, exact below 2²⁴) so that it can
 * travel through an rgba32float texture like the values.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, TEXEL, WG_1D } from "./_wgsl.ts";
import { WINDOW_UNIFORMS } from "./conv.ts";

export interface PoolVariant {
  op: "max" | "avg";
  /** 4 channels per invocation (C % 4 == 0). */
  vec: boolean;
  /** max only: also write each output's arg-max (h·W + w within its image) for the backward pass. */
  withArg?: boolean;
  band: boolean;
  texture?: boolean;
  /**
   * Backward only: the windows tile the image (strides = window, no padding), so each input lies
   * in at most one window and one invocation per output row scatters its windows' gradients:
   * a quarter of the reads of the gather for 2x2 windows, and no window loops.
   */
  disjoint?: boolean;
}

/** Knob for tests: `texture: false` keeps llvmpipe on the storage / uniform-window reads (as other adapters). */
export const poolConfig = { texture: true };

/** vec4s in a uniform window. */
const WINDOW_VEC4 = 4096;

const f = (vec: boolean) => (vec ? "vec4<f32>" : "f32");

/** A binding of the gathered-from tensor: storage, a uniform window of vec4s, or a texture. */
const source = (name: string, v: PoolVariant) =>
  v.texture
    ? { name, type: "", access: "texture" } as const
    : v.band
    ? { name, type: "vec4<f32>", access: "uniform", length: WINDOW_VEC4 } as const
    : { name, type: f(v.vec), access: "read" } as const;

/** WGSL: element `e` (in units of L channels) of a gathered-from tensor. */
const read = (name: string, e: string, v: PoolVariant) =>
  v.texture
    ? `texel(${name}, ${e})`
    : !v.band || v.vec
    ? `${name}[${e}]`
    : `${name}[(${e}) / 4u][(${e}) % 4u]`;

/**
 * WGSL: split `idx` (a row × channel group of a [N, A, B, C] tensor, L channels per group)
 * into n, a and cl; m = n - n0. One invocation walks a whole row: the integer divisions
 * (slow on llvmpipe: scalar, ~25 cycles per lane) happen once per row, not per element.
 */
const split = (a: string, A: string) => `
  let cl = idx % (params.C / L);
  let row = idx / (params.C / L);
  let ${a} = row % params.${A};
  let n = row / params.${A};
  let m = n - params.n0; // image within the uniform window (band)`;

/** WGSL up to the start of `main`'s body: one invocation per image row `a` (of `A`) × channel group. */
const rowMain = (v: PoolVariant, a: string, A: string) => `
${LINEAR_INDEX}
${v.texture ? TEXEL : ""}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = params.first + linearIndex(gid, groups);
  if (idx >= params.total) { return; }
  let L = ${v.vec ? 4 : 1}u;
${split(a, A)}`;

const UNIFORMS = [["first", "u32"], ["total", "u32"], ["n0", "u32"], ...WINDOW_UNIFORMS] as const;

/** y = max or mean over each window; optionally the arg-max. One invocation per output row × channel group. */
export const poolKernel: Kernel<PoolVariant> = {
  name: "pool",
  uniforms: UNIFORMS,
  bindings: (v) => [
    source("x", v),
    { name: "y", type: f(v.vec), access: "read_write" },
    ...(v.op === "max" && v.withArg ? [{ name: "arg", type: f(v.vec), access: "read_write" } as const] : []),
  ],
  key: (v) => `${v.op}|${v.vec}|${v.op === "max" && !!v.withArg}|${v.texture ? "texture" : v.band}`,
  source: (v) => `
${rowMain(v, "oh", "OH")}
  let h0 = i32(oh * params.SH) - i32(params.padT);
  var w0 = -i32(params.padL);
  for (var ow = 0u; ow < params.OW; ow++) {
    var best = ${f(v.vec)}(0.0);
    var bestAt = ${f(v.vec)}(-1.0);
    var acc = ${f(v.vec)}(0.0);
    var count = 0.0;
    for (var h = max(h0, 0); h < min(h0 + i32(params.KH), i32(params.H)); h++) {
      for (var w = max(w0, 0); w < min(w0 + i32(params.KW), i32(params.W)); w++) {
        let v = ${read("x", "((m * params.H + u32(h)) * params.W + u32(w)) * (params.C / L) + cl", v)};
        // NOTE: strict > in row-major window order: on ties the first position wins, and the
        // backward pass routes the gradient to it alone. The first real input always wins
        // over the initial state, so -inf inputs still get an arg-max.
        let better = (v > best) | (bestAt < ${f(v.vec)}(0.0));
        best = select(best, v, better);
        bestAt = select(bestAt, ${f(v.vec)}(f32(h * i32(params.W) + w)), better);
        acc += v;
        count += 1.0;
      }
    }
    _ = acc; _ = count; _ = best;
    let o = (row * params.OW + ow) * (params.C / L) + cl;
    ${v.op === "max" ? "y[o] = best;" : "y[o] = acc / count;"}
    ${v.op === "max" && v.withArg ? "arg[o] = bestAt;" : ""}
    w0 += i32(params.SW);
  }
}`,
};

/**
 * dx[n, h, w, c] = Σ over the windows (oh, ow) that contain (h, w) of
 * max: dy where the window's arg-max is (h, w); avg: dy / (real inputs in that window).
 * One invocation per input row × channel group.
 */
export const poolGradKernel: Kernel<PoolVariant> = {
  name: "pool_grad",
  uniforms: UNIFORMS,
  bindings: (v) => [
    source("dy", v),
    ...(v.op === "max" ? [source("arg", v)] : []),
    { name: "dx", type: f(v.vec), access: "read_write" },
  ],
  key: (v) => `${v.op}|${v.vec}|${v.texture ? "texture" : v.band}${v.disjoint ? "|disjoint" : ""}`,
  source: (v) =>
    v.disjoint ? disjointGradSource(v) : `
// ⌊a / b⌋ for a possibly negative a.
fn floorDiv(a: i32, b: u32) -> i32 {
  return select(-((-a + i32(b) - 1) / i32(b)), a / i32(b), a >= 0);
}
${rowMain(v, "h", "H")}
  // Windows containing row h: oh·SH - padT <= h < oh·SH - padT + KH.
  let ohFirst = u32(max(floorDiv(i32(h + params.padT) - i32(params.KH), params.SH) + 1, 0));
  let ohEnd = min((h + params.padT) / params.SH + 1u, params.OH);
  // The same along w, carried from column to column: owFirst = ⌊(w + padL - KW)/SW⌋ + 1, owEnd = ⌊(w + padL)/SW⌋ + 1.
  var loQ = floorDiv(i32(params.padL) - i32(params.KW), params.SW);
  var loR = i32(params.padL) - i32(params.KW) - loQ * i32(params.SW);
  var hiQ = params.padL / params.SW;
  var hiR = params.padL % params.SW;
  for (var w = 0u; w < params.W; w++) {
    let here = ${f(v.vec)}(f32(h * params.W + w));
    _ = here;
    var acc = ${f(v.vec)}(0.0);
    for (var oh = ohFirst; oh < ohEnd; oh++) {
      for (var ow = u32(max(loQ + 1, 0)); ow < min(hiQ + 1u, params.OW); ow++) {
        let o = ((m * params.OH + oh) * params.OW + ow) * (params.C / L) + cl;
${
      v.op === "max"
        ? `        acc += select(${f(v.vec)}(0.0), ${read("dy", "o", v)}, ${read("arg", "o", v)} == here);`
        : `
        let h0 = i32(oh * params.SH) - i32(params.padT);
        let w0 = i32(ow * params.SW) - i32(params.padL);
        let hs = min(h0 + i32(params.KH), i32(params.H)) - max(h0, 0);
        let ws = min(w0 + i32(params.KW), i32(params.W)) - max(w0, 0);
        acc += ${read("dy", "o", v)} / f32(hs * ws);`
    }
      }
    }
    dx[(row * params.W + w) * (params.C / L) + cl] = acc;
    loR++;
    if (loR == i32(params.SW)) { loR = 0; loQ++; }
    hiR++;
    if (hiR == params.SW) { hiR = 0u; hiQ++; }
  }
}`,
};

/**
 * The gradient for windows that tile the image: one invocation per output row (n, oh) × channel
 * group writes every input of its windows (dy at the arg-max, or dy / window size), and the
 * zeros of the inputs no window covers (right of the last window; below it, from the last row).
 */
function disjointGradSource(v: PoolVariant): string {
  const gradAt = v.op === "max"
    ? `select(${f(v.vec)}(0.0), g, at == ${f(v.vec)}(f32(h * params.W + w)))`
    : `g / f32(params.KH * params.KW)`;
  return `
${rowMain(v, "oh", "OH")}
  let cs = params.C / L;
  let image = n * params.H;
  for (var ow = 0u; ow < params.OW; ow++) {
    let o = ((m * params.OH + oh) * params.OW + ow) * cs + cl; // within the band's window
    let g = ${read("dy", "o", v)};
    ${v.op === "max" ? `let at = ${read("arg", "o", v)};` : ""}
    for (var h = oh * params.KH; h < (oh + 1u) * params.KH; h++) {
      for (var w = ow * params.KW; w < (ow + 1u) * params.KW; w++) {
        dx[((image + h) * params.W + w) * cs + cl] = ${gradAt};
      }
    }
  }
  for (var h = oh * params.KH; h < (oh + 1u) * params.KH; h++) {
    for (var w = params.OW * params.KW; w < params.W; w++) {
      dx[((image + h) * params.W + w) * cs + cl] = ${f(v.vec)}(0.0);
    }
  }
  if (oh + 1u == params.OH) {
    for (var h = params.OH * params.KH; h < params.H; h++) {
      for (var w = 0u; w < params.W; w++) {
        dx[((image + h) * params.W + w) * cs + cl] = ${f(v.vec)}(0.0);
      }
    }
  }
}`;
}
