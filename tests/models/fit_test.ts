/**
 * fit's contract: one submit per training step, flat GPU memory across
 * epochs, Keras's validationSplit (the last fraction, before shuffling),
 * seeded shuffling, label conventions (int for sparse, one-hot for
 * categorical), data streamed in batches, and history keys as Keras names them.
 */
import { assert, assertAlmostEquals, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import * as wg from "./_api.ts";
import { runtime } from "../../src/gpu/runtime.ts";
import { blobs, rows } from "./_data.ts";

/** A seeded 2-16-C classifier; `dropout` adds a Dropout layer. */
function classifier(classes: number, { dropout = false, seed = 1 } = {}) {
  const init = (s: number) => wg.initializers.glorotUniform({ seed: seed * 10 + s });
  return wg.sequential({
    layers: [
      wg.layers.dense({ units: 16, inputShape: [2], activation: "relu", kernelInitializer: init(1) }),
      ...(dropout ? [wg.layers.dropout({ rate: 0.3, seed: 5 })] : []),
      wg.layers.dense({ units: classes, activation: "softmax", kernelInitializer: init(2) }),
    ],
  });
}

async function weightsOf(model: wg.Sequential): Promise<number[][]> {
  return await Promise.all(model.weights.map(async (w) => [...await w.data()]));
}

Deno.test("each training step is one submit (no readback inside an epoch)", async () => {
  const { x, labels } = blobs(50, 3);
  const model = classifier(3);
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["acc"] });
  const at: number[] = [];
  await model.fit(x, labels, {
    epochs: 2,
    batchSize: 8,
    verbose: 0,
    callbacks: { onBatchBegin: () => void at.push(runtime().submits) },
  });
  // 7 steps per epoch (the last of 2 examples); within an epoch each step adds one submit.
  const deltas = at.slice(1).map((s, i) => s - at[i]).filter((_, i) => i !== 6);
  assertEquals(deltas, Array(12).fill(1));
  model.dispose();
});

