/**
 * Callbacks as Keras runs them: earlyStopping stops when the monitored value
 * stops improving and restores the best epoch's weights; modelCheckpoint
 * saves each epoch or only the best; plain hook objects see every epoch and
 * batch in order.
 */
import { assert, assertEquals } from "@std/assert";
import * as wg from "./_api.ts";
import { formatFilepath } from "../../src/models/callbacks.ts";

/** SGD with a far too large step on y = 2x: the loss grows every epoch from the first. */
function diverging() {
  const model = wg.sequential({
    layers: [wg.layers.dense({ units: 1, inputShape: [1], kernelInitializer: "zeros" })],
  });
  model.compile({ optimizer: wg.train.sgd(1), loss: "mse" });
  const x = wg.tensor([[1], [2], [3]]), y = wg.tensor([[2], [4], [6]]);
  return { model, x, y };
}

Deno.test("earlyStopping(patience 2, restoreBestWeights) stops at epoch 3 and restores epoch 1's weights", async () => {
  const { model, x, y } = diverging();
  let afterFirst: number[][] = [];
  const stopper = wg.callbacks.earlyStopping({ monitor: "loss", patience: 2, restoreBestWeights: true });
  const history = await model.fit(x, y, {
    epochs: 10,
    batchSize: 3,
    verbose: 0,
    callbacks: [
      {
        onEpochEnd: async (epoch) => {
          if (epoch === 0) {
            afterFirst = await Promise.all(model.weights.map(async (w) => [...await w.data()]));
          }
        },
      },
      stopper,
    ],
  });
  assertEquals(history.epoch, [0, 1, 2]);
  const loss = history.history.loss;
  assert(loss[0] < loss[1] && loss[1] < loss[2], `diverging: ${loss}`);
  assertEquals([stopper.stoppedEpoch, stopper.bestEpoch, stopper.best], [2, 0, loss[0]]);
  const restored = await Promise.all(model.weights.map(async (w) => [...await w.data()]));
  assertEquals(restored, afterFirst);
  model.dispose();
});

Deno.test("earlyStopping without restoreBestWeights keeps the last weights; 'acc' keys are maximized", async () => {
  const { model, x, y } = diverging();
  const history = await model.fit(x, y, {
    epochs: 10,
    batchSize: 3,
    verbose: 0,
    callbacks: wg.callbacks.earlyStopping({ monitor: "loss", patience: 1 }),
  });
  assertEquals(history.epoch, [0, 1]);
  assert(model.stopTraining);
  model.stopTraining = false;
  const up = new wg.callbacks.EarlyStopping({ monitor: "val_acc" });
  up.setModel(model);
  up.onTrainBegin();
  up.onEpochEnd(0, { val_acc: 0.5 });
  up.onEpochEnd(1, { val_acc: 0.6 });
  assertEquals([up.best, up.wait, model.stopTraining], [0.6, 0, false]);
  model.dispose();
});

Deno.test("modelCheckpoint saves every epoch under a formatted path, or only improvements", async () => {
  const dir = await Deno.makeTempDir();
  const { model, x, y } = diverging();
  await model.fit(x, y, {
    epochs: 3,
    batchSize: 3,
    verbose: 0,
    callbacks: [
      wg.callbacks.modelCheckpoint({ filepath: `${dir}/all-{epoch:02d}` }),
      wg.callbacks.modelCheckpoint({ filepath: `${dir}/best`, monitor: "loss", saveBestOnly: true }),
    ],
  });
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assertEquals(names.sort(), ["all-01", "all-02", "all-03", "best"]);
  const best = await wg.loadLayersModel(`file://${dir}/best/model.json`);
  const first = await wg.loadLayersModel(`file://${dir}/all-01/model.json`);
  assertEquals(
    await best.weights[0].data(),
    await first.weights[0].data(),
    "the best is epoch 1 (diverging)",
  );
  for (const m of [model, best, first]) m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("plain hook objects: train, epoch and batch hooks in order, with Keras's logs", async () => {
  const { model, x, y } = diverging();
  const calls: string[] = [];
  await model.fit(x, y, {
    epochs: 2,
    batchSize: 2,
    verbose: 0,
    callbacks: {
      onTrainBegin: () => void calls.push("trainBegin"),
      onEpochBegin: (e) => void calls.push(`epochBegin ${e}`),
      onBatchBegin: (b, logs) => void calls.push(`batchBegin ${b} size ${logs?.size}`),
      onBatchEnd: (b) => void calls.push(`batchEnd ${b}`),
      onEpochEnd: (e, logs) => void calls.push(`epochEnd ${e} ${Object.keys(logs!)}`),
      onTrainEnd: () => void calls.push("trainEnd"),
    },
  });
  assertEquals(calls, [
    "trainBegin",
    "epochBegin 0",
    "batchBegin 0 size 2",
    "batchEnd 0",
    "batchBegin 1 size 1",
    "batchEnd 1",
    "epochEnd 0 loss",
    "epochBegin 1",
    "batchBegin 0 size 2",
    "batchEnd 0",
    "batchBegin 1 size 1",
    "batchEnd 1",
    "epochEnd 1 loss",
    "trainEnd",
  ]);
  model.dispose();
});

Deno.test("checkpoint paths are formatted like Python's str.format", () => {
  assertEquals(formatFilepath("m-{epoch:02d}-{val_loss:.2f}", 3, { val_loss: 0.12345 }), "m-03-0.12");
  assertEquals(formatFilepath("m-{epoch}-{missing}", 12, {}), "m-12-{missing}");
});
