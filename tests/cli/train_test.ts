/**
 * `deno task train` end to end, in-process on the built-in gates (each run
 * takes a fraction of a second): the run directory's files, a stop that keeps
 * a loadable checkpoint, and --resume reproducing an uninterrupted run
 * exactly (same weights, same history) because the data order of an epoch
 * depends only on (seed, epoch) and the optimizer state is checkpointed.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import "../_helpers/gpu.ts";
import { loadLayersModel } from "../../mod.ts";
import { EXIT, main, type MainIO } from "../../src/cli/run.ts";
import { decodeSafetensors } from "../../src/io/safetensors.ts";
import { cifarFile } from "../datasets/_fixtures.ts";
import { assertWellFormedXml, polylinePoints } from "./_svg.ts";

/** Runs the CLI in-process; returns its exit status and what it printed. */
async function train(args: string[], io: MainIO = {}): Promise<{ code: number; text: string }> {
  let text = "";
  const code = await main(args, {
    writer: { isTTY: false, write: (t) => void (text += t) },
    handleSignals: false,
    ...io,
  });
  return { code, text };
}

/** The weights of a model file, in order (names differ between processes' layer counters, values must not). */
async function weightsOf(dir: string): Promise<number[][]> {
  const { tensors } = decodeSafetensors(await Deno.readFile(`${dir}/weights.safetensors`), dir);
  return [...tensors.values()].map((t) => [...t.data]);
}

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

async function checkpoints(run: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(`${run}/checkpoints`)) names.push(e.name);
  return names.sort();
}

