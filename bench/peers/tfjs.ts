/**
 * TensorFlow.js 4.22's side of the peer benchmark (bench-only dependencies:
 * tfjs-core, tfjs-layers, tfjs-backend-webgpu, tfjs-backend-wasm), doing the
 * same work as ./ours.ts: the same shapes, random data, Adam (lr 0.001),
 * batch sizes, one readback at the end of a timed run. The models are built
 * with tfjs-layers (Keras's MNIST CNN and the 784-128-10 MLP) and trained with
 * `optimizer.minimize` so that no step reads its loss back (as ours).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-webgpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { ConvLayerShape } from "../conv_bench.ts";
import { attempt, type Millis, type StepMillis, timeReps, Unsupported } from "./_timing.ts";
import type { PeerModel } from "./ours.ts";

/** The tfjs backends compared. */
export type TfBackend = "webgpu" | "wasm";

let wasmPathSet = false;

/** Selects `backend`; returns a one-line description of it. */
export async function useBackend(backend: TfBackend): Promise<string> {
  if (backend === "wasm" && !wasmPathSet) {
    // NOTE: Deno's fetch reads file:// URLs, so the .wasm files load straight from node_modules.
    setWasmPaths(new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).href);
    wasmPathSet = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialize`);
  await tf.ready();
  if (backend === "wasm") {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    return `tfjs ${tf.version_core} wasm (simd: ${simd}, threads: ${threads})`;
  }
  return `tfjs ${tf.version_core} webgpu`;
}

/** ms per n x n x n product: `reps` products, then one readback. */
export async function tfMatMul(n: number, reps: number, warmup = 1): Promise<Millis> {
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  let outs: tf.Tensor[] = [];
  const t = await timeReps(reps, warmup, () => outs.push(tf.matMul(a, b)), async () => {
    await outs[outs.length - 1].data();
    tf.dispose(outs);
    outs = [];
  });
  tf.dispose([a, b]);
  return t;
}

/** Forward, backward to filter + bias, backward to all (net of the forward): ms per call. */
export async function tfConv(
  layer: ConvLayerShape,
  reps: number,
): Promise<Record<string, Millis | Unsupported>> {
  const [N, H, W] = layer.x;
  const [KH, KW, , F] = layer.filter;
  const x = tf.randomUniform(layer.x, 0, 1, "float32", 1);
  const filter = tf.randomNormal(layer.filter, 0, 0.1, "float32", 2);
  const bias = tf.zeros([F]);
  const dy = tf.randomNormal([N, H - KH + 1, W - KW + 1, F], 0, 1, "float32", 3);
  const conv = (xs: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
    tf.fused.conv2d({
      x: xs as tf.Tensor4D,
      filter: w as tf.Tensor4D,
      strides: 1,
      pad: "valid",
      bias: b,
      activation: "relu",
    });
  const time = async (fn: () => tf.Tensor) => {
    let outs: tf.Tensor[] = [];
    return await timeReps(reps, 1, () => outs.push(tf.tidy(fn)), async () => {
      await outs[outs.length - 1].data();
      tf.dispose(outs);
      outs = [];
    });
  };
  // Each part on its own: tfjs wasm runs the forward pass but has no Conv2DBackpropFilter kernel.
  const forward = await attempt(() => time(() => conv(x, filter, bias)));
  const withFilter = await attempt(() =>
    time(() => tf.grads((w: tf.Tensor, b: tf.Tensor) => conv(x, w, b))([filter, bias], dy)[0])
  );
  const withAll = await attempt(() => time(() => tf.grads(conv)([x, filter, bias], dy)[1]));
  tf.dispose([x, filter, bias, dy]);
  const minus = (a: Millis | Unsupported, b: Millis | Unsupported): Millis | Unsupported =>
    a instanceof Unsupported
      ? a
      : b instanceof Unsupported
      ? b
      : { wall: a.wall - b.wall, cpu: a.cpu - b.cpu };
  return {
    forward,
    "backward dW+db": minus(withFilter, forward),
    "backward dx+dW+db": minus(withAll, forward),
  };
}

/** The model: tfjs-layers' Keras MNIST CNN (with dropout 0.5 before the dense layer) or the 784-128-10 MLP. */
function build(model: PeerModel): tfl.Sequential {
  if (model === "mlp") {
    return tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 128, inputShape: [784], activation: "relu" }),
        tfl.layers.dense({ units: 10 }),
      ],
    });
  }
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 10 }),
    ],
  });
}

/** Times `steps` Adam steps on random data after `warmup` steps; the loss is read back once, at the end. */
export async function tfTrain(
  model: PeerModel,
  batch: number,
  steps: number,
  warmup: number,
): Promise<StepMillis> {
  const net = build(model);
  const x = tf.randomUniform(model === "mlp" ? [batch, 784] : [batch, 28, 28, 1], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, "int32", 2) as tf.Tensor1D, 10);
  const optimizer = tf.train.adam(0.001);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () =>
    optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, net.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
      vars,
    )!;
  let last: tf.Scalar | null = null;
  const t = await timeReps(steps, warmup, () => {
    last?.dispose();
    last = step();
  }, async () => {
    await last!.data();
  });
  tf.dispose([x, y, last!]);
  optimizer.dispose();
  net.dispose();
  return { ...t, steps: t.reps };
}
