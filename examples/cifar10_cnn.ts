/**
 * Lesson: colour images and overfitting, TensorFlow's CIFAR-10 CNN tutorial
 * with dropout: three 3x3 convolutions (32, 64, 64 filters) with 2x2 max
 * pooling between them, then Dense(64, relu) and Dense(10, softmax); dropout
 * (0.25 after the convolutions, 0.5 before the output) zeroes random units at
 * each training step, so the network cannot lean on any one of them and the
 * gap between training and validation accuracy shrinks.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run --allow-read --allow-env examples/cifar10_cnn.ts
 *     ... --allow-write=$HOME/.cache/webgpu-deep-learning --allow-net=www.cs.toronto.edu \
 *       examples/cifar10_cnn.ts --download        # fetch the 163 MB archive once
 *
 * It runs when the data is present (in the dataset cache, see datasets/README.md);
 * otherwise it prints how to get it and exits 0. Flags: --epochs (10),
 * --limit N (0 = all), --batch-size (64), --data-dir DIR, --download.
 */
import * as wg from "../mod.ts";
import { DatasetUnavailableError, loadCifar10 } from "../datasets/mod.ts";
import { parseFlags } from "./_args.ts";
import { take } from "./_data.ts";

const flags = parseFlags({ epochs: 10, limit: 0, batchSize: 64, dataDir: "", download: false });

let cifar;
try {
  cifar = await loadCifar10({ download: flags.download, dataDir: flags.dataDir || undefined });
} catch (error) {
  if (!(error instanceof DatasetUnavailableError)) throw error;
  console.log(
    "CIFAR-10 data is not present, so this example does not run.\n" +
      "Get it with --download (and --allow-net=www.cs.toronto.edu plus write access to the cache), " +
      "or put cifar-10-binary.tar.gz in the cache as datasets/README.md says.\n" + error.message,
  );
  Deno.exit(0);
}
const train = take(cifar.train, flags.limit), test = take(cifar.test, flags.limit);
console.log(`CIFAR-10 from ${cifar.source.kind}: ${train.count} train, ${test.count} test`);

const conv = (filters: number, extra = {}) =>
  wg.layers.conv2d({ filters, kernelSize: 3, activation: "relu", ...extra });
const model = wg.sequential({
  layers: [
    conv(32, { inputShape: [32, 32, 3] }), // [N, 30, 30, 32]
    wg.layers.maxPooling2d({ poolSize: 2 }), // [N, 15, 15, 32]
    conv(64), // [N, 13, 13, 64]
    wg.layers.maxPooling2d({ poolSize: 2 }), // [N, 6, 6, 64]
    conv(64), // [N, 4, 4, 64]
    wg.layers.dropout({ rate: 0.25 }),
    wg.layers.flatten(), // [N, 1024]
    wg.layers.dense({ units: 64, activation: "relu" }),
    wg.layers.dropout({ rate: 0.5 }),
    wg.layers.dense({ units: 10, activation: "softmax" }),
  ],
});
model.summary();
model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
await model.fit(train.x, train.y, { epochs: flags.epochs, batchSize: flags.batchSize, validationSplit: 0.1 });
const [loss, accuracy] = (await model.evaluate(test.x, test.y, { batchSize: 500 })) as wg.Tensor[];
console.log(
  `test loss ${(await loss.data())[0].toFixed(4)}, test accuracy ${(await accuracy.data())[0].toFixed(4)}`,
);