const tmp = await Deno.makeTempDir({ prefix: "train_cli_" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
/** xor, 4 steps of one example per epoch (so the shuffled order matters), seeded. */
const XOR = ["xor", "--batch-size", "1", "--seed", "7", "--lr", "0.05"];
/** The uninterrupted 4-epoch run the resumed ones must reproduce (run once, by whichever test asks first). */
let wholeRun: Promise<string> | undefined;
function whole(): Promise<string> {
  return wholeRun ??= (async () => {
    const { code, text } = await train([...XOR, "--epochs", "4", "--out", `${tmp}/whole`]);
    assertEquals(code, EXIT.ok, text);
    return `${tmp}/whole`;
  })();
}

Deno.test("xor end to end: progress, test accuracy, and the run directory's files", async () => {
  const out = `${tmp}/xor`;
  const { code, text } = await train(["xor", "--epochs", "40", "--out", out]);
  assertEquals(code, EXIT.ok, text);
  assertStringIncludes(text, "xor: 4 training, 0 validation, 4 test examples");
  assertMatch(
    text,
    /^Epoch 1\/40\n1\/1 \[=+\] - \d+s \d+(ms|us)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/m,
  );
  assertMatch(text, /Test accuracy: \d+\.\d\d% \(\d of 4\), test loss \d\.\d{4}/);

  const model = await loadLayersModel(`${out}/model.json`);
  assertEquals(model.outputShape, [null, 1]);
  model.optimizer?.dispose();
  model.dispose();
  const history = await readJson(`${out}/history.json`);
  assertEquals(history.epoch.length, 40);
  assertEquals(Object.keys(history.history), ["loss", "accuracy"]);
  const svg = await Deno.readTextFile(`${out}/curves.svg`);
  assertWellFormedXml(svg);
  assertEquals(polylinePoints(svg, "train loss").length, 40);
  const report = await Deno.readTextFile(`${out}/report.txt`);
  assertMatch(report, /test accuracy: +\d+\.\d\d% \(\d of 4\)/);
  assertMatch(report, /true \\ predicted +0 +1 +recall\n0 +\d +\d/);
  assertEquals(await checkpoints(out), ["epoch-0040"]);
  const state = await readJson(`${out}/checkpoints/epoch-0040/state.json`);
  assertEquals([state.epochsDone, state.options.epochs, state.options.seed], [40, 40, 0]);
});

Deno.test("the perceptron learns AND; a run directory that holds a run is not overwritten", async () => {
  const out = `${tmp}/and`;
  const first = await train(["and", "--epochs", "60", "--lr", "0.2", "--out", out]);
  assertEquals(first.code, EXIT.ok, first.text);
  assertStringIncludes(first.text, "Test accuracy: 100.00% (4 of 4)");
  const again = await train(["and", "--out", out]);
  assertEquals(again.code, EXIT.usage);
  assertStringIncludes(again.text, `already holds a run: continue it with --resume ${out}`);
  const missing = await train(["--resume", `${tmp}/nothing-here`]);
  assertEquals(missing.code, EXIT.error);
  assertStringIncludes(missing.text, "not a run directory of deno task train (no such directory)");
});

Deno.test("stop after epoch 2 of 4, then --resume: a loadable checkpoint, and the uninterrupted run's result", async () => {
  const parts = `${tmp}/parts`;

  const stop = new AbortController();
  const stopped = await train([...XOR, "--epochs", "4", "--out", parts], {
    signal: stop.signal,
    onEpochEnd: (epoch) => void (epoch === 1 && stop.abort()),
  });
  assertEquals(stopped.code, EXIT.interrupted, stopped.text);
  assertStringIncludes(stopped.text, "Stopped after 2 of 4 epochs.");
  assertStringIncludes(stopped.text, `Continue with: deno task train --resume ${parts}`);
  assertEquals(await checkpoints(parts), ["epoch-0002"]);
  const checkpoint = await loadLayersModel(`${parts}/checkpoints/epoch-0002/model.json`);
  assert(checkpoint.optimizer !== null, "the checkpoint is compiled, with its optimizer");
  checkpoint.optimizer?.dispose();
  checkpoint.dispose();
  assertEquals((await readJson(`${parts}/history.json`)).epoch, [0, 1]);
  assertEquals(await Deno.stat(`${parts}/report.txt`).catch(() => null), null, "no report before the end");

  // What a crash in the middle of writing the next checkpoint leaves: a temporary directory, never an
  // epoch-NNNN one. Resuming ignores it, and the next checkpoint removes it.
  await Deno.mkdir(`${parts}/checkpoints/.epoch-0003.crashed.tmp`);
  await Deno.writeTextFile(`${parts}/checkpoints/.epoch-0003.crashed.tmp/state.json`, "{");
  const resumed = await train(["--resume", parts]);
  assertEquals(resumed.code, EXIT.ok, resumed.text);
  assertStringIncludes(resumed.text, "Resuming after epoch 2");
  assert(!resumed.text.includes("Epoch 2/4"), "epochs 1 and 2 are not trained again");
  assertEquals(await checkpoints(parts), ["epoch-0004"]);
  const reference = await whole();
  assertEquals(await weightsOf(parts), await weightsOf(reference));
  const history = async (dir: string) => (await readJson(`${dir}/history.json`)).history;
  assertEquals(await history(parts), await history(reference));
});

Deno.test("2 epochs, then --resume --epochs 4, equals 4 epochs; a stop inside an epoch drops that epoch", async () => {
  const twoPlusTwo = `${tmp}/two-plus-two`, midEpoch = `${tmp}/mid-epoch`;
  assertEquals((await train([...XOR, "--epochs", "2", "--out", twoPlusTwo])).code, EXIT.ok);
  const more = await train(["--resume", twoPlusTwo, "--epochs", "4"]);
  assertEquals(more.code, EXIT.ok, more.text);
  assertEquals(await weightsOf(twoPlusTwo), await weightsOf(await whole()));

  // Stop during the first step of epoch 3: that partial epoch is not recorded, and resuming redoes it.
  const stop = new AbortController();
  const writer = {
    isTTY: false,
    text: "",
    write(t: string) {
      this.text += t;
      if (t.startsWith("Epoch 3/4")) stop.abort();
    },
  };
  const code = await main([...XOR, "--epochs", "4", "--out", midEpoch], {
    writer,
    signal: stop.signal,
    handleSignals: false,
  });
  assertEquals(code, EXIT.interrupted, writer.text);
  assertStringIncludes(writer.text, "(epoch stopped after 1/4 steps)");
  assertStringIncludes(writer.text, "Stopped after 2 of 4 epochs.");
  assertEquals((await train(["--resume", midEpoch])).code, EXIT.ok);
  assertEquals(await weightsOf(midEpoch), await weightsOf(await whole()));
});

Deno.test("Ctrl-C (SIGINT) in a real process: it stops, keeps a checkpoint, exits 130 and says how to resume", async () => {
  if (Deno.build.os === "windows") return; // no SIGINT to send
  const out = `${tmp}/sigint`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read`,
      `--allow-write=${tmp}`,
      "--allow-env",
      "train.ts",
      "xor",
      "--epochs",
      "100000",
      "--out",
      out,
    ],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let text = "";
  const reader = child.stdout.getReader();
  while (!text.includes("Epoch 1/100000\n1/1 [")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  child.kill("SIGINT");
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
  const { code } = await child.status;
  const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
  assertEquals(code, 130, `${text}\n${stderr}`);
  assertStringIncludes(text, "Ctrl-C: stopping after the current step");
  assertStringIncludes(text, `Continue with: deno task train --resume ${out}`);
  const [latest] = await checkpoints(out);
  const state = await readJson(`${out}/checkpoints/${latest}/state.json`);
  assert(state.epochsDone >= 1, `the checkpoint holds the epochs done: ${state.epochsDone}`);
  const model = await loadLayersModel(`${out}/checkpoints/${latest}/model.json`);
  model.optimizer?.dispose();
  model.dispose();
});

Deno.test("an image dataset: cifar10 from files in --data-dir, validation split, 10x10 confusion", async () => {
  // 5 x 12 training and 10 test images in CIFAR-10's binary format, labels 0-9 in turn.
  const dataDir = `${tmp}/data`, batches = `${dataDir}/cifar-10/cifar-10-batches-bin`;
  await Deno.mkdir(batches, { recursive: true });
  const labels = (n: number) => Array.from({ length: n }, (_, i) => i % 10);
  for (let b = 1; b <= 5; b++) {
    await Deno.writeFile(`${batches}/data_batch_${b}.bin`, cifarFile(labels(12), 12 * b));
  }
  await Deno.writeFile(`${batches}/test_batch.bin`, cifarFile(labels(10), 0));
  const out = `${tmp}/cifar`;
  // The MLP: the first CNN steps on a new input shape compile kernels for tens of seconds on llvmpipe.
  const args = [
    "cifar10",
    "--model",
    "mlp",
    "--epochs",
    "2",
    "--batch-size",
    "16",
    "--data-dir",
    dataDir,
    "--no-download",
  ];
  const { code, text } = await train([...args, "--out", out]);
  assertEquals(code, EXIT.ok, text);
  assertStringIncludes(text, "cifar10: 54 training, 6 validation, 10 test examples");
  assertMatch(text, /^4\/4 \[=+\] .* - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}(e[+-]\d\d)?$/m);
  const report = await Deno.readTextFile(`${out}/report.txt`);
  assertMatch(report, /^0 airplane +(\d+ +){10}/m);
  assertMatch(report, /^9 truck +(\d+ +){10}/m);
  const svg = await Deno.readTextFile(`${out}/curves.svg`);
  assertEquals(polylinePoints(svg, "val accuracy").length, 2);
});
