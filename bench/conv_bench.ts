/**
 * Convolution benchmarks: conv2d forward/backward GFLOP/s on the Keras MNIST
 * CNN's two conv layers at batch 128 (`convLayerGflops`), and one full Adam
 * training step of that CNN (`cnnStep`). Run this file directly for a table;
 * `deno run ... bench/conv_bench.ts im2col` times the im2col + GEMM path instead.
 *
 * Every number comes with the process's CPU time (all threads, llvmpipe's
 * included): on a shared 2-core machine wall time moves with the load, CPU
 * time much less (bench/conv_variants.md).
 */
import process from "node:process";
import { valueAndGrads } from "../src/autograd/gradients.ts";
import { tune } from "../src/gpu/autotune.ts";
import { ready, runtime } from "../src/gpu/runtime.ts";
import { randomNormal, randomUniform, zeros } from "../src/ops/creation.ts";
import { fusedConv2d } from "../src/ops/conv.ts";
import { convConfig } from "../src/ops/_conv_impl.ts";
import { type Tensor, tidy } from "../src/tensor.ts";
import type { StepTiming } from "./mlp_bench.ts";
import { adamTraining } from "./_training.ts";

/** A conv layer's shapes: x NHWC, filter HWIO (3x3, "valid", stride 1, bias + relu, as in Keras). */
export interface ConvLayerShape {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
}

/** The Keras MNIST CNN's two conv layers at batch 128. */
export const MNIST_CNN_CONV_LAYERS: readonly ConvLayerShape[] = [
  { name: "conv1 28x28x1 -> 26x26x32", x: [128, 28, 28, 1], filter: [3, 3, 1, 32] },
  { name: "conv2 13x13x32 -> 11x11x64", x: [128, 13, 13, 32], filter: [3, 3, 32, 64] },
];

/** Wall and CPU milliseconds of one call. */
export interface Millis {
  wall: number;
  cpu: number;
}

export interface ConvLayerTiming {
  /** Forward (one implicit GEMM with bias and relu): 2·M·K·F flops. */
  forward: Millis;
  /** Backward to the filter and bias only, as for a first layer: 2·M·K·F flops. */
  backwardFilter: Millis;
  /** Backward to x, the filter and the bias: 4·M·K·F flops. */
  backward: Millis;
  /** 2·M·K·F: M = N·OH·OW output pixels, K = KH·KW·C, F filters. */
  flops: number;
}

/** Per call of `fn`: `reps` calls recorded into one submit, after a warm-up call (compiles, fills the pool). */
async function time(fn: () => Tensor, reps: number): Promise<Millis> {
  tidy(fn).dispose();
  await tune(); // the GEMMs of the im2col path (fit() does the same after its first step)
  await tidy(fn).data();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const outs: Tensor[] = [];
  for (let i = 0; i < reps; i++) outs.push(fn());
  await outs[reps - 1].data(); // one submit: waits for all
  const wall = (performance.now() - start) / reps;
  const { user, system } = process.cpuUsage(cpu0);
  for (const t of outs) t.dispose();
  return { wall, cpu: (user + system) / 1000 / reps };
}

const minus = (a: Millis, b: Millis): Millis => ({ wall: a.wall - b.wall, cpu: a.cpu - b.cpu });

/** Times the forward pass, and forward + backward; a backward time is the difference. */
export async function convLayerGflops(layer: ConvLayerShape, reps = 6): Promise<ConvLayerTiming> {
  const [N, H, W, C] = layer.x;
  const [KH, KW, , F] = layer.filter;
  const x = randomUniform(layer.x, 0, 1, 1);
  const filter = randomNormal(layer.filter, 0, 0.1, 2);
  const bias = zeros([F]);
  const dy = randomNormal([N, H - KH + 1, W - KW + 1, F], 0, 1, 3);
  const conv = (xs: Tensor, w: Tensor, b: Tensor) =>
    fusedConv2d({ x: xs, filter: w, strides: 1, pad: "valid", bias: b, activation: "relu" });
  // the VJP of <dy, conv(...)> with respect to the tensors given
  const vjp = (f: (...ts: Tensor[]) => Tensor, ts: Tensor[]) => () =>
    tidy(() => valueAndGrads(f)(ts, dy).grads[ts.length - 2]);
  const forward = await time(() => conv(x, filter, bias), reps);
  const withFilter = await time(vjp((w, b) => conv(x, w, b), [filter, bias]), reps);
  const withAll = await time(vjp(conv, [x, filter, bias]), reps);
  for (const t of [x, filter, bias, dy]) t.dispose();
  return {
    forward,
    backwardFilter: minus(withFilter, forward),
    backward: minus(withAll, forward),
    flops: 2 * N * (H - KH + 1) * (W - KW + 1) * KH * KW * C * F,
  };
}

/**
 * Times `steps` Adam training steps of the Keras MNIST CNN on random data:
 * conv32(3x3, relu) - maxPool 2 - conv64(3x3, relu) - maxPool 2 - flatten -
 * dropout 0.5 - dense10, softmax cross-entropy. Each step records forward,
 * backward and the Adam update into one submit; nothing is read back.
 */
export async function cnnStep(
  batch = 128,
  steps = 10,
  warmup = 3,
): Promise<StepTiming & { cpuMsPerStep: number }> {
  const { step, dispose } = await adamTraining("cnn", batch, warmup);
  await step().data(); // drain the queue before timing
  const submitsBefore = runtime().submits;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let last = step();
  for (let i = 1; i < steps; i++) {
    last.dispose();
    last = step();
  }
  const submits = runtime().submits - submitsBefore;
  await last.data();
  const ms = (performance.now() - start) / steps;
  const { user, system } = process.cpuUsage(cpu0);
  last.dispose();
  dispose();
  return {
    msPerStep: ms,
    cpuMsPerStep: (user + system) / 1000 / steps,
    submitsPerStep: submits / steps,
    samplesPerSecond: (batch * 1000) / ms,
  };
}

const rate = (flops: number, t: Millis) =>
  `${(flops / t.wall / 1e6).toFixed(1)} GFLOP/s (${t.wall.toFixed(1)} ms, cpu ${t.cpu.toFixed(1)} ms)`;

/** One line per layer: forward, backward to the filter (and bias), full backward. */
export async function convTable(): Promise<string[]> {
  const lines = [];
  for (const layer of MNIST_CNN_CONV_LAYERS) {
    const t = await convLayerGflops(layer);
    lines.push(
      `${layer.name}, batch 128: forward ${rate(t.flops, t.forward)}; ` +
        `backward dW+db ${rate(t.flops, t.backwardFilter)}; backward dx+dW+db ${
          rate(2 * t.flops, t.backward)
        }`,
    );
  }
  return lines;
}

/** The CNN step line. */
export async function cnnStepLine(): Promise<string> {
  const t = await cnnStep();
  return `Keras MNIST CNN training step, batch 128, Adam: ${t.msPerStep.toFixed(1)} ms/step ` +
    `(cpu ${t.cpuMsPerStep.toFixed(0)} ms), ${Math.round(t.samplesPerSecond)} samples/s, ` +
    `${t.submitsPerStep} submit(s)/step`;
}

if (import.meta.main) {
  await ready();
  if (Deno.args[0]) convConfig.algorithm = Deno.args[0] as typeof convConfig.algorithm;
  for (const line of await convTable()) console.log(`[${convConfig.algorithm}] ${line}`);
  console.log(`[${convConfig.algorithm}] ${await cnnStepLine()}`);
}