Deno.test("GPU memory after epoch 1 equals after epoch 5 (dropout, validation, a smaller last batch)", async () => {
  const { x, oneHot } = blobs(45, 3);
  const model = classifier(3, { dropout: true });
  model.compile({
    optimizer: wg.train.momentum(0.05, 0.9),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  const seen: wg.MemoryInfo[] = [];
  const before = wg.memory();
  const history = await model.fit(x, oneHot, {
    epochs: 5,
    batchSize: 8,
    validationSplit: 0.2,
    verbose: 0,
    callbacks: [{ onEpochEnd: () => void seen.push(wg.memory()) }],
  });
  assertEquals(seen.length, 5);
  assertEquals(seen[4].numBytes, seen[0].numBytes);
  assertEquals(seen[4].numGPUBuffers, seen[0].numGPUBuffers);
  assertEquals(seen[4].numTensors, seen[0].numTensors);
  assertEquals(Object.keys(history.history), ["loss", "accuracy", "val_loss", "val_accuracy"]);
  // After fit only the optimizer's slots remain beyond what was there before.
  const slots = model.weights.length; // momentum: one velocity per weight
  assertEquals(wg.memory().numTensors, before.numTensors + slots);
  model.dispose();
});

Deno.test("onBatchEnd logs are the running means as of a read that overlapped later steps", async () => {
  // lr 0 and identical examples: every batch has the same loss, so every running mean is that loss
  // exactly, and a read paired with a later step's example count would show a smaller one. Two epochs
  // with verbose 0 keep their sums in two slots: the second epoch's reads start past the first's.
  const n = 4 * 60;
  const x = wg.tensor(Array.from({ length: n }, () => [0.5, -0.3]));
  const labels = wg.tensor(new Array(n).fill(1), [n], "int32");
  const model = classifier(2);
  model.compile({ optimizer: wg.train.sgd(0), loss: "sparseCategoricalCrossentropy" });
  const logged: number[][] = [[], []];
  let epoch = 0;
  const history = await model.fit(x, labels, {
    epochs: 2,
    batchSize: 4,
    verbose: 0,
    shuffle: false,
    callbacks: {
      onEpochBegin: (e) => void (epoch = e),
      // >= 3 ms a step: 60 steps outlast the 100 ms between reads and the ~11 ms each takes.
      onBatchEnd: async (_, logs) => {
        if (logs?.loss !== undefined) logged[epoch].push(logs.loss);
        await new Promise((resolve) => setTimeout(resolve, 3));
      },
    },
  });
  assertAlmostEquals(history.history.loss[1], history.history.loss[0], 1e-6);
  for (const e of [0, 1]) {
    assert(logged[e].length > 0, `no live read reached onBatchEnd in epoch ${e + 1}`);
    for (const loss of logged[e]) assertAlmostEquals(loss, history.history.loss[e], 1e-5);
  }
  model.dispose();
  x.dispose();
  labels.dispose();
});

Deno.test("validationSplit validates on the last fraction of the examples, as Keras", async () => {
  const { x, labels } = blobs(40, 2);
  const model = classifier(2);
  model.compile({ optimizer: wg.train.sgd(0.1), loss: "sparse_categorical_crossentropy", metrics: ["acc"] });
  let trained = 0;
  const history = await model.fit(x, labels, {
    epochs: 2,
    batchSize: 7,
    validationSplit: 0.25,
    verbose: 0,
    callbacks: { onBatchEnd: (_, logs) => void (trained += logs!.size) },
  });
  assertEquals(trained, 2 * 30);
  const [valLoss, valAcc] = model.evaluate(rows(x, 30, 40), rows(labels, 30, 40)) as wg.Tensor[];
  assertAlmostEquals(history.history.val_loss[1], (await valLoss.data())[0], 1e-5);
  assertAlmostEquals(history.history.val_acc[1], (await valAcc.data())[0], 1e-6);
  const [headLoss] = model.evaluate(rows(x, 0, 10), rows(labels, 0, 10)) as wg.Tensor[];
  assertNotEquals((await headLoss.data())[0], history.history.val_loss[1]);
  model.dispose();
});

Deno.test("shuffling is seeded: the same seed trains the same weights, another seed others", async () => {
  const { x, labels } = blobs(32, 2);
  const run = async (seed: number) => {
    const model = classifier(2);
    model.compile({ optimizer: wg.train.sgd(0.2), loss: "sparseCategoricalCrossentropy" });
    await model.fit(x, labels, { epochs: 2, batchSize: 5, verbose: 0, seed });
    const weights = await weightsOf(model);
    model.dispose();
    return weights;
  };
  const a = await run(7), b = await run(7), c = await run(8);
  assertEquals(a, b);
  assertNotEquals(a, c);
});

Deno.test("GPU tensors and host data train identically; int and float class labels, [N] or [N, 1]", async () => {
  const { x, labels } = blobs(30, 3);
  const run = async (
    xs: wg.Tensor | typeof x,
    ys: wg.Tensor | { data: Int32Array | Float32Array; shape: number[] },
  ) => {
    const model = classifier(3);
    model.compile({ optimizer: "rmsprop", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
    const history = await model.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0, seed: 3 });
    model.dispose();
    return history.history;
  };
  const host = await run(x, labels);
  const gx = wg.tensor(x.data, x.shape);
  const gy = wg.tensor(Float32Array.from(labels.data), [30, 1]);
  assertEquals(await run(gx, gy), host);
  assertEquals(await run(x, { data: Float32Array.from(labels.data), shape: [30] }), host);
  gx.dispose();
  gy.dispose();
});

Deno.test("a classifier learns three blobs: sparse labels with 'acc', one-hot with 'accuracy'", async () => {
  const { x, labels, oneHot } = blobs(90, 3);
  for (
    const [loss, y, metric] of [
      ["sparseCategoricalCrossentropy", labels, "acc"],
      ["categoricalCrossentropy", oneHot, "accuracy"],
    ] as const
  ) {
    const model = classifier(3);
    model.compile({ optimizer: wg.train.adam(0.05), loss, metrics: [metric] });
    const history = await model.fit(x, y, { epochs: 8, batchSize: 16, verbose: 0, seed: 1 });
    assertEquals(Object.keys(history.history), ["loss", metric]);
    assertEquals(history.epoch, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert(history.history[metric].at(-1)! > 0.9, `${loss}: ${history.history[metric]}`);
    assert(history.history.loss.at(-1)! < history.history.loss[0]);
    model.dispose();
  }
});

Deno.test("labels that do not fit the loss are a ShapeError that says which labels go with which loss", () => {
  const { x, labels, oneHot } = blobs(10, 3);
  const model = classifier(3);
  model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
  assertThrows(() => model.evaluate(x, labels), wg.ShapeError, "sparseCategoricalCrossentropy");
  model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
  assertThrows(() => model.evaluate(x, oneHot), wg.ShapeError, "categoricalCrossentropy");
  model.dispose();
});

Deno.test("data larger than one storage binding (128 MiB here) stream through fit, predict and evaluate", async () => {
  const limit = runtime().device.limits.maxStorageBufferBindingSize;
  // Cheap per byte: one average pool reads each value once, then a 16-weight dense layer.
  const shape = [64, 32, 16], size = 64 * 32 * 16;
  const n = Math.floor(limit / 4 / size) + 1; // just over the limit
  const x = { data: new Float32Array(n * size), shape: [n, ...shape] };
  for (let i = 0; i < n; i++) x.data[i * size + (i % size)] = 1;
  const y = { data: Float32Array.from({ length: n }, (_, i) => i % 2), shape: [n, 1] };
  assert(x.data.byteLength > limit);
  const model = wg.sequential({
    layers: [
      wg.layers.averagePooling2d({ poolSize: [64, 32], inputShape: shape }),
      wg.layers.flatten(),
      wg.layers.dense({ units: 1, kernelInitializer: "zeros" }),
    ],
  });
  model.compile({ optimizer: wg.train.sgd(0.5), loss: "mse" });
  const history = await model.fit(x, y, { batchSize: 256, verbose: 0, shuffle: false });
  // Step 1 moves the bias to 0.5 (mean label), the last batch (one example, label 0) back to ~0.
  assertAlmostEquals(history.history.loss[0], (0.5 * 256 + 0.25 * 768 + 0.25) / n, 1e-4);
  const p = model.predict(x, { batchSize: 256 });
  assertEquals(p.shape, [n, 1]);
  // A GPU tensor over the limit is read in row ranges, buffer to buffer.
  const gx = wg.tensor(x.data, x.shape);
  const loss = model.evaluate(gx, y, { batchSize: 512 }) as wg.Tensor;
  assertAlmostEquals((await loss.data())[0], 0.5, 1e-3);
  assertThrows(
    () => model.evaluate(gx, y, { batchSize: 2048 }),
    wg.ShapeError,
    "use a batchSize of at most 1024",
  );
  for (const t of [p, gx, loss]) t.dispose();
  model.dispose();
});

Deno.test("a run saved with its optimizer and resumed (initialEpoch) draws the same dropout masks: same weights", async () => {
  const { x, labels } = blobs(40, 3);
  const compiled = () => {
    const m = classifier(3, { dropout: true });
    m.compile({ optimizer: wg.train.adam(0.01), loss: "sparseCategoricalCrossentropy" });
    return m;
  };
  const args = { batchSize: 8, seed: 9, verbose: 0 as const };
  const straight = compiled();
  await straight.fit(x, labels, { ...args, epochs: 3 });

  const first = compiled();
  await first.fit(x, labels, { ...args, epochs: 1 });
  const dir = await Deno.makeTempDir();
  await first.save(`${dir}/model.json`, { includeOptimizer: true });
  const resumed = await wg.loadLayersModel(`${dir}/model.json`);
  await resumed.fit(x, labels, { ...args, epochs: 3, initialEpoch: 1 });
  assertEquals(await weightsOf(resumed), await weightsOf(straight));
});
