/**
 * Losses and metrics: the fused paths (softmax / sigmoid folded into the
 * cross-entropy on logits) give Keras's values and gradients, the
 * probability-space losses match a float64 transcription of Keras's (clipping
 * included), and the accuracy Keras picks from the shapes.
 */
import { assertAlmostEquals, assertEquals } from "@std/assert";
import * as wg from "./_api.ts";
import { binaryCrossentropy, categoricalCrossentropy } from "../../src/models/losses.ts";
import { accuracyKind } from "../../src/models/metrics.ts";
import { blobs } from "./_data.ts";

const seeded = (seed: number) => wg.initializers.glorotUniform({ seed });

function model(units: number, activation: string) {
  return wg.sequential({
    layers: [
      wg.layers.dense({ units: 5, inputShape: [2], activation: "relu", kernelInitializer: seeded(1) }),
      wg.layers.dense({ units, activation, kernelInitializer: seeded(2) }),
    ],
  });
}

/** Named so that fit cannot recognize them: the loss runs on probabilities, unfused. */
const unfused = {
  categorical: (y: wg.Tensor, p: wg.Tensor) => categoricalCrossentropy(y, p),
  sparse: (y: wg.Tensor, p: wg.Tensor) => categoricalCrossentropy(wg.oneHot(y, p.shape[1]), p),
  binary: (y: wg.Tensor, p: wg.Tensor) => binaryCrossentropy(y, p),
};

for (
  const [loss, units, activation, labels, reference] of [
    ["categoricalCrossentropy", 3, "softmax", "oneHot", unfused.categorical],
    ["sparseCategoricalCrossentropy", 3, "softmax", "labels", unfused.sparse],
    ["binaryCrossentropy", 1, "sigmoid", "binary", unfused.binary],
  ] as const
) {
  Deno.test(`${loss} after ${activation} (fused on the logits) equals Keras's loss on probabilities, and trains alike`, async () => {
    const data = blobs(24, 3);
    const y = labels === "binary"
      ? { data: Float32Array.from(data.labels.data, (c) => (c === 0 ? 1 : 0)), shape: [24, 1] }
      : data[labels];
    const fused = model(units, activation), plain = model(units, activation);
    fused.compile({ optimizer: wg.train.sgd(0.5), loss });
    plain.compile({ optimizer: wg.train.sgd(0.5), loss: reference });
    const [a, b] = [fused.evaluate(data.x, y) as wg.Tensor, plain.evaluate(data.x, y) as wg.Tensor];
    assertAlmostEquals((await a.data())[0], (await b.data())[0], 1e-5);
    const args = { epochs: 2, batchSize: 8, verbose: 0, shuffle: false } as const;
    const [ha, hb] = [await fused.fit(data.x, y, args), await plain.fit(data.x, y, args)];
    ha.history.loss.forEach((v, i) => assertAlmostEquals(v, hb.history.loss[i], 1e-4));
    for (let i = 0; i < fused.weights.length; i++) {
      const [wa, wb] = [await fused.weights[i].data(), await plain.weights[i].data()];
      wa.forEach((v, j) => assertAlmostEquals(v, wb[j], 1e-4));
    }
    fused.dispose();
    plain.dispose();
  });
}

Deno.test("the fused softmax cross-entropy stays finite for logits of 1e4", async () => {
  const m = wg.sequential({
    layers: [wg.layers.dense({ units: 2, inputShape: [1], activation: "softmax", useBias: false })],
  });
  m.setWeights([wg.tensor([[1e4, -1e4]])]);
  m.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy", metrics: ["acc"] });
  const [loss, acc] = m.evaluate(wg.tensor([[1], [1]]), wg.tensor([0, 1], [2], "int32")) as wg.Tensor[];
  assertEquals((await loss.data())[0], 1e4); // -log softmax = 2e4 for the wrong row, 0 for the right one
  assertEquals((await acc.data())[0], 0.5);
  m.dispose();
});

Deno.test("probability-space losses match Keras's formulas, clipping to [1e-7, 1 - 1e-7] included", async () => {
  const p = [[0.7, 0.2, 0.1], [0, 1, 0]], y = [[1, 0, 0], [1, 0, 0]];
  const eps = 1e-7;
  // In float32, as Keras computes it: 1 - 1e-7 rounds to 1 - 1.19e-7.
  const f = Math.fround;
  const clip = (v: number) => Math.min(Math.max(v, f(eps)), f(1 - eps));
  const cce = -(Math.log(0.7) + Math.log(clip(0))) / 2;
  assertAlmostEquals((await categoricalCrossentropy(wg.tensor(y), wg.tensor(p)).data())[0], cce, 1e-4);
  const bp = [[0.9], [0], [1]], by = [[1], [1], [0]];
  const bce = -by.reduce((s, [t], i) => {
    const q = clip(bp[i][0]);
    return s + t * Math.log(f(q + eps)) + (1 - t) * Math.log(f(f(1 - q) + eps));
  }, 0) / 3;
  assertAlmostEquals((await binaryCrossentropy(wg.tensor(by), wg.tensor(bp)).data())[0], bce, 1e-4);
});

Deno.test("metrics: per-example accuracies, and the one 'accuracy' means, chosen from the shapes as Keras does", async () => {
  const rows = async (t: wg.Tensor) => [...await t.data()];
  assertEquals(
    await rows(wg.metrics.binaryAccuracy(wg.tensor([[1, 0], [0, 0]]), wg.tensor([[0.6, 0.7], [0.2, 0.5]]))),
    [0.5, 1],
  );
  assertEquals(
    await rows(
      wg.metrics.categoricalAccuracy(
        wg.tensor([[0, 1, 0], [1, 0, 0]]),
        wg.tensor([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]),
      ),
    ),
    [1, 0],
  );
  assertEquals(
    await rows(
      wg.metrics.sparseCategoricalAccuracy(
        wg.tensor([1, 2], [2], "int32"),
        wg.tensor([[0.1, 0.8, 0.1], [0.5, 0.3, 0.2]]),
      ),
    ),
    [1, 0],
  );
  assertEquals(await rows(wg.metrics.meanAbsoluteError(wg.tensor([[1, 2]]), wg.tensor([[2, 4]]))), [1.5]);
  assertEquals(accuracyKind([10, 1], [null, 1]), "binary");
  assertEquals(accuracyKind([10], [null, 5]), "sparse");
  assertEquals(accuracyKind([10, 1], [null, 5]), "sparse");
  assertEquals(accuracyKind([10, 5], [null, 5]), "categorical");
});
