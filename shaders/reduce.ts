/**
 * Reductions over the middle axis of x viewed as [outer, R, inner]
 * (ops transpose and reshape so that any axes end up there).
 * out[o, i] = scale · reduce_r x[o, r, i]; argMax/argMin give r (the first on ties).
 *
 * Two shapes of work: one invocation per output (many outputs, short R), or
 * one 64-thread workgroup per output that strides over R and combines in
 * workgroup memory (few outputs, long R, e.g. a loss mean).
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, WG_1D, wgsl } from "./_wgsl.ts";
import { WINDOW_FLOATS } from "./conv.ts";

export type ReduceOp = "sum" | "max" | "min" | "argMax" | "argMin";

export interface ReduceVariant {
  op: ReduceOp;
  perWorkgroup: boolean;
  /** x read through one 64 KiB uniform window (llvmpipe: ~2 cycles a load against ~30 from storage). */
  window?: boolean;
}

/** Threads of the workgroup-per-output variant. */
export const REDUCE_WG = 64;

const INIT: Record<ReduceOp, string> = {
  sum: "0.0",
  max: "-3.4028234663852886e38",
  min: "3.4028234663852886e38",
  argMax: "-3.4028234663852886e38",
  argMin: "3.4028234663852886e38",
};

// `better(v, r, acc, accIdx)` decides whether (v, r) replaces the accumulator.
// NOTE: NaN never compares better, so max/min skip NaNs. For arg ops the lower
// index wins ties, so argMax returns the first maximum, as TensorFlow does.
const BETTER: Record<ReduceOp, string> = {
  sum: "true",
  max: "v > acc",
  min: "v < acc",
  argMax: "v > acc || (v == acc && r < accIdx)",
  argMin: "v < acc || (v == acc && r < accIdx)",
};

function combine(op: ReduceOp): string {
  return op === "sum" ? "acc = acc + v;" : `if (${BETTER[op]}) { acc = v; accIdx = r; }`;
}

// NOTE: a row of -inf never beats max's ±FLT_MAX start (nor +inf min's, nor an all-NaN row): then the
// result is the first element, index 0, rather than ∓FLT_MAX and the invalid index -1.
function firstIfNoneWon(op: ReduceOp): string {
  return op === "sum" ? "" : `if (accIdx == 0xffffffffu && params.r > 0u) {
    acc = xAt(outer * params.r * params.inner + inner);
    accIdx = 0u;
  }`;
}

export const reduceKernel: Kernel<ReduceVariant> = {
  name: "reduce",
  uniforms: [["outer", "u32"], ["r", "u32"], ["inner", "u32"], ["scale", "f32"]],
  bindings: ({ op, window }) => [
    window
      ? { name: "xWindow", type: "vec4<f32>", access: "uniform", length: WINDOW_FLOATS / 4 }
      : { name: "x", type: "f32", access: "read" },
    { name: "out", type: op.startsWith("arg") ? "i32" : "f32", access: "read_write" },
  ],
  key: ({ op, perWorkgroup, window }) => `${op}|${perWorkgroup}${window ? "|window" : ""}`,
  source: ({ op, perWorkgroup, window }) => {
    const isArg = op.startsWith("arg");
    const result = isArg ? "i32(accIdx)" : op === "sum" ? "acc * params.scale" : "acc";
    return wgsl`
${LINEAR_INDEX}
fn xAt(i: u32) -> f32 {
  return ${window ? "xWindow[i >> 2u][i & 3u]" : "x[i]"};
}
#if ${perWorkgroup}
var<workgroup> partial: array<f32, ${REDUCE_WG}>;
var<workgroup> partialIdx: array<u32, ${REDUCE_WG}>;

// One workgroup per output element; dispatched as a grid over outputs.
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
  let o = wid.x + wid.y * groups.x;
  let outer = o / params.inner;
  let inner = o % params.inner;
  var acc = ${INIT[op]};
  var accIdx = 0xffffffffu;
  for (var r = lid; r < params.r; r += ${REDUCE_WG}u) {
    let v = xAt((outer * params.r + r) * params.inner + inner);
    ${combine(op)}
  }
  partial[lid] = acc;
  partialIdx[lid] = accIdx;
  for (var stride = ${REDUCE_WG / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier(); // partial[] of the previous round is complete
    if (lid < stride) {
      let v = partial[lid + stride];
      let r = partialIdx[lid + stride];
      acc = partial[lid];
      accIdx = partialIdx[lid];
      ${combine(op)}
      partial[lid] = acc;
      partialIdx[lid] = accIdx;
    }
  }
  if (lid == 0u && o < params.outer * params.inner) {
    acc = partial[0];
    accIdx = partialIdx[0];
    ${firstIfNoneWon(op)}
    out[o] = ${result};
  }
}
#else
// One invocation per output element, looping over R.
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linearIndex(gid, groups);
  if (o >= params.outer * params.inner) { return; }
  let outer = o / params.inner;
  let inner = o % params.inner;
  var acc = ${INIT[op]};
  var accIdx = 0xffffffffu;
  for (var r = 0u; r < params.r; r++) {
    let v = xAt((outer * params.r + r) * params.inner + inner);
    ${combine(op)}
  }
  ${firstIfNoneWon(op)}
  _ = accIdx;
  out[o] = ${result};
}
#endif
`;
  },
};

/**
 * Backward of max/min: dx[o, r, i] = dy[o, i] where r is the recorded
 * arg-max index, else 0 (so a tie sends the gradient to the first maximum).
 */
export const scatterArgKernel: Kernel<void> = {
  name: "scatter_arg",
  uniforms: [["outer", "u32"], ["r", "u32"], ["inner", "u32"]],
  bindings: () => [
    { name: "idx", type: "i32", access: "read" },
    { name: "dy", type: "f32", access: "read" },
    { name: "dx", type: "f32", access: "read_write" },
  ],
  source: () => `
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = linearIndex(gid, groups);
  if (e >= params.outer * params.r * params.inner) { return; }
  let inner = e % params.inner;
  let r = (e / params.inner) % params.r;
  let o = (e / (params.inner * params.r)) * params.inner + inner;
  dx[e] = select(0.0, dy[o], u32(idx[o]) == r);
}`,
};
