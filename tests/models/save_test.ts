/**
 * Save / load: model.json (tfjs's layers-model format with Keras's topology
 * and training config) plus weights.safetensors; identical predictions after
 * a round trip; optimizer state restored on request; and every damaged file
 * is a CheckpointFormatError that names the file and the problem, with
 * nothing left allocated.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import * as wg from "./_api.ts";
import { encodeSafetensors } from "../../src/io/safetensors.ts";
import { blobs } from "./_data.ts";

const seeded = (seed: number) => wg.initializers.glorotUniform({ seed });

function cnn(): wg.Sequential {
  return wg.sequential({
    layers: [
      wg.layers.conv2d({
        filters: 4,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        inputShape: [6, 6, 2],
        kernelInitializer: seeded(1),
      }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.averagePooling2d({ poolSize: [1, 3], strides: 1 }),
      wg.layers.flatten(),
      wg.layers.dropout({ rate: 0.25, seed: 2 }),
      wg.layers.dense({ units: 5, activation: "tanh", kernelInitializer: seeded(3) }),
      wg.layers.reshape({ targetShape: [5, 1] }),
      wg.layers.flatten(),
      wg.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(4) }),
    ],
  });
}

async function files(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("save then loadLayersModel: same topology, weights, training config and identical predictions", async () => {
  const dir = await Deno.makeTempDir();
  const model = cnn();
  model.compile({
    optimizer: wg.train.rmsprop(0.003),
    loss: "sparse_categorical_crossentropy",
    metrics: ["acc"],
  });
  const x = wg.randomNormal([7, 6, 6, 2], 0, 1, 9);
  const before = await model.predict(x).data();
  const result = await model.save(`file://${dir}/cnn`);
  assert(result.modelArtifactsInfo.weightDataBytes > 0);
  assertEquals(await files(`${dir}/cnn`), ["model.json", "weights.safetensors"]); // no temp files left

  const json = JSON.parse(await Deno.readTextFile(`${dir}/cnn/model.json`));
  assertEquals(json.format, "layers-model");
  assertEquals(json.modelTopology.class_name, "Sequential");
  assertEquals(
    json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
    [
      "Conv2D",
      "MaxPooling2D",
      "AveragePooling2D",
      "Flatten",
      "Dropout",
      "Dense",
      "Reshape",
      "Flatten",
      "Dense",
    ],
  );
  assertEquals(json.modelTopology.config.layers[0].config.batch_input_shape, [null, 6, 6, 2]);
  assertEquals(json.modelTopology.config.layers[0].config.kernel_size, [3, 3]);
  assertEquals(json.trainingConfig.loss, "sparse_categorical_crossentropy");
  assertEquals(json.trainingConfig.metrics, ["acc"]);
  assertEquals(json.trainingConfig.optimizer_config.class_name, "RMSprop");
  assertEquals(json.weightsManifest[0].paths, ["weights.safetensors"]);

  const loaded = await wg.loadLayersModel(`file://${dir}/cnn/model.json`);
  assertEquals(loaded.name, model.name);
  assertEquals(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
  assertEquals(loaded.countParams(), model.countParams());
  assertEquals(await loaded.predict(x).data(), before);
  assertEquals(loaded.metricsNames, ["loss", "acc"]);
  assertEquals(loaded.optimizer?.kind, "rmsprop");
  assertEquals(loaded.optimizer?.learningRate, 0.003);
  // The saved model's weight variables and the loaded model's live side by side.
  assert(loaded.weights.every((v, i) => v.name !== model.weights[i].name));
  for (const t of [x, model, loaded]) t.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("includeOptimizer: training resumed from a loaded model continues exactly", async () => {
  const dir = await Deno.makeTempDir();
  const { x, labels } = blobs(24, 3);
  const make = () =>
    wg.sequential({
      layers: [
        wg.layers.dense({ units: 8, inputShape: [2], activation: "relu", kernelInitializer: seeded(5) }),
        wg.layers.dense({ units: 3, activation: "softmax", kernelInitializer: seeded(6) }),
      ],
    });
  const model = make();
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
  const fitArgs = { epochs: 2, batchSize: 8, verbose: 0, shuffle: false } as const;
  await model.fit(x, labels, fitArgs);
  await model.save(dir, { includeOptimizer: true });
  const loaded = await wg.loadLayersModel(`${dir}/model.json`);
  assertEquals(loaded.optimizer?.iterations, 6);
  await model.fit(x, labels, fitArgs);
  await loaded.fit(x, labels, fitArgs);
  for (let i = 0; i < model.weights.length; i++) {
    assertEquals(await loaded.weights[i].data(), await model.weights[i].data());
  }
  model.dispose();
  loaded.dispose();
  await Deno.remove(dir, { recursive: true });
});

/** Saves a small model, damages a file with `damage`, and expects loading to fail naming `file` and `part`. */
async function expectDamaged(
  damage: (dir: string) => Promise<void>,
  file: string,
  part: string,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const model = wg.sequential({
    layers: [
      wg.layers.dense({ units: 3, inputShape: [4], activation: "relu" }),
      wg.layers.dense({ units: 2 }),
    ],
  });
  model.compile({ optimizer: "sgd", loss: "mse" });
  await model.save(dir);
  model.dispose();
  await damage(dir);
  const before = wg.memory();
  const error = await assertRejects(
    () => wg.loadLayersModel(`file://${dir}/model.json`),
    wg.CheckpointFormatError,
  );
  assert(error.message.includes(`${dir}/${file}`), `names the file: ${error.message}`);
  assert(error.message.includes(part), `says "${part}": ${error.message}`);
  assertEquals(wg.memory().numTensors, before.numTensors, "a failed load leaves nothing allocated");
  await Deno.remove(dir, { recursive: true });
}

