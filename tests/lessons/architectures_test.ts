/**
 * The lessons' models build and report Keras's parameter counts and summary
 * tables: the Fashion-MNIST MLP (Keras: 101,770) and the CIFAR-10 CNN of
 * TensorFlow's tutorial (Keras: 896 for the first Conv2D, 122,570 in all).
 */
import { assertEquals } from "@std/assert";
import * as wg from "../models/_api.ts";

Deno.test("Fashion-MNIST MLP: Flatten(28x28) - Dense(128) - Dropout - Dense(10) has Keras's summary", () => {
  const model = wg.sequential({
    layers: [
      wg.layers.flatten({ inputShape: [28, 28] }),
      wg.layers.dense({ units: 128, activation: "relu" }),
      wg.layers.dropout({ rate: 0.2 }),
      wg.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  assertEquals(model.countParams(), 101_770);
  const lines: string[] = [];
  model.summary(undefined, undefined, (line) => lines.push(line));
  // Keras 2.x prints exactly this (the layer names carry this process's numbering).
  const [flatten, dense, dropout, dense1] = model.layers.map((l) => l.name);
  const row = (name: string, shape: string, params: string) =>
    ` ${name.padEnd(27)} ${shape.padEnd(25)} ${params.padEnd(10)}`;
  assertEquals(lines, [
    `Model: "${model.name}"`,
    "_".repeat(65),
    " Layer (type)                Output Shape              Param #   ",
    "=".repeat(65),
    row(`${flatten} (Flatten)`, "(None, 784)", "0"),
    " ".repeat(65),
    row(`${dense} (Dense)`, "(None, 128)", "100480"),
    " ".repeat(65),
    row(`${dropout} (Dropout)`, "(None, 128)", "0"),
    " ".repeat(65),
    row(`${dense1} (Dense)`, "(None, 10)", "1290"),
    " ".repeat(65),
    "=".repeat(65),
    "Total params: 101,770",
    "Trainable params: 101,770",
    "Non-trainable params: 0",
    "_".repeat(65),
  ]);
  model.dispose();
});

Deno.test("CIFAR-10 CNN: Conv2D(32, 3x3) on 32x32x3 has 896 parameters; the tutorial's CNN 122,570", () => {
  const model = wg.sequential();
  model.add(wg.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [32, 32, 3] }));
  assertEquals(model.countParams(), 896);
  model.add(wg.layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(wg.layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }));
  model.add(wg.layers.maxPooling2d({ poolSize: [2, 2] }));
  model.add(wg.layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }));
  model.add(wg.layers.flatten());
  model.add(wg.layers.dense({ units: 64, activation: "relu" }));
  model.add(wg.layers.dense({ units: 10 }));
  assertEquals(model.layers.map((l) => l.outputShape), [
    [null, 30, 30, 32],
    [null, 15, 15, 32],
    [null, 13, 13, 64],
    [null, 6, 6, 64],
    [null, 4, 4, 64],
    [null, 1024],
    [null, 64],
    [null, 10],
  ]);
  assertEquals(model.layers.map((l) => l.countParams()), [896, 0, 18_496, 0, 36_928, 0, 65_600, 650]);
  assertEquals(model.countParams(), 122_570);
  const lines: string[] = [];
  model.summary(undefined, undefined, (line) => lines.push(line));
  assertEquals(lines.find((l) => l.includes("(Conv2D)"))?.trimEnd().split(/\s{2,}/).slice(1), [
    "(None, 30, 30, 32)",
    "896",
  ]);
  assertEquals(lines.at(-4), "Total params: 122,570");
  model.dispose();
});
