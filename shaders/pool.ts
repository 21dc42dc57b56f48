/**
 * Max and average pooling and their gradients, NHWC (x [N,H,W,C], y [N,OH,OW,C]).
 * Window geometry (KH×KW window, SH/SW strides, padT/padL) in uniforms, as for
 * conv (shaders/conv.ts). Padded positions are never part of a window: max
 * never picks them, average divides by the count of real inputs (as TensorFlow).
 *
 * One invocation per output element (forward) or per input element (backward,
 * a gather over the windows that contain it: no atomics), 4 channels at a
 * time (`vec`) when C % 4 == 0.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, WG_1D } from "./_wgsl.ts";
import { WINDOW_UNIFORMS } from "./conv.ts";

export interface PoolVariant {
  op: "max" | "avg";
  /** 4 channels per invocation (C % 4 == 0). */
  vec: boolean;
  /** max only: also write each output's arg-max (h·W + w within its image) for the backward pass. */
  withArg?: boolean;
}

const f = (vec: boolean) => (vec ? "vec4<f32>" : "f32");
const i = (vec: boolean) => (vec ? "vec4<i32>" : "i32");

/** WGSL: split `idx` (in units of L channels) of a [N, A, B, C] tensor into n, a, b and cl. */
const split = (a: string, A: string, b: string, B: string) => `
  let cl = idx % (params.C / L);
  let rest = idx / (params.C / L);
  let ${b} = rest % params.${B};
  let ${a} = (rest / params.${B}) % params.${A};
  let n = rest / (params.${B} * params.${A});`;

/** y = max or mean over each window; optionally the arg-max. */
export const poolKernel: Kernel<PoolVariant> = {
  name: "pool",
  uniforms: [["total", "u32"], ...WINDOW_UNIFORMS],
  bindings: ({ op, vec, withArg }) => [
    { name: "x", type: f(vec), access: "read" },
    { name: "y", type: f(vec), access: "read_write" },
    ...(op === "max" && withArg ? [{ name: "arg", type: i(vec), access: "read_write" } as const] : []),
  ],
  key: ({ op, vec, withArg }) => `${op}|${vec}|${op === "max" && !!withArg}`,
  source: ({ op, vec, withArg }) => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = linearIndex(gid, groups);
  if (idx >= params.total) { return; }
  let L = ${vec ? 4 : 1}u;
${split("oh", "OH", "ow", "OW")}
  let h0 = i32(oh * params.SH) - i32(params.padT);
  let w0 = i32(ow * params.SW) - i32(params.padL);
  var best = ${f(vec)}(0.0);
  var bestAt = ${i(vec)}(-1);
  var acc = ${f(vec)}(0.0);
  var count = 0.0;
  for (var kh = 0; kh < i32(params.KH); kh++) {
    let h = h0 + kh;
    if (h < 0 || h >= i32(params.H)) { continue; }
    for (var kw = 0; kw < i32(params.KW); kw++) {
      let w = w0 + kw;
      if (w < 0 || w >= i32(params.W)) { continue; }
      let v = x[((n * params.H + u32(h)) * params.W + u32(w)) * (params.C / L) + cl];
      // NOTE: strict > in row-major window order: on ties the first position wins, and the
      // backward pass routes the gradient to it alone. The first real input always wins
      // over the initial state, so -inf inputs still get an arg-max.
      let better = (v > best) | (bestAt < ${i(vec)}(0));
      best = select(best, v, better);
      bestAt = select(bestAt, ${i(vec)}(h * i32(params.W) + w), better);
      acc += v;
      count += 1.0;
    }
  }
  _ = acc; _ = count; _ = best;
  ${op === "max" ? "y[idx] = best;" : "y[idx] = acc / count;"}
  ${op === "max" && withArg ? "arg[idx] = bestAt;" : ""}
}`,
};

/**
 * dx[n, h, w, c] = Σ over the windows (oh, ow) that contain (h, w) of
 * max: dy where the window's arg-max is (h, w); avg: dy / (real inputs in that window).
 */
export const poolGradKernel: Kernel<PoolVariant> = {
  name: "pool_grad",
  uniforms: [["total", "u32"], ...WINDOW_UNIFORMS],
  bindings: ({ op, vec }) => [
    { name: "dy", type: f(vec), access: "read" },
    ...(op === "max" ? [{ name: "arg", type: i(vec), access: "read" } as const] : []),
    { name: "dx", type: f(vec), access: "read_write" },
  ],
  key: ({ op, vec }) => `${op}|${vec}`,
  source: ({ op, vec }) => `
${LINEAR_INDEX}
// Output rows (or columns) whose window [o·S - pad, o·S - pad + K) contains position p.
fn windows(p: u32, pad: u32, k: u32, s: u32, outSize: u32) -> vec2<u32> {
  let hi = p + pad; // o·S <= p + pad
  let lo = i32(hi) - i32(k) + 1; // o·S >= p + pad - k + 1
  let first = select(0u, (u32(lo) + s - 1u) / s, lo > 0);
  return vec2<u32>(first, min(hi / s + 1u, outSize)); // [first, end)
}

@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = linearIndex(gid, groups);
  if (idx >= params.total) { return; }
  let L = ${vec ? 4 : 1}u;
${split("h", "H", "w", "W")}
  let rows = windows(h, params.padT, params.KH, params.SH, params.OH);
  let cols = windows(w, params.padL, params.KW, params.SW, params.OW);
  let here = ${i(vec)}(i32(h * params.W + w));
  _ = here;
  var acc = ${f(vec)}(0.0);
  for (var oh = rows.x; oh < rows.y; oh++) {
    for (var ow = cols.x; ow < cols.y; ow++) {
      let o = ((n * params.OH + oh) * params.OW + ow) * (params.C / L) + cl;
${
    op === "max" ? "      acc += select(" + f(vec) + "(0.0), dy[o], arg[o] == here);" : `
      let h0 = i32(oh * params.SH) - i32(params.padT);
      let w0 = i32(ow * params.SW) - i32(params.padL);
      let hs = min(h0 + i32(params.KH), i32(params.H)) - max(h0, 0);
      let ws = min(w0 + i32(params.KW), i32(params.W)) - max(w0, 0);
      acc += dy[o] / f32(hs * ws);`
  }
    }
  }
  dx[idx] = acc;
}`,
};
