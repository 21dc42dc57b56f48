/**
 * The perceptron lessons: one linear unit trained with SGD on the mean
 * squared error learns AND, OR and NAND (thresholded at 0.5, which is what
 * Keras's binary accuracy does), and cannot learn XOR: no line separates
 * its classes, so its accuracy stays at or below 0.75.
 */
import { assert, assertEquals } from "@std/assert";
import * as wg from "../models/_api.ts";

const INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]];
const GATES: Record<string, number[]> = {
  AND: [0, 0, 0, 1],
  OR: [0, 1, 1, 1],
  NAND: [1, 1, 1, 0],
  XOR: [0, 1, 1, 0],
};

/** Trains one linear unit on a gate; returns the final accuracy and the thresholded predictions. */
async function trainUnit(targets: number[], epochs: number) {
  const x = wg.tensor(INPUTS);
  const y = wg.tensor(targets.map((t) => [t]));
  const model = wg.sequential({
    layers: [
      wg.layers.dense({
        units: 1,
        inputShape: [2],
        kernelInitializer: wg.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
  model.compile({ optimizer: wg.train.sgd(0.2), loss: "meanSquaredError", metrics: ["accuracy"] });
  const history = await model.fit(x, y, { epochs, batchSize: 4, verbose: 0, seed: 1 });
  const predictions = [...await model.predict(x).data()].map((p) => (p > 0.5 ? 1 : 0));
  model.dispose();
  x.dispose();
  y.dispose();
  return { accuracy: history.history.accuracy.at(-1)!, loss: history.history.loss, predictions };
}

for (const gate of ["AND", "OR", "NAND"]) {
  Deno.test(`one linear unit, SGD + MSE, learns ${gate}`, async () => {
    const { accuracy, loss, predictions } = await trainUnit(GATES[gate], 150);
    assertEquals(predictions, GATES[gate]);
    assertEquals(accuracy, 1);
    assert(loss.at(-1)! < loss[0], `the loss should fall: ${loss[0]} → ${loss.at(-1)}`);
  });
}

Deno.test("one linear unit cannot learn XOR: accuracy stays at or below 0.75", async () => {
  const { accuracy, loss } = await trainUnit(GATES.XOR, 150);
  assert(accuracy <= 0.75, `accuracy ${accuracy}`);
  // The least-squares line is the constant 0.5: the loss cannot go below 0.25.
  assert(loss.at(-1)! > 0.24, `loss ${loss.at(-1)}`);
});
