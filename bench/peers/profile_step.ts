/**
 * Where one training step's time goes: the MLP 784-128-10 and the Keras MNIST
 * CNN at batch 128 with Adam (the steps of ./ours.ts), on the adapter's
 * timestamp queries (`timestampWrites` on each compute pass).
 *
 * (1) Steps as in training (one submit each), each started on an idle GPU:
 * encoding = JS from the step's start to its `queue.submit` (ops, tape,
 * `Runtime.dispatch`, uniforms); GPU = the sum of the step's pass timestamps.
 * (2) The same steps with a submit after every dispatch, so each pass holds
 * one kernel: GPU ms per kernel variant, and the JS time of its dispatches.
 *
 * `deno run --allow-read=node_modules --allow-env bench/peers/profile_step.ts [steps] [mlp|cnn|both] [batch]`
 */
import { ready, Runtime, runtime } from "../../src/gpu/runtime.ts";
import { type Kernel, kernelKey } from "../../src/gpu/kernel.ts";
import { timeSubmits } from "./_timing.ts";
import { adamTraining, type PeerModel } from "../_training.ts";

const steps = Number(Deno.args[0] ?? 3); // the CNN's 436 passes a step: at most 4 steps fit the query set
const rt = await ready();
if (!rt.device.features.has("timestamp-query")) throw new Error("this adapter has no timestamp-query");
const device = rt.device;

// Timestamps: every compute pass gets a begin/end slot while `label` is set.
const SLOTS = 2048;
const querySet = device.createQuerySet({ type: "timestamp", count: 2 * SLOTS });
let slot = 0;
let label: string | null = null;
const labels: string[] = [];
const begin = GPUCommandEncoder.prototype.beginComputePass;
GPUCommandEncoder.prototype.beginComputePass = function (this: GPUCommandEncoder, desc) {
  if (label === null || slot >= SLOTS) return begin.call(this, desc);
  labels[slot] = label;
  const timestampWrites = {
    querySet,
    beginningOfPassWriteIndex: 2 * slot,
    endOfPassWriteIndex: 2 * slot + 1,
  };
  slot++;
  return begin.call(this, { ...desc, timestampWrites });
};

/** Pass durations (ms) of the slots used since the last call, with their labels. */
async function readSlots(): Promise<{ label: string; ms: number }[]> {
  const n = slot;
  slot = 0;
  if (n === SLOTS) console.log(`(the query set's ${SLOTS} passes ran out: later passes are not counted)`);
  if (n === 0) return [];
  const resolved = device.createBuffer({
    size: 16 * n,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = device.createBuffer({
    size: 16 * n,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.resolveQuerySet(querySet, 0, 2 * n, resolved, 0);
  encoder.copyBufferToBuffer(resolved, 0, read, 0, 16 * n);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const ts = new BigUint64Array(read.getMappedRange());
  const out = labels.slice(0, n).map((l, i) => ({ label: l, ms: Number(ts[2 * i + 1] - ts[2 * i]) / 1e6 }));
  read.unmap();
  read.destroy();
  resolved.destroy();
  return out;
}

// The time each step first calls queue.submit (the end of its encoding), and the time spent inside submit
// (on llvmpipe it runs the GL commands before it returns: the kernels, and the copies between passes).
const queue = device.queue;
let firstSubmitAt: number | null = null;
let submitMs = 0;
timeSubmits(queue, (start, ms) => {
  firstSubmitAt ??= start;
  submitMs += ms;
});

// Per-dispatch mode: label each pass with its kernel variant and submit after each dispatch.
type Dispatch = Runtime["dispatch"];
const dispatch = Runtime.prototype.dispatch as Dispatch;
let perDispatch = false;
let dispatchMs = 0;
const jsMs = new Map<string, number>();
Runtime.prototype.dispatch = function (this: Runtime, kernel, variant, buffers, uniforms, workgroups) {
  const key = kernelKey(kernel as Kernel<unknown>, variant).slice(0, 64);
  if (perDispatch) label = key;
  const t0 = performance.now();
  dispatch.call(this, kernel as Kernel<unknown>, variant, buffers, uniforms, workgroups);
  const ms = performance.now() - t0;
  dispatchMs += ms;
  jsMs.set(key, (jsMs.get(key) ?? 0) + ms);
  if (perDispatch) this.flush();
} as Dispatch;

async function profile(model: PeerModel, batch: number) {
  const { step, dispose } = await adamTraining(model, batch, 3);
  await step().data();
  // (1) as in training, each step from an idle GPU
  let encode = 0, inDispatch = 0, wall = 0, inSubmit = 0;
  const n0 = rt.dispatches;
  label = "step";
  for (let i = 0; i < steps; i++) {
    await queue.onSubmittedWorkDone();
    const d0 = dispatchMs, s0 = submitMs;
    firstSubmitAt = null;
    const t0 = performance.now();
    step().dispose();
    await queue.onSubmittedWorkDone();
    wall += performance.now() - t0;
    encode += firstSubmitAt! - t0;
    inDispatch += dispatchMs - d0;
    inSubmit += submitMs - s0;
  }
  label = null;
  const gpu = (await readSlots()).reduce((s, p) => s + p.ms, 0) / steps;
  const perStep = (rt.dispatches - n0) / steps;
  console.log(
    `\n## ${model === "mlp" ? "MLP 784-128-10" : "Keras MNIST CNN"}, batch ${batch}, Adam: ` +
      `${perStep} dispatches/step, ${steps} steps`,
  );
  console.log(
    `encoding (CPU, JS until submit) ${(encode / steps).toFixed(2)} ms/step, of which in Runtime.dispatch ` +
      `${(inDispatch / steps).toFixed(2)} ms; GPU (timestamp-query, sum of passes) ${
        gpu.toFixed(2)
      } ms/step; ` +
      `wall incl. submit + wait ${(wall / steps).toFixed(1)} ms/step`,
  );
  console.log(
    `inside queue.submit (CPU) ${
      (inSubmit / steps).toFixed(2)
    } ms/step: where the adapter runs the commands ` +
      `as they are submitted (llvmpipe), the passes and ${
        (inSubmit / steps - gpu).toFixed(2)
      } ms of copies ` +
      "and pass setup between them",
  );
  // (2) a pass and a submit per dispatch
  jsMs.clear();
  perDispatch = true;
  for (let i = 0; i < steps; i++) step().dispose();
  perDispatch = false;
  label = null;
  await step().data();
  const passes = await readSlots();
  const byKernel = new Map<string, { n: number; ms: number }>();
  for (const p of passes) {
    const k = byKernel.get(p.label) ?? { n: 0, ms: 0 };
    k.n++;
    k.ms += p.ms;
    byKernel.set(p.label, k);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, k]) => s + k.ms, 0) / steps;
  console.log("| kernel (variant key) | calls/step | GPU ms/step | share | JS ms/step in dispatch |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [key, k] of rows) {
    const js = (jsMs.get(key) ?? 0) / steps;
    console.log(
      `| ${key} | ${k.n / steps} | ${(k.ms / steps).toFixed(2)} | ${
        (100 * k.ms / steps / total).toFixed(1)
      }% | ${js.toFixed(3)} |`,
    );
  }
  console.log(`| total | ${passes.length / steps} | ${total.toFixed(1)} | 100% | |`);
  dispose();
  runtime().flush();
}

const which = Deno.args[1] ?? "both";
const batch = Number(Deno.args[2] ?? 128);
if (which !== "cnn") await profile("mlp", batch);
if (which !== "mlp") await profile("cnn", batch);
