/**
 * fit's progress output looks like Keras's: an epoch header, the bar with
 * steps, time and per-step time, then the metrics; redrawn in place on a
 * terminal, one line per epoch otherwise; verbose 2 prints one summary line.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import * as wg from "./_api.ts";
import { formatTimePerUnit, formatValue, Progress } from "../../src/models/progress.ts";
import { blobs } from "./_data.ts";

function capture(isTTY: boolean): wg.ProgressWriter & { text: string } {
  return {
    isTTY,
    text: "",
    write(t: string) {
      this.text += t;
    },
  };
}

async function fitWith(writer: wg.ProgressWriter, verbose: 1 | 2, validationSplit = 0) {
  const { x, labels } = blobs(40, 2);
  const model = wg.sequential({
    layers: [
      wg.layers.dense({
        units: 2,
        inputShape: [2],
        activation: "softmax",
        kernelInitializer: wg.initializers.glorotUniform({ seed: 1 }),
      }),
    ],
  });
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  await model.fit(x, labels, { epochs: 2, batchSize: 8, verbose, writer, validationSplit });
  model.dispose();
}

/** Keras prints 4 decimals, or scientific notation below 1e-3 (e.g. an accuracy of 0: 0.0000e+00). */
const NUM = String.raw`\d+\.\d{4}(e[+-]\d{2})?`;

Deno.test("verbose 1 off a terminal: 'Epoch i/n' and one Keras progress line per epoch", async () => {
  const writer = capture(false);
  await fitWith(writer, 1, 0.2);
  const lines = writer.text.split("\n");
  assertEquals(lines.length, 5);
  assertEquals(lines[0], "Epoch 1/2");
  assertEquals(lines[2], "Epoch 2/2");
  assertEquals(lines[4], "");
  for (const line of [lines[1], lines[3]]) {
    assertMatch(
      line,
      new RegExp(
        String.raw`^4/4 \[={30}\] - \d+s \d+(ms|us|s)/step - loss: ${NUM} - accuracy: ${NUM} - ` +
          String.raw`val_loss: ${NUM} - val_accuracy: ${NUM}$`,
      ),
    );
  }
});

Deno.test("verbose 1 on a terminal: the bar is redrawn with a carriage return and ends with a newline", () => {
  const writer = capture(true);
  const progress = new Progress(writer, 1, 1, 1875);
  progress.epochBegin(0);
  progress.update(32, { loss: 2.3, accuracy: 0.1 });
  progress.update(1000, { loss: 0.5, accuracy: 0.85 });
  progress.epochEnd({ loss: 0.0643, accuracy: 0.9799 });
  const frames = writer.text.split("\r").slice(1);
  assertEquals(frames.length, 3);
  assertMatch(frames[0], /^ {2}32\/1875 \[\.{30}\] - ETA: \d+s - loss: 2\.3000 - accuracy: 0\.1000$/);
  assertMatch(frames[1], /^1000\/1875 \[={15}>\.{14}\] - ETA: /);
  assertMatch(
    frames[2],
    /^1875\/1875 \[={30}\] - \d+s \d+(us|ms)\/step - loss: 0\.0643 - accuracy: 0\.9799 *\n$/,
  );
  assert(frames[2].length >= frames[1].length, "a shorter line is padded over the previous one");
  assert(!writer.text.includes("Epoch"), "one epoch: no header, as Keras");
});

Deno.test("verbose 2: one line per epoch with time per epoch and per step", async () => {
  const writer = capture(true);
  await fitWith(writer, 2);
  const lines = writer.text.trimEnd().split("\n");
  assertEquals(lines.length, 4);
  assertMatch(
    lines[1],
    new RegExp(String.raw`^5/5 - \d+s - loss: ${NUM} - accuracy: ${NUM} - \d+m?s/epoch - \d+(ms|us)/step$`),
  );
});

Deno.test("values and times are formatted as Keras formats them", () => {
  assertEquals(formatValue(0.06434), "0.0643");
  assertEquals(formatValue(0.00001234), "1.2340e-05");
  assertEquals(formatValue(NaN), "nan");
  assertEquals(formatTimePerUnit(0.002, "step"), " 2ms/step");
  assertEquals(formatTimePerUnit(3, "epoch"), " 3s/epoch");
  assertEquals(formatTimePerUnit(0.0005, "step"), " 500us/step");
});
