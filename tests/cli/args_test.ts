/**
 * The CLI's command line: defaults per dataset, every flag, the errors a
 * mistyped command gets (naming the flag and what it takes), and --help.
 * No GPU needed.
 */
import { assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import {
  type Command,
  DATASETS,
  helpText,
  OPTIMIZERS,
  parseCommand,
  resolveOptions,
  UsageError,
} from "../../src/cli/args.ts";
import { scheduleCallback } from "../../src/cli/models.ts";
import * as wg from "../../mod.ts";

function train(args: string[]): Extract<Command, { kind: "train" }> {
  const command = parseCommand(args);
  if (command.kind !== "train") throw new Error(`expected a run, got ${command.kind}`);
  return command;
}

function usageError(args: string[]): string {
  return assertThrows(() => {
    const c = parseCommand(args);
    if (c.kind === "train" && c.dataset) resolveOptions(c.dataset, c.given);
  }, UsageError).message;
}

Deno.test("defaults: mnist trains the Keras CNN; --model mlp the 784-128-10 MLP; gates their lesson models", () => {
  const c = train(["mnist"]);
  assertEquals(c.location, { out: null, resume: null, dataDir: null, download: true });
  assertEquals(resolveOptions("mnist", c.given), {
    dataset: "mnist",
    model: "cnn",
    epochs: 4,
    batchSize: 128,
    lr: 0.004,
    lrSchedule: "cosine",
    optimizer: "adam",
    validationSplit: 0.1,
    seed: 0,
    limit: null,
  });
  const mlp = resolveOptions("mnist", { model: "mlp" });
  assertEquals([mlp.epochs, mlp.batchSize, mlp.lr, mlp.lrSchedule], [10, 256, 0.006, "cosine"]);
  assertEquals(resolveOptions("and", {}).lrSchedule, "constant");
  assertEquals(resolveOptions("xor", {}).model, "mlp");
  for (const gate of ["and", "or", "nand"] as const) {
    const o = resolveOptions(gate, {});
    assertEquals([o.model, o.batchSize, o.validationSplit], ["perceptron", 4, 0]);
  }
  // Another optimizer without --lr gets that optimizer's usual rate.
  assertEquals(resolveOptions("mnist", { optimizer: "sgd" }).lr, 0.01);
});

Deno.test("every flag, in both --flag value and --flag=value forms", () => {
  const c = train([
    "fashion-mnist",
    "--model=mlp",
    "--epochs",
    "3",
    "--batch-size",
    "64",
    "--learning-rate",
    "0.01",
    "--optimizer",
    "RMSprop",
    "--lr-schedule=constant",
    "--validation-split",
    "0.2",
    "--seed",
    "42",
    "--limit",
    "1000",
    "--out",
    "runs/x",
    "--data-dir",
    "/data",
    "--no-download",
  ]);
  assertEquals(c.dataset, "fashion-mnist");
  assertEquals(c.given, {
    model: "mlp",
    epochs: 3,
    batchSize: 64,
    lr: 0.01,
    optimizer: "rmsprop",
    lrSchedule: "constant",
    validationSplit: 0.2,
    seed: 42,
    limit: 1000,
  });
  assertEquals(c.location, { out: "runs/x", resume: null, dataDir: "/data", download: false });
  assertEquals(train(["Fashion_MNIST"]).dataset, "fashion-mnist");
  assertEquals(train(["cifar-10"]).dataset, "cifar10");
});

Deno.test("--resume: the dataset is optional; only --epochs, --data-dir and --no-download may change", () => {
  const c = train(["--resume", "runs/a", "--epochs", "20"]);
  assertEquals([c.dataset, c.location.resume, c.given], [null, "runs/a", { epochs: 20 }]);
  const message = usageError(["--resume", "runs/a", "--lr", "0.1", "--out", "b"]);
  assertStringIncludes(message, "--lr, --out");
});

Deno.test("mistakes name the flag and what it takes", () => {
  const cases: [string[], RegExp][] = [
    [[], /which dataset\? expected one of mnist, fashion-mnist, cifar10, xor, and, or, nand/],
    [["mnst"], /unknown dataset 'mnst'/],
    [["mnist", "xor"], /one dataset at a time/],
    [["mnist", "--epoch", "3"], /unknown option --epoch, did you mean --epochs\?/],
    [["mnist", "--batch_size", "3"], /unknown option --batch_size, did you mean --batch-size\?/],
    [["mnist", "--epochs", "0"], /--epochs: expected an integer at least 1, got '0'/],
    [["mnist", "--epochs", "2.5"], /--epochs: expected an integer at least 1, got '2.5'/],
    [["mnist", "--epochs"], /--epochs needs a value/],
    [["mnist", "--lr", "fast"], /--lr: expected a positive number, got 'fast'/],
    [["mnist", "--validation-split", "1"], /--validation-split: expected a number in \[0, 1\), got '1'/],
    [["mnist", "--model", "resnet"], /--model: expected one of cnn, mlp, perceptron, got 'resnet'/],
    [["mnist", "--optimizer", "lbfgs"], new RegExp(`expected one of ${OPTIMIZERS.join(", ")}`)],
    [["mnist", "--lr-schedule", "step"], /--lr-schedule: expected one of constant, cosine, got 'step'/],
    [["mnist", "--epochs", "2", "--epochs", "3"], /--epochs is given 2 times/],
    [["xor", "--model", "cnn"], /--model cnn needs images/],
  ];
  for (const [args, expected] of cases) assertMatch(usageError(args), expected, args.join(" "));
  // Several mistakes are reported together.
  assertEquals(usageError(["mnist", "--epochs", "x", "--seed", "y"]).split("\n").length, 2);
});

Deno.test("--help and -h list the datasets, every flag and the defaults", () => {
  assertEquals(parseCommand(["--help"]), { kind: "help" });
  assertEquals(parseCommand(["mnist", "-h"]), { kind: "help" });
  const text = helpText();
  for (const dataset of DATASETS) assertStringIncludes(text, dataset);
  for (
    const flag of [
      "--model",
      "--epochs",
      "--batch-size",
      "--lr",
      "--optimizer",
      "--validation-split",
      "--lr-schedule",
      "--seed",
      "--out",
      "--resume",
      "--limit",
      "--data-dir",
      "--no-download",
      "--help",
    ]
  ) assertStringIncludes(text, flag);
  assertStringIncludes(text, "cnn: 4 epochs, batch 128, adam lr 0.004 (cosine), validation 0.1");
  assertStringIncludes(text, "cnn: 12 epochs, batch 128, adam lr 0.002 (cosine), validation 0.1");
  assertStringIncludes(text, "mlp: 10 epochs, batch 256, adam lr 0.006 (cosine), validation 0.1");
});

Deno.test("--lr-schedule cosine: lr at the first step, half of it halfway, near 0 at the last; constant stays", () => {
  // 2 epochs of 2 steps: steps 0..3 of 4.
  const rates = (lrSchedule: "constant" | "cosine") => {
    const options = resolveOptions("mnist", { model: "mlp", epochs: 2, lr: 0.2, lrSchedule });
    const model = { optimizer: wg.train.sgd(1) };
    const callback = scheduleCallback(options, 2, model);
    return [0, 1].flatMap((epoch) => {
      callback.onEpochBegin!(epoch);
      return [0, 1].map((batch) => {
        callback.onBatchBegin!(batch);
        return Number(model.optimizer.learningRate.toFixed(6));
      });
    });
  };
  assertEquals(rates("cosine"), [0.2, 0.170711, 0.1, 0.029289]);
  assertEquals(rates("constant"), [0.2, 0.2, 0.2, 0.2]);
});
