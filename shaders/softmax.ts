/**
 * Row-wise softmax and logSoftmax over the last axis, and the fused, stable
 * softmax cross-entropy. x is [rows, C] row-major; one invocation per row
 * (C is a class count here, not thousands), or for the cross-entropy's batch
 * mean one workgroup whose lanes stride over the rows.
 * Stability: every exp is of (z - max z) <= 0, so logits of ±1e4 give finite results.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, WG_1D, wgsl } from "./_wgsl.ts";

/** WGSL: m = max of row `base`, s = Σ exp(z - m). */
const ROW_STATS = /* wgsl */ `
fn rowMax(base: u32, c: u32) -> f32 {
  var m = -3.4028234663852886e38;
  for (var j = 0u; j < c; j++) { m = max(m, x[base + j]); }
  return m;
}
fn rowSumExp(base: u32, c: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var j = 0u; j < c; j++) { s += exp(x[base + j] - m); }
  return s;
}
`;

export const softmaxKernel: Kernel<{ log: boolean }> = {
  name: "softmax",
  uniforms: [["rows", "u32"], ["c", "u32"]],
  bindings: () => [
    { name: "x", type: "f32", access: "read" },
    { name: "y", type: "f32", access: "read_write" },
  ],
  key: ({ log }) => String(log),
  source: ({ log }) =>
    wgsl`
${LINEAR_INDEX}
${ROW_STATS}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linearIndex(gid, groups);
  if (row >= params.rows) { return; }
  let base = row * params.c;
  let m = rowMax(base, params.c);
  let s = rowSumExp(base, params.c, m);
#if ${log}
  let logS = log(s);
  for (var j = 0u; j < params.c; j++) { y[base + j] = x[base + j] - m - logS; }
#else
  for (var j = 0u; j < params.c; j++) { y[base + j] = exp(x[base + j] - m) / s; }
#endif
}`,
};

/** softmax: dx = y·(dy - Σ dy·y);  logSoftmax: dx = dy - exp(y)·Σ dy. */
export const softmaxGradKernel: Kernel<{ log: boolean }> = {
  name: "softmax_grad",
  uniforms: [["rows", "u32"], ["c", "u32"]],
  bindings: () => [
    { name: "y", type: "f32", access: "read" },
    { name: "dy", type: "f32", access: "read" },
    { name: "dx", type: "f32", access: "read_write" },
  ],
  key: ({ log }) => String(log),
  source: ({ log }) =>
    wgsl`
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linearIndex(gid, groups);
  if (row >= params.rows) { return; }
  let base = row * params.c;
  var s = 0.0;
#if ${log}
  for (var j = 0u; j < params.c; j++) { s += dy[base + j]; }
  for (var j = 0u; j < params.c; j++) { dx[base + j] = dy[base + j] - exp(y[base + j]) * s; }
#else
  for (var j = 0u; j < params.c; j++) { s += dy[base + j] * y[base + j]; }
  for (var j = 0u; j < params.c; j++) { dx[base + j] = y[base + j] * (dy[base + j] - s); }
#endif
}`,
};

/** The GPU assertion code of a sparse label outside [0, C). */
export const LABEL_OUT_OF_RANGE = 1;

/**
 * Per row: loss = Σ_j y_j·(logΣexp(z) - z_j) and dz = softmax(z)·Σy - y
 * (= softmax - onehot for one-hot rows), in one pass. The loss is formed as
 * Σ_j y_j·(m - z_j) + Σy·log s: no two numbers of the logits' size (1e4) are
 * subtracted, so a confident row's loss of ~0 is not float32 noise of ~1e-3.
 * Dense labels are [rows, C] float; sparse labels are [rows] int32 class
 * indices; an index outside [0, C) writes LABEL_OUT_OF_RANGE to `status`
 * (reported at the next readback) and gives a NaN loss.
 *
 * `mean`: one workgroup loops over all rows and writes only their mean loss
 * (small batches: a training step's loss without a second, reducing dispatch).
 */
export const softmaxCrossEntropyKernel: Kernel<{ sparse: boolean; mean: boolean }> = {
  name: "softmax_cross_entropy",
  // dz is scaled by dzScale: 1/rows folds the mean's gradient into it (ops/losses.ts).
  uniforms: [["rows", "u32"], ["c", "u32"], ["dzScale", "f32"]],
  bindings: ({ sparse }) => [
    { name: "x", type: "f32", access: "read" },
    { name: "labels", type: sparse ? "i32" : "f32", access: "read" },
    { name: "loss", type: "f32", access: "read_write" },
    { name: "dz", type: "f32", access: "read_write" },
    ...(sparse ? [{ name: "status", type: "atomic<u32>", access: "read_write" } as const] : []),
  ],
  key: ({ sparse, mean }) => `${sparse}${mean ? "/mean" : ""}`,
  source: ({ sparse, mean }) =>
    wgsl`
${LINEAR_INDEX}
${ROW_STATS}
// Writes the dz of one row and returns its loss.
fn crossEntropyRow(row: u32) -> f32 {
  let base = row * params.c;
  let m = rowMax(base, params.c);
  let s = rowSumExp(base, params.c, m);
  let logS = log(s);
#if ${sparse}
  let label = labels[row];
  if (label < 0 || u32(label) >= params.c) {
    // The first failing row claims the status words (a weak exchange may fail spuriously: retry).
    loop {
      let claim = atomicCompareExchangeWeak(&status[0], 0u, ${LABEL_OUT_OF_RANGE}u);
      if (claim.exchanged) {
        atomicStore(&status[1], bitcast<u32>(label));
        atomicStore(&status[2], row);
        atomicStore(&status[3], params.c);
        break;
      }
      if (claim.old_value != 0u) { break; }
    }
    for (var j = 0u; j < params.c; j++) { dz[base + j] = 0.0; }
    return bitcast<f32>(0x7fc00000u); // NaN: never a plausible loss
  }
  for (var j = 0u; j < params.c; j++) {
    dz[base + j] = (exp(x[base + j] - m) / s - select(0.0, 1.0, j == u32(label))) * params.dzScale;
  }
  return (m - x[base + u32(label)]) + logS;
#else
  var yGap = 0.0; // Σ y_j·(m - z_j)
  var ySum = 0.0;
  for (var j = 0u; j < params.c; j++) {
    yGap += labels[base + j] * (m - x[base + j]);
    ySum += labels[base + j];
  }
  for (var j = 0u; j < params.c; j++) {
    dz[base + j] = (exp(x[base + j] - m) / s * ySum - labels[base + j]) * params.dzScale;
  }
  return yGap + ySum * logS;
#endif
}
#if ${mean}
var<workgroup> partial: array<f32, ${WG_1D}>;
@compute @workgroup_size(${WG_1D})
fn main(@builtin(local_invocation_index) lane: u32) {
  var sum = 0.0;
  for (var row = lane; row < params.rows; row += ${WG_1D}u) { sum += crossEntropyRow(row); }
  partial[lane] = sum;
  workgroupBarrier();
  if (lane == 0u) {
    var total = 0.0;
    for (var k = 0u; k < ${WG_1D}u; k++) { total += partial[k]; }
    loss[0] = total / f32(params.rows);
  }
}
#else
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linearIndex(gid, groups);
  if (row >= params.rows) { return; }
  loss[row] = crossEntropyRow(row);
}
#endif
`,
};