const edit = async (path: string, change: (bytes: Uint8Array) => Uint8Array) =>
  await Deno.writeFile(path, change(await Deno.readFile(path)));

Deno.test("a truncated weights file is a CheckpointFormatError naming it", async () => {
  await expectDamaged(
    (dir) => edit(`${dir}/weights.safetensors`, (b) => b.slice(0, b.length - 10)),
    "weights.safetensors",
    "truncated",
  );
});

Deno.test("a changed weight value (same size) is caught by the recorded SHA-256", async () => {
  await expectDamaged(
    (dir) => edit(`${dir}/weights.safetensors`, (b) => (b[b.length - 1] ^= 0x40, b)),
    "weights.safetensors",
    "SHA-256",
  );
});

Deno.test("a tampered safetensors header is reported by the decoder, before any allocation", async () => {
  await expectDamaged(
    (dir) => edit(`${dir}/weights.safetensors`, (b) => (b.set([0xff, 0xff, 0xff, 0x7f], 0), b)),
    "weights.safetensors",
    "header",
  );
});

Deno.test("without a recorded checksum, a weight of the wrong shape is named with both shapes", async () => {
  await expectDamaged(
    async (dir) => {
      const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
      delete json.weightsManifest[0].sha256;
      delete json.weightsManifest[0].byteLength;
      await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(json));
      const [kernel] = json.modelTopology.config.layers.map((l: { config: { name: string } }) =>
        l.config.name
      );
      await Deno.writeFile(
        `${dir}/weights.safetensors`,
        encodeSafetensors([{
          name: `${kernel}/kernel`,
          dtype: "float32",
          shape: [3, 4],
          data: new Float32Array(12),
        }]),
      );
    },
    "weights.safetensors",
    "[3,4]",
  );
});

Deno.test("a truncated model.json is a CheckpointFormatError naming it", async () => {
  await expectDamaged(
    (dir) => edit(`${dir}/model.json`, (b) => b.slice(0, 40)),
    "model.json",
    "not valid JSON",
  );
});

Deno.test("loads a Keras-style model.json: InputLayer, snake_case config, Keras 3 dtype policies", async () => {
  const dir = await Deno.makeTempDir();
  const policy = { module: "keras", class_name: "DTypePolicy", config: { name: "float32" } };
  const json = {
    format: "layers-model",
    modelTopology: {
      class_name: "Sequential",
      config: {
        name: "keras_model",
        layers: [
          { class_name: "InputLayer", config: { batch_shape: [null, 3], name: "input_layer" } },
          {
            class_name: "Dense",
            config: {
              name: "hidden",
              units: 2,
              activation: "relu",
              use_bias: true,
              dtype: policy,
              kernel_initializer: {
                module: "keras.initializers",
                class_name: "GlorotUniform",
                config: { seed: null },
              },
              kernel_regularizer: null,
            },
          },
        ],
      },
    },
    weightsManifest: [{ paths: ["w.safetensors"], weights: [] }],
  };
  await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(json));
  await Deno.writeFile(
    `${dir}/w.safetensors`,
    encodeSafetensors([
      { name: "hidden/kernel", dtype: "float32", shape: [3, 2], data: new Float32Array([1, 0, 0, 1, 1, -1]) },
      { name: "hidden/bias", dtype: "float32", shape: [2], data: new Float32Array([0.5, 0]) },
    ]),
  );
  const model = await wg.loadLayersModel(`file://${dir}/model.json`);
  assertEquals(model.optimizer, null); // no training config: loaded uncompiled
  const y = model.predict(wg.tensor([[1, 2, 3]]));
  assertEquals([...await y.data()], [4.5, 0]); // relu([1+3, 2-3] + [0.5, 0])
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});
