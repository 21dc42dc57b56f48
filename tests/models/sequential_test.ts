/**
 * The Sequential model's API: weights in and out, batched predict and
 * evaluate, compile's string names (Keras spellings included), deferred
 * building, and the errors that say what to do.
 */
import { assertAlmostEquals, assertEquals, assertRejects, assertThrows } from "@std/assert";
import * as wg from "./_api.ts";
import { blobs } from "./_data.ts";

const seeded = (seed: number) => wg.initializers.glorotUniform({ seed });

function mlp(seed = 1) {
  return wg.sequential({
    layers: [
      wg.layers.dense({ units: 6, inputShape: [2], activation: "tanh", kernelInitializer: seeded(seed) }),
      wg.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(seed + 1) }),
    ],
  });
}

Deno.test("getWeights returns copies in weights order; setWeights copies values in", async () => {
  const a = mlp(1), b = mlp(7);
  const weights = a.getWeights();
  assertEquals(weights.map((w) => w.shape), [[2, 6], [6], [6, 3], [3]]);
  b.setWeights(weights);
  for (const w of weights) w.dispose(); // copies: the model does not keep them
  const x = wg.randomNormal([5, 2], 0, 1, 4);
  assertEquals(await b.predict(x).data(), await a.predict(x).data());
  assertThrows(() => b.setWeights([wg.zeros([2, 6])]), wg.ShapeError, "has 4 weights");
  assertThrows(() => b.setWeights(a.getWeights().reverse()), wg.ShapeError, "weight 0");
  a.dispose();
  b.dispose();
});

Deno.test("predict computes in batches: any batch size gives the same outputs, GPU or host input", async () => {
  const model = mlp();
  const x = wg.randomNormal([10, 2], 0, 1, 5);
  const whole = await model.apply(x).data();
  const eq = (a: Float32Array | Int32Array, b: Float32Array | Int32Array) =>
    a.forEach((v, i) => assertAlmostEquals(v, b[i], 1e-6));
  eq(await model.predict(x, { batchSize: 3 }).data(), whole);
  eq(await model.predict(x).data(), whole);
  eq(
    await model.predict({ data: await x.data() as Float32Array, shape: [10, 2] }, { batchSize: 4 }).data(),
    whole,
  );
  assertEquals(model.predict(x, { batchSize: 3 }).shape, [10, 3]);
  model.dispose();
});

Deno.test("evaluate: the loss alone, or [loss, ...metrics], as scalars computed on the GPU", async () => {
  const { x, labels } = blobs(13, 3);
  const model = mlp();
  const probs = await model.predict(x).data();
  // Cross-entropy and accuracy in float64 from the predictions.
  let ce = 0, hits = 0;
  for (let i = 0; i < 13; i++) {
    const row = [...probs.slice(3 * i, 3 * i + 3)];
    ce -= Math.log(row[labels.data[i]]);
    hits += row.indexOf(Math.max(...row)) === labels.data[i] ? 1 : 0;
  }
  model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
  const loss = model.evaluate(x, labels, { batchSize: 4 }) as wg.Tensor;
  assertEquals(loss.shape, []);
  assertAlmostEquals((await loss.data())[0], ce / 13, 1e-5);
  model.compile({
    optimizer: "sgd",
    loss: "sparse_categorical_crossentropy",
    metrics: ["acc", "sparse_categorical_accuracy"],
  });
  const [l, acc, acc2] = model.evaluate(x, labels, { batchSize: 5 }) as wg.Tensor[];
  assertAlmostEquals((await l.data())[0], ce / 13, 1e-5);
  assertAlmostEquals((await acc.data())[0], hits / 13, 1e-6);
  assertEquals(await acc2.data(), await acc.data());
  model.dispose();
});

