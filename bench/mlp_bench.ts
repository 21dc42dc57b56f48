/**
 * One training step of the 784-128-10 MLP at batch 128 (forward, backward,
 * SGD update) with the low-level API, the way the lessons write it. The step
 * records into one command encoder and submits once; nothing is read back.
 */
import { tune } from "../src/gpu/autotune.ts";
import { ready } from "../src/gpu/runtime.ts";
import { variableGrads } from "../src/autograd/gradients.ts";
import { randomNormal, randomUniform, tensor, variable, zeros } from "../src/ops/creation.ts";
import { mul, sub } from "../src/ops/elementwise.ts";
import { fusedMatMul } from "../src/ops/matmul.ts";
import { softmaxCrossEntropy } from "../src/ops/losses.ts";
import { oneHot } from "../src/ops/transform.ts";
import { runtime } from "../src/gpu/runtime.ts";
import { Random } from "../src/random.ts";
import { tidy, type Variable } from "../src/tensor.ts";

export interface StepTiming {
  /** Mean wall time of one step, ms. */
  msPerStep: number;
  /** Submits per step (the design says 1). */
  submitsPerStep: number;
  samplesPerSecond: number;
}

/** Times `steps` SGD steps of the 784-128-10 MLP on random data, after `warmup` steps. */
export async function mlpStep(batch = 128, steps = 50, warmup = 5): Promise<StepTiming> {
  const random = new Random(7);
  const x = randomUniform([batch, 784], 0, 1, 1);
  const labels = tensor(Int32Array.from({ length: batch }, () => random.int(10)), [batch], "int32");
  const y = oneHot(labels, 10);
  const params: Variable[] = [
    variable(randomNormal([784, 128], 0, Math.sqrt(2 / 784), 2), true, "bench_w1"),
    variable(zeros([128]), true, "bench_b1"),
    variable(randomNormal([128, 10], 0, Math.sqrt(2 / 128), 3), true, "bench_w2"),
    variable(zeros([10]), true, "bench_b2"),
  ];
  const [w1, b1, w2, b2] = params;
  const step = () =>
    tidy(() => {
      const { value, grads } = variableGrads(() => {
        const h = fusedMatMul({ a: x, b: w1, bias: b1, activation: "relu" });
        const logits = fusedMatMul({ a: h, b: w2, bias: b2 });
        return softmaxCrossEntropy(y, logits);
      }, params);
      for (const v of params) v.assign(sub(v, mul(grads[v.name], 0.1)));
      runtime().flush();
      return value;
    });
  step().dispose();
  await tune(); // the first step named the products to tune (fit() does the same)
  for (let i = 1; i < warmup; i++) step().dispose();
  await step().data(); // drain the queue before timing
  const submitsBefore = runtime().submits;
  const start = performance.now();
  let last = step();
  for (let i = 1; i < steps; i++) {
    last.dispose();
    last = step();
  }
  const submits = runtime().submits - submitsBefore;
  await last.data(); // waits for every step (the readback's submit is not counted above)
  const ms = (performance.now() - start) / steps;
  for (const t of [x, labels, y, last, ...params]) t.dispose();
  return { msPerStep: ms, submitsPerStep: submits / steps, samplesPerSecond: (batch * 1000) / ms };
}

if (import.meta.main) {
  await ready();
  const t = await mlpStep();
  console.log(
    `MLP 784-128-10 step, batch 128: ${t.msPerStep.toFixed(2)} ms ` +
      `(${Math.round(t.samplesPerSecond)} samples/s, ${t.submitsPerStep} submit/step)`,
  );
}
