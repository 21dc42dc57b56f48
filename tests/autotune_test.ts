/**
 * Autotuning (src/gpu/autotune.ts): a large product waits for `tune()`, which
 * picks a winner that computes the same product; winners persist in a file
 * store keyed by adapter; a candidate that fails validation is never chosen.
 */
import { assert, assertEquals } from "@std/assert";
import * as wg from "../mod.ts";
import { GEMM_PLANS } from "../shaders/matmul.ts";
import { adapterKey, resetTuning, tune, tunedChoice, tuningPending } from "../src/gpu/autotune.ts";
import type { Kernel } from "../src/gpu/kernel.ts";
import { runtime } from "../src/gpu/runtime.ts";

/** 128³ = 2²¹: tuned (from 2¹⁸), against every GEMM (from 2²⁰). Small integers keep every sum exact. */
function operands(): [wg.Tensor, wg.Tensor] {
  const a = wg.tensor(Float32Array.from({ length: 128 * 128 }, (_, i) => (i * 7) % 5 - 2), [128, 128]);
  const b = wg.tensor(Float32Array.from({ length: 128 * 128 }, (_, i) => (i * 3) % 7 - 3), [128, 128]);
  return [a, b];
}

Deno.test("tune: a large product waits, gets a winner among the GEMMs, and computes the same result", async () => {
  resetTuning();
  const [a, b] = operands();
  const before = await wg.matMul(a, b).data(); // the untuned default
  assert(tuningPending());
  assertEquals(await tune(), 1);
  assert(!tuningPending());
  const table = wg.tuningTable();
  assertEquals(Object.keys(table), ["gemm/nn/1/128x128x128"]);
  assert((GEMM_PLANS as readonly string[]).includes(table["gemm/nn/1/128x128x128"]));
  assertEquals([...await wg.matMul(a, b).data()], [...before]);
  assert(!tuningPending(), "a tuned class does not wait again");
  a.dispose();
  b.dispose();
  resetTuning();
});

Deno.test("useTuningStore: winners persist per adapter, and a new process (reset) reuses them", async () => {
  resetTuning();
  const path = `${await Deno.makeTempDir()}/cache/tuning.json`;
  await wg.useTuningStore(wg.fileTuningStore(path));
  const [a, b] = operands();
  wg.matMul(a, b).dispose();
  await tune();
  const stored = JSON.parse(await Deno.readTextFile(path));
  assertEquals(Object.keys(stored), [adapterKey()]);
  assertEquals(stored[adapterKey()], wg.tuningTable());

  resetTuning();
  await wg.useTuningStore(wg.fileTuningStore(path));
  assertEquals(wg.tuningTable(), stored[adapterKey()]);
  wg.matMul(a, b).dispose();
  assert(!tuningPending(), "a stored winner is used without tuning");
  a.dispose();
  b.dispose();
  await wg.useTuningStore(null);
  resetTuning();
});

Deno.test("fileTuningStore: a corrupt or missing file reads as empty; saving replaces it whole", async () => {
  const dir = await Deno.makeTempDir();
  const store = wg.fileTuningStore(`${dir}/tuning.json`);
  assertEquals(await store.load("x"), {});
  await Deno.writeTextFile(`${dir}/tuning.json`, '{"x": {"gemm": "stor');
  assertEquals(await store.load("x"), {});
  await store.save("x", { gemm: "storage" });
  assertEquals(await store.load("x"), { gemm: "storage" });
});

Deno.test("tune: a candidate whose pipeline fails validation is never the winner", async () => {
  resetTuning();
  const broken: Kernel = {
    name: "autotune_test_broken",
    uniforms: [],
    bindings: () => [{ name: "o", type: "f32", access: "read_write" }],
    source: () => "@compute @workgroup_size(1) fn main() { o[0] = no_such_value; }",
  };
  const fine: Kernel = {
    ...broken,
    name: "autotune_test_fine",
    source: () => "@compute @workgroup_size(1) fn main() { o[0] = 1.0; }",
  };
  const out = wg.zeros([4]);
  const choice = tunedChoice("test/broken-first", "fine", () => ({
    candidates: ["broken", "fine"],
    reps: 1,
    setup: () => ({
      run: (c) => runtime().dispatch(c === "broken" ? broken : fine, undefined, [out.buffer], {}, [1]),
      dispose: () => {},
    }),
  }));
  assertEquals(choice, "fine");
  await tune();
  assertEquals(wg.tuningTable()["test/broken-first"], "fine");
  assertEquals([...await out.data()], [1, 0, 0, 0]);
  out.dispose();
  resetTuning();
});

Deno.test("tune: a large conv2d picks texture or uniform-block kernels; both give the same exact result", async () => {
  resetTuning();
  // Small integers: every sum is exact in float32, whatever the order.
  const ints = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * seed) % 5) - 2);
  const x = wg.tensor(ints(4 * 16 * 16 * 16, 7), [4, 16, 16, 16]);
  const filter = wg.tensor(ints(3 * 3 * 16 * 16, 3), [3, 3, 16, 16]);
  const conv = () => wg.conv2d(x, filter, 1, "same");
  const untuned = await conv().data();
  assert(tuningPending());
  await tune();
  const table = wg.tuningTable();
  const key = Object.keys(table).find((k) => k.startsWith("conv/"));
  assert(key !== undefined && ["texture", "uniform"].includes(table[key]), JSON.stringify(table));
  assertEquals([...await conv().data()], [...untuned]);
  for (const t of [x, filter]) t.dispose();
  resetTuning();
});

Deno.test("a tuned winner that cannot take a product of its class is not used for it (the uniform GEMM)", async () => {
  // Class gemm/tn/1/1024x128x32 holds dW = xᵀ·dy of a 784-input layer for batches of 17 to 32; at 20 both
  // operands fit a 64 KiB uniform window, at 32 x (25,088 floats) does not.
  resetTuning();
  await wg.useTuningStore({
    load: () => Promise.resolve({ "gemm/tn/1/1024x128x32": "uniform" }),
    save: () => Promise.resolve(),
  });
  const [K, M, N] = [32, 784, 128];
  const x = Float32Array.from({ length: K * M }, (_, i) => (i * 7) % 5 - 2);
  const dy = Float32Array.from({ length: K * N }, (_, i) => (i * 3) % 7 - 3);
  const want = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += x[k * M + m] * dy[k * N + n];
      want[m * N + n] = sum; // small integers: exact
    }
  }
  const [a, b] = [wg.tensor(x, [K, M]), wg.tensor(dy, [K, N])];
  assertEquals(await wg.matMul(a, b, true, false).data(), want);
  assert(!tuningPending(), "the stored winner was taken for the class");
  a.dispose();
  b.dispose();
  await wg.useTuningStore(null);
  resetTuning();
});
