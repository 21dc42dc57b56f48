/**
 * Metrics kept on the GPU during fit: per-example accuracy (Keras's binary,
 * categorical and sparse categorical accuracy), and an in-place accumulator
 * that adds a batch's sum into a slot of a small persistent `sums` buffer,
 * read back only a few times per epoch.
 * Layouts: predictions [rows, C] row-major f32; labels [rows, C] f32 or [rows] i32.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { LINEAR_INDEX, WG_1D, wgsl } from "./_wgsl.ts";

export type AccuracyKind = "binary" | "categorical" | "sparse";

/** WGSL: index of the first maximum of `v[base .. base + c)` (TensorFlow's tie rule). */
const ARG_MAX = (name: string, array: string) => /* wgsl */ `
fn ${name}(base: u32, c: u32) -> u32 {
  var best = ${array}[base];
  var at = 0u;
  for (var j = 1u; j < c; j++) {
    let v = ${array}[base + j];
    if (v > best) { best = v; at = j; }
  }
  return at;
}`;

/**
 * One invocation per example row: out[row] = the fraction of its values
 * predicted right. binary: (prediction > threshold) == label, averaged over
 * the row's C values (threshold 0.5 on probabilities, 0 on logits);
 * categorical: argMax(prediction) == argMax(label); sparse: argMax(prediction) == label.
 */
export const accuracyKernel: Kernel<{ kind: AccuracyKind }> = {
  name: "accuracy",
  uniforms: [["rows", "u32"], ["c", "u32"], ["threshold", "f32"]],
  bindings: ({ kind }) => [
    { name: "predictions", type: "f32", access: "read" },
    { name: "labels", type: kind === "sparse" ? "i32" : "f32", access: "read" },
    { name: "out", type: "f32", access: "read_write" },
  ],
  key: ({ kind }) => kind,
  source: ({ kind }) =>
    wgsl`
${LINEAR_INDEX}
${ARG_MAX("argMaxPrediction", "predictions")}
#if ${kind === "categorical"}
${ARG_MAX("argMaxLabel", "labels")}
#endif
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linearIndex(gid, groups);
  if (row >= params.rows) { return; }
  let base = row * params.c;
#if ${kind === "binary"}
  var hits = 0.0;
  for (var j = 0u; j < params.c; j++) {
    let predicted = select(0.0, 1.0, predictions[base + j] > params.threshold);
    hits += select(0.0, 1.0, labels[base + j] == predicted);
  }
  out[row] = hits / f32(params.c);
#endif
#if ${kind === "categorical"}
  out[row] = select(0.0, 1.0, argMaxPrediction(base, params.c) == argMaxLabel(base, params.c));
#endif
#if ${kind === "sparse"}
  out[row] = select(0.0, 1.0, i32(argMaxPrediction(base, params.c)) == labels[row]);
#endif
}`,
};

/**
 * sums[slot] += scale · Σ values[0 .. n), in place. One invocation: n is a
 * batch (tens to thousands of values) and the adds must not race.
 */
export const accumulateKernel: Kernel = {
  name: "accumulate",
  uniforms: [["n", "u32"], ["slot", "u32"], ["scale", "f32"]],
  bindings: () => [
    { name: "values", type: "f32", access: "read" },
    { name: "sums", type: "f32", access: "read_write" },
  ],
  source: () => /* wgsl */ `
@compute @workgroup_size(1)
fn main() {
  var s = 0.0;
  for (var i = 0u; i < params.n; i++) { s += values[i]; }
  sums[params.slot] += params.scale * s;
}`,
};
