/**
 * This engine's side of the peer benchmark: matMul, the Keras MNIST CNN's
 * conv layers, and Adam training steps of the 784-128-10 MLP and of the CNN,
 * written with the low-level API (as the tfjs side uses tfjs's). A training
 * step's time is split into encoding (JS recording the step) and submit
 * (`queue.submit`, which on GL llvmpipe blocks until the GPU work is done).
 */
import process from "node:process";
import { variableGrads } from "../../src/autograd/gradients.ts";
import { tune } from "../../src/gpu/autotune.ts";
import { ready, runtime } from "../../src/gpu/runtime.ts";
import { randomNormal, randomUniform, tensor, variable, zeros } from "../../src/ops/creation.ts";
import { fusedConv2d } from "../../src/ops/conv.ts";
import { dropout } from "../../src/ops/dropout.ts";
import { softmaxCrossEntropy } from "../../src/ops/losses.ts";
import { fusedMatMul, matMul } from "../../src/ops/matmul.ts";
import { maxPool } from "../../src/ops/pool.ts";
import { oneHot, reshape } from "../../src/ops/transform.ts";
import { adam } from "../../src/optimizers/train.ts";
import { Random } from "../../src/random.ts";
import { type Tensor, tidy, type Variable } from "../../src/tensor.ts";
import { convLayerGflops, type ConvLayerShape } from "../conv_bench.ts";
import { type Millis, type StepMillis, timeReps } from "./_timing.ts";

/** Milliseconds spent inside `queue.submit` so far (the wrapper is installed once). */
let submitMs = 0;
let wrapped = false;

/** The adapter, as one line. */
export async function oursAdapter(): Promise<string> {
  const rt = await ready();
  if (!wrapped) {
    const queue = rt.device.queue;
    const submit = queue.submit.bind(queue);
    queue.submit = (buffers: GPUCommandBuffer[]) => {
      const t0 = performance.now();
      submit(buffers);
      submitMs += performance.now() - t0;
    };
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

/** The models of the training rows. */
export type PeerModel = "mlp" | "cnn";

const glorot = (shape: number[], fanIn: number, fanOut: number, seed: number) =>
  randomUniform(shape, -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), seed);

/** Parameters and loss of one batch of the MLP (784-128 relu-10) or the Keras MNIST CNN (also ./profile_step.ts). */
export function build(
  model: PeerModel,
  batch: number,
): { params: Variable[]; loss: (x: Tensor, y: Tensor) => Tensor } {
  const name = `peer_${model}_${batch}_`;
  if (model === "mlp") {
    const params = [
      variable(glorot([784, 128], 784, 128, 2), true, `${name}w1`),
      variable(zeros([128]), true, `${name}b1`),
      variable(glorot([128, 10], 128, 10, 3), true, `${name}w2`),
      variable(zeros([10]), true, `${name}b2`),
    ];
    const [w1, b1, w2, b2] = params;
    return {
      params,
      loss: (x, y) => {
        const h = fusedMatMul({ a: x, b: w1, bias: b1, activation: "relu" });
        return softmaxCrossEntropy(y, fusedMatMul({ a: h, b: w2, bias: b2 }));
      },
    };
  }
  const params = [
    variable(glorot([3, 3, 1, 32], 9, 288, 2), true, `${name}w1`),
    variable(zeros([32]), true, `${name}b1`),
    variable(glorot([3, 3, 32, 64], 288, 576, 3), true, `${name}w2`),
    variable(zeros([64]), true, `${name}b2`),
    variable(glorot([1600, 10], 1600, 10, 4), true, `${name}w3`),
    variable(zeros([10]), true, `${name}b3`),
  ];
  const [w1, b1, w2, b2, w3, b3] = params;
  return {
    params,
    loss: (x, y) => {
      const h1 = fusedConv2d({ x, filter: w1, strides: 1, pad: "valid", bias: b1, activation: "relu" });
      const p1 = maxPool(h1, 2, 2, "valid");
      const h2 = fusedConv2d({ x: p1, filter: w2, strides: 1, pad: "valid", bias: b2, activation: "relu" });
      const p2 = maxPool(h2, 2, 2, "valid");
      const flat = dropout(reshape(p2, [batch, 5 * 5 * 64]), 0.5);
      return softmaxCrossEntropy(y, fusedMatMul({ a: flat, b: w3, bias: b3 }));
    },
  };
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
  const random = new Random(7);
  const x = randomUniform(model === "mlp" ? [batch, 784] : [batch, 28, 28, 1], 0, 1, 1);
  const labels = tensor(Int32Array.from({ length: batch }, () => random.int(10)), [batch], "int32");
  const y = oneHot(labels, 10);
  const { params, loss } = build(model, batch);
  const optimizer = adam(0.001);
  const step = () =>
    tidy(() => {
      const { value, grads } = variableGrads(() => loss(x, y), params);
      optimizer.applyGradients(grads); // the step's one submit
      return value;
    });
  step().dispose();
  await tune(); // the first step named the products to tune (fit() does the same)
  for (let i = 1; i < warmup; i++) step().dispose();
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
  for (const t of [x, labels, y, last, ...params]) t.dispose();
  optimizer.dispose();
  runtime().flush();
  return {
    steps,
    wall: wall / steps,
    cpu: (user + system) / 1000 / steps,
    encode: encode / steps,
    submit: (wall - encode) / steps,
  };
}
