/**
 * No allocation in steady state (DESIGN.md rule 2): 1000 training steps of a
 * small MLP, written with the low-level API, keep tensor bytes and GPU buffers
 * flat, and each step is exactly one submit (rule 1).
 */
import { assert, assertEquals } from "@std/assert";
import { rt } from "./_helpers/gpu.ts";
import * as wg from "../mod.ts";
import { gemmConfig } from "../shaders/matmul.ts";

// B = batch, D = input features, H = hidden units, C = classes.
const B = 8, D = 4, H = 16, C = 3;
const STEPS = 1000;
const LR = 0.1;

Deno.test("1000 MLP steps: numBytes and GPU buffers are the same after step 10 and step 1000", async () => {
  const x = wg.randomNormal([B, D], 0, 1, 11);
  const labels = wg.tensor([0, 1, 2, 0, 1, 2, 0, 1], undefined, "int32");
  const vars = wg.tidy(() => [
    wg.variable(wg.randomNormal([D, H], 0, 0.5, 1), true, "mlp/W1"),
    wg.variable(wg.zeros([H]), true, "mlp/b1"),
    wg.variable(wg.randomNormal([H, C], 0, 0.5, 2), true, "mlp/W2"),
    wg.variable(wg.zeros([C]), true, "mlp/b2"),
  ]);
  const [w1, b1, w2, b2] = vars;
  const before = wg.memory();

  // loss = mean sparse CE of relu(x·W1 + b1)·W2 + b2
  const loss = () => {
    const h = wg.relu(wg.add(wg.matMul(x, w1), b1));
    return wg.losses.sparseSoftmaxCrossEntropy(labels, wg.add(wg.matMul(h, w2), b2));
  };
  /** One SGD step, recorded but not awaited; returns the loss (on the GPU). */
  const step = (): wg.Tensor =>
    wg.tidy(() => {
      const { value, grads } = wg.variableGrads(loss); // all trainable variables
      for (const v of vars) v.assign(wg.sub(v, wg.mul(grads[v.name], LR)));
      return value;
    });

  let firstLoss: wg.Tensor | undefined;
  let lastLoss: wg.Tensor | undefined;
  let atStep10: wg.MemoryInfo | undefined;
  const submitsPerStep = new Set<number>();
  wg.flush();
  const start = performance.now();
  for (let i = 1; i <= STEPS; i++) {
    const submits = rt.submits;
    const value = step();
    wg.flush();
    submitsPerStep.add(rt.submits - submits);
    // Hold the first loss and this step's loss; free the previous step's.
    if (i === 1) firstLoss = value;
    else {
      if (lastLoss !== firstLoss) lastLoss?.dispose();
      lastLoss = value;
    }
    if (i === 10) atStep10 = wg.memory();
  }
  const ms = performance.now() - start;
  const atEnd = wg.memory();

  assertEquals([...submitsPerStep], [1], "every step is exactly one submit");
  assertEquals(atEnd.numBytes, atStep10!.numBytes, "tensor bytes after step 10 vs step 1000");
  assertEquals(atEnd.numGPUBuffers, atStep10!.numGPUBuffers, "GPU buffers after step 10 vs step 1000");
  assertEquals(atEnd.numGPUBytes, atStep10!.numGPUBytes);
  assertEquals(atEnd.numTextureBytes, atStep10!.numTextureBytes);
  assertEquals(atEnd.numTensors, atStep10!.numTensors);
  // The variables, the first and the last loss: nothing else survives a step.
  assertEquals(atEnd.numTensors, before.numTensors + 2);
  assertEquals(atEnd.numBytes, before.numBytes + 8);

  // It really trained (read once, at the end): 8 points, 3 classes, memorized.
  const first = (await firstLoss!.array()) as number;
  const last = (await lastLoss!.array()) as number;
  assert(Number.isFinite(first) && Number.isFinite(last), `losses ${first}, ${last}`);
  assert(last < first / 4, `loss went from ${first} to ${last}`);
  console.log(
    `${STEPS} steps in ${ms.toFixed(0)} ms (${(ms / STEPS).toFixed(2)} ms/step); ` +
      `loss ${first.toFixed(3)} -> ${last.toFixed(4)}`,
  );

  for (const t of [x, labels, firstLoss!, lastLoss!, ...vars]) t.dispose();
  assertEquals(wg.memory().numTensors, before.numTensors - 6);
});

Deno.test("Adam steps through the texture GEMM: texture and buffer bytes stop growing after the first steps", async () => {
  gemmConfig.path = "texture8x16";
  try {
    const x = wg.randomNormal([8, 16], 0, 1, 3);
    const w = wg.variable(wg.randomNormal([16, 4], 0, 0.5, 4), true, "texture_memory/w");
    const optimizer = wg.train.adam(0.01);
    const copies = rt.textureCopies;
    let atStep10: wg.MemoryInfo | undefined;
    for (let i = 1; i <= 100; i++) {
      optimizer.minimize(() => wg.mean(wg.square(wg.matMul(x, w)))); // one submit
      if (i === 10) atStep10 = wg.memory();
    }
    const atEnd = wg.memory();
    assert(rt.textureCopies - copies >= 100 * 3, "the GEMM and Adam read texture copies every step");
    assert(atEnd.numTextureBytes > 0);
    assertEquals(atEnd.numTextureBytes, atStep10!.numTextureBytes, "texture bytes after step 10 vs 100");
    assertEquals(atEnd.numGPUBytes, atStep10!.numGPUBytes);
    assert((await w.data()).every(Number.isFinite)); // a readback also surfaces any WebGPU validation error
    w.dispose();
    x.dispose();
    optimizer.dispose();
  } finally {
    gemmConfig.path = "auto";
  }
});
