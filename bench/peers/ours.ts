/**
 * This engine's side of the peer benchmark: matMul, the Keras MNIST CNN's
 * conv layers, and Adam training steps of the 784-128-10 MLP and of the CNN,
 * written with the low-level API (as the tfjs side uses tfjs's). A training
 * step's time is split into encoding (JS recording the step) and submit
 * (`queue.submit`, which on GL llvmpipe blocks until the GPU work is done).
 */
import process from "node:process";
import { tune } from "../../src/gpu/autotune.ts";
import { ready, runtime } from "../../src/gpu/runtime.ts";
import { randomNormal } from "../../src/ops/creation.ts";
import { matMul } from "../../src/ops/matmul.ts";
import type { Tensor } from "../../src/tensor.ts";
import { convLayerGflops, type ConvLayerShape } from "../conv_bench.ts";
import { adamTraining, type PeerModel } from "../_training.ts";
import { type Millis, type StepMillis, timeReps, timeSubmits } from "./_timing.ts";

export type { PeerModel };

/** Milliseconds spent inside `queue.submit` so far (the wrapper is installed once). */
let submitMs = 0;
let wrapped = false;

/** The adapter, as one line. */
export async function oursAdapter(): Promise<string> {
  const rt = await ready();
  if (!wrapped) {
    timeSubmits(rt.device.queue, (_, ms) => submitMs += ms);
    wrapped = true;
  }
  const info = rt.ctx.adapterInfo;
  return `${info.description || info.vendor} (${
    info.architecture || "?"
  }), fallback: ${rt.ctx.isFallbackAdapter}, ` +
    `timestamp-query: ${rt.ctx.features.has("timestamp-query")}, backend: ${
      Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default"
    }`;
}

/** ms per n x n x n product: `reps` products in one submit. */
export async function oursMatMul(n: number, reps: number, warmup = 1): Promise<Millis> {
  const a = randomNormal([n, n], 0, 1, 1);
  const b = randomNormal([n, n], 0, 1, 2);
  matMul(a, b).dispose();
  await tune();
  let outs: Tensor[] = [];
  const t = await timeReps(reps, warmup, () => outs.push(matMul(a, b)), async () => {
    await outs[outs.length - 1].data();
    for (const o of outs) o.dispose();
    outs = [];
  });
  a.dispose();
  b.dispose();
  return t;
}

/** Forward, backward to filter + bias, backward to all: ms per call (the backward ones net of the forward). */
export async function oursConv(layer: ConvLayerShape, reps: number): Promise<Record<string, Millis>> {
  const t = await convLayerGflops(layer, reps);
  return { forward: t.forward, "backward dW+db": t.backwardFilter, "backward dx+dW+db": t.backward };
}

/**
 * Times `steps` Adam steps (lr 0.001) on random data of the model's input
 * shape, after `warmup` steps. Each step is one submit; nothing is read back
 * until the last step's loss.
 */
export async function oursTrain(
  model: PeerModel,
  batch: number,
  steps: number,
  warmup: number,
): Promise<StepMillis> {
  await oursAdapter();
  const { step, dispose } = await adamTraining(model, batch, warmup);
  await step().data(); // drain the queue before timing
  const cpu0 = process.cpuUsage();
  const submit0 = submitMs;
  const t0 = performance.now();
  let last = step();
  for (let i = 1; i < steps; i++) {
    last.dispose();
    last = step();
  }
  const loop = performance.now() - t0;
  const encode = loop - (submitMs - submit0);
  await last.data();
  const wall = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  last.dispose();
  dispose();
  runtime().flush();
  return {
    steps,
    wall: wall / steps,
    cpu: (user + system) / 1000 / steps,
    encode: encode / steps,
    submit: (wall - encode) / steps,
  };
}
