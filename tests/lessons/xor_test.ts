/**
 * The XOR lesson in Keras's words: Dense(32, relu) + Dense(1, sigmoid)
 * trained with RMSprop learns XOR (what one unit cannot), with MSE as the
 * lesson does and with binary cross-entropy (fused with the sigmoid).
 */
import { assert, assertEquals } from "@std/assert";
import * as wg from "../models/_api.ts";

const INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]];
const TARGETS = [[0], [1], [1], [0]];

for (const loss of ["meanSquaredError", "binaryCrossentropy"]) {
  Deno.test(`XOR: Dense(32, relu) + Dense(1, sigmoid), RMSprop, ${loss}: accuracy 1.0`, async () => {
    const x = wg.tensor(INPUTS);
    const y = wg.tensor(TARGETS);
    const model = wg.sequential({
      layers: [
        wg.layers.dense({
          units: 32,
          inputShape: [2],
          activation: "relu",
          kernelInitializer: wg.initializers.glorotUniform({ seed: 1 }),
        }),
        wg.layers.dense({
          units: 1,
          activation: "sigmoid",
          kernelInitializer: wg.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    model.compile({ optimizer: wg.train.rmsprop(0.01), loss, metrics: ["accuracy"] });
    const history = await model.fit(x, y, { epochs: 200, batchSize: 4, verbose: 0, seed: 1 });
    assertEquals(history.history.accuracy.at(-1), 1);
    const p = await model.predict(x).data();
    assertEquals([...p].map((v) => (v > 0.5 ? 1 : 0)), [0, 1, 1, 0]);
    assert(history.history.loss.at(-1)! < 0.1, `loss ${history.history.loss.at(-1)}`);
    model.dispose();
    x.dispose();
    y.dispose();
  });
}
