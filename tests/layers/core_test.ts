/**
 * Core layers against CPU references: dense (the fused GEMM epilogue, also on
 * rank-3 inputs), activation, flatten, reshape, dropout (active only in
 * training); Keras-style names and configs; errors that name the layer.
 */
import { assert, assertAlmostEquals, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import * as wg from "../models/_api.ts";

/** y = act(x·W + b) in float64, row-major. */
function denseReference(
  x: number[],
  w: number[],
  b: number[],
  rows: number,
  inF: number,
  units: number,
  act: (v: number) => number,
) {
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let s = b[u];
      for (let k = 0; k < inF; k++) s += x[r * inF + k] * w[k * units + u];
      y.push(act(s));
    }
  }
  return y;
}

const ACTS: Record<string, (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
};

for (const [name, act] of Object.entries(ACTS)) {
  Deno.test(`dense with ${name}: act(x·kernel + bias) as one fused GEMM, against a CPU reference`, async () => {
    const layer = wg.layers.dense({
      units: 5,
      activation: name,
      inputShape: [3],
      biasInitializer: wg.initializers.randomUniform({ minval: -1, maxval: 1, seed: 2 }),
    });
    const model = wg.sequential({ layers: [layer] });
    const x = wg.randomNormal([4, 3], 0, 1, 1);
    const y = await model.predict(x).data();
    const want = denseReference(
      [...await x.data()],
      [...await layer.kernel!.data()],
      [...await layer.bias!.data()],
      4,
      3,
      5,
      act,
    );
    want.forEach((v, i) => assertAlmostEquals(y[i], v, 1e-5));
    model.dispose();
    x.dispose();
  });
}

Deno.test("dense on rank-3 inputs applies to the last axis; softmax rows sum to 1", async () => {
  const layer = wg.layers.dense({ units: 4, activation: "softmax", useBias: false, inputShape: [2, 3] });
  const model = wg.sequential({ layers: [layer] });
  assertEquals(layer.outputShape, [null, 2, 4]);
  assertEquals(layer.countParams(), 12);
  const y = model.predict(wg.randomNormal([5, 2, 3], 0, 1, 3));
  assertEquals(y.shape, [5, 2, 4]);
  const rows = (await y.array()) as number[][][];
  for (const row of rows.flat()) assertAlmostEquals(row.reduce((a, b) => a + b, 0), 1, 1e-5);
  model.dispose();
});

Deno.test("layer names are numbered per class as in Keras, and must be unique in a model", () => {
  const a = wg.layers.dense({ units: 1 }), b = wg.layers.dense({ units: 1 });
  const m = /^dense(?:_(\d+))?$/;
  assert(m.test(a.name) && m.test(b.name), `${a.name}, ${b.name}`);
  const index = (name: string) => Number(m.exec(name)![1] ?? 0);
  assertEquals(index(b.name), index(a.name) + 1);
  assert(/^max_pooling2d(_\d+)?$/.test(wg.layers.maxPooling2d().name));
  assert(/^average_pooling2d(_\d+)?$/.test(wg.layers.averagePooling2d().name));
  assertEquals(wg.layers.flatten({ name: "f" }).name, "f");
  const model = wg.sequential({ layers: [wg.layers.dense({ units: 2, inputShape: [2], name: "same" })] });
  assertThrows(() => model.add(wg.layers.dense({ units: 2, name: "same" })), Error, "unique names");
  model.dispose();
});

Deno.test("weights are variables named <layer>/kernel and <layer>/bias; trainable false freezes them", async () => {
  const frozen = wg.layers.dense({ units: 2, inputShape: [3], name: "probe" });
  const head = wg.layers.dense({ units: 1 });
  const model = wg.sequential({ layers: [frozen, head] });
  assertEquals(frozen.weights.map((v) => v.name), ["probe/kernel", "probe/bias"]);
  frozen.trainable = false;
  assertEquals(model.trainableWeights, head.weights);
  const lines: string[] = [];
  model.summary(undefined, undefined, (l) => lines.push(l));
  assertEquals(lines.slice(-4, -1), ["Total params: 11", "Trainable params: 3", "Non-trainable params: 8"]);
  const [kernel, headKernel] = [await frozen.kernel!.data(), await head.kernel!.data()];
  model.compile({ optimizer: "sgd", loss: "mse" });
  await model.fit(wg.ones([4, 3]), wg.ones([4, 1]), { epochs: 2, verbose: 0 });
  assertEquals(await frozen.kernel!.data(), kernel);
  assertNotEquals(await head.kernel!.data(), headKernel);
  model.dispose();
});

Deno.test("flatten, reshape (with -1) and activation layers: shapes and values", async () => {
  const model = wg.sequential({
    layers: [
      wg.layers.flatten({ inputShape: [2, 3, 2] }),
      wg.layers.reshape({ targetShape: [-1, 4] }),
      wg.layers.activation({ activation: "relu" }),
    ],
  });
  assertEquals(model.layers.map((l) => l.outputShape), [[null, 12], [null, 3, 4], [null, 3, 4]]);
  const x = wg.tensor(Float32Array.from({ length: 24 }, (_, i) => i - 12), [2, 2, 3, 2]);
  const y = model.predict(x);
  assertEquals(y.shape, [2, 3, 4]);
  assertEquals([...await y.data()], Array.from({ length: 24 }, (_, i) => Math.max(i - 12, 0)));
  assertThrows(
    () => wg.layers.reshape({ targetShape: [5] }).computeOutputShape([null, 12]),
    wg.ShapeError,
    "12 values",
  );
  assertThrows(() => wg.layers.activation({ activation: "swish" }), Error, "expected one of");
  model.dispose();
});

Deno.test("dropout is the identity at inference and active (and seeded) in training", async () => {
  const model = wg.sequential({ layers: [wg.layers.dropout({ rate: 0.5, seed: 4, inputShape: [1000] })] });
  const x = wg.ones([1, 1000]);
  assertEquals([...await model.predict(x).data()], Array(1000).fill(1));
  const a = await model.apply(x, { training: true }).data();
  assert(a.every((v) => v === 0 || v === 2));
  const kept = a.filter((v) => v === 2).length;
  assert(kept > 400 && kept < 600, `kept ${kept} of 1000`);
  assertNotEquals([...await model.apply(x, { training: true }).data()], [...a], "a new mask each step");
  const again = wg.sequential({ layers: [wg.layers.dropout({ rate: 0.5, seed: 4, inputShape: [1000] })] });
  assertEquals(await again.apply(x, { training: true }).data(), a, "the same seed, the same masks");
  model.dispose();
});

Deno.test("inputs of the wrong shape name the layer and both shapes", () => {
  const model = wg.sequential({ layers: [wg.layers.dense({ units: 2, inputShape: [3], name: "d3" })] });
  assertThrows(() => model.predict(wg.ones([2, 4])), wg.ShapeError, "expects inputs of shape");
  assertThrows(() => wg.layers.dense({ units: 0 }), wg.ShapeError, "units must be a positive integer");
  model.dispose();
});