Deno.test("compile takes Keras's names: optimizers with Keras defaults, loss and metric aliases", async () => {
  const model = mlp();
  const expected = {
    sgd: ["sgd", 0.01],
    adam: ["adam", 0.001],
    rmsprop: ["rmsprop", 0.001],
    adagrad: ["adagrad", 0.001],
  };
  for (const [name, [kind, lr]] of Object.entries(expected)) {
    model.compile({ optimizer: name, loss: "mse" });
    assertEquals([model.optimizer!.kind, model.optimizer!.learningRate], [kind, lr]);
  }
  assertEquals(model.optimizer!.config.epsilon, 1e-7);
  assertThrows(
    () => model.compile({ optimizer: "adadelta", loss: "mse" }),
    Error,
    "sgd, adam, rmsprop, adagrad",
  );
  assertThrows(
    () => model.compile({ optimizer: "sgd", loss: "huber" }),
    Error,
    "sparse_categorical_crossentropy",
  );
  assertThrows(() => model.compile({ optimizer: "sgd", loss: "mse", metrics: ["f1"] }), Error, "accuracy");
  const { x, oneHot } = blobs(12, 3);
  function meanProb(_yTrue: wg.Tensor, yPred: wg.Tensor) {
    return wg.mean(yPred, -1);
  }
  model.compile({
    optimizer: "adam",
    loss: "categorical_crossentropy",
    metrics: ["acc", "mae", "mse", meanProb],
  });
  const history = await model.fit(x, oneHot, { epochs: 1, batchSize: 4, verbose: 0 });
  assertEquals(Object.keys(history.history), ["loss", "acc", "mae", "mse", "meanProb"]);
  assertAlmostEquals(history.history.meanProb[0], 1 / 3, 1e-6);
  model.dispose();
});

Deno.test("a model without an input shape builds on first use; summary before that says how to build it", () => {
  const model = wg.sequential({ layers: [wg.layers.dense({ units: 2 }), wg.layers.dense({ units: 1 })] });
  assertEquals(model.built, false);
  assertThrows(() => model.summary(), Error, "give the first layer an inputShape");
  const y = model.predict(wg.ones([3, 5]));
  assertEquals(y.shape, [3, 1]);
  assertEquals(model.built, true);
  assertEquals(model.countParams(), 5 * 2 + 2 + 2 + 1);
  assertThrows(() => model.predict(wg.ones([3, 4])), wg.ShapeError, "expects inputs");
  model.dispose();
});

Deno.test("fit before compile, concurrent fits and bad arguments are clear errors", async () => {
  const model = mlp();
  const { x, labels } = blobs(8, 3);
  await assertRejects(() => model.fit(x, labels), Error, "compile the model first");
  model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
  await assertRejects(() => model.fit(x, labels, { batchSize: 0 }), RangeError, "batchSize");
  await assertRejects(() => model.fit(x, labels, { validationSplit: 1 }), RangeError, "validationSplit");
  await assertRejects(() => model.fit(x, { data: new Int32Array(7), shape: [7] }), wg.ShapeError, "y has 7");
  const first = model.fit(x, labels, { epochs: 2, verbose: 0 });
  await assertRejects(() => model.fit(x, labels, { verbose: 0 }), Error, "another fit");
  await first;
  model.dispose();
});

Deno.test("initialEpoch resumes numbering; stopTraining from a callback ends fit after the batch", async () => {
  const model = mlp();
  model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
  const { x, labels } = blobs(16, 3);
  const resumed = await model.fit(x, labels, { epochs: 4, initialEpoch: 2, verbose: 0 });
  assertEquals(resumed.epoch, [2, 3]);
  let batches = 0;
  const stopped = await model.fit(x, labels, {
    epochs: 5,
    batchSize: 4,
    verbose: 0,
    callbacks: {
      onBatchEnd: (batch) => {
        batches++;
        if (batch === 1) model.stopTraining = true;
      },
    },
  });
  assertEquals([batches, stopped.epoch], [2, [0]]);
  model.dispose();
});
