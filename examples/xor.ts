/**
 * A 2-layer MLP learns XOR with the low-level API and a hand-written SGD loop,
 * the way the numpy lessons do it: variables, a forward pass, gradients,
 * `v ← v - lr·dv`. Exits 1 if a prediction ends on the wrong side of 0.5, so
 * CI runs it as a smoke test (tests/examples_test.ts).
 *
 *     XDG_RUNTIME_DIR=/tmp deno run examples/xor.ts
 *
 * It needs no permissions (XDG_RUNTIME_DIR only silences a Mesa warning).
 * Shapes: N = 4 examples, H = hidden units.
 */
import * as wg from "../mod.ts";

const H = 8;
const LEARNING_RATE = 0.5;
const STEPS = 1000;
const PRINT_EVERY = 200;

const inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];
const targets = [[0], [1], [1], [0]];
const x = wg.tensor(inputs); // [N, 2]
const y = wg.tensor(targets); // [N, 1]

// Seeded init: the same weights, and so the same run, every time. The tidy frees
// the initial tensors; the variables (which tidy never disposes) keep their values.
const [W1, b1, W2, b2] = wg.tidy(() => [
  wg.variable(wg.randomNormal([2, H], 0, 1, 1), true, "W1"),
  wg.variable(wg.zeros([H]), true, "b1"),
  wg.variable(wg.randomNormal([H, 1], 0, 1, 2), true, "W2"),
  wg.variable(wg.zeros([1]), true, "b2"),
]);
const params = [W1, b1, W2, b2];

/** logits = tanh(x·W1 + b1)·W2 + b2, [N, 1]; the prediction is sigmoid(logits). */
function forward(x: wg.Tensor): wg.Tensor {
  const hidden = wg.tanh(wg.add(wg.matMul(x, W1), b1)); // [N, H]
  return wg.add(wg.matMul(hidden, W2), b2); // [N, 1]
}

const start = performance.now();
for (let step = 1; step <= STEPS; step++) {
  const report = step % PRINT_EVERY === 0 || step === 1;
  const loss = wg.tidy(() => {
    // Binary cross-entropy on the logits: stable, and it learns faster than MSE after a sigmoid.
    const { value, grads } = wg.variableGrads(() => wg.losses.sigmoidCrossEntropy(y, forward(x)), params);
    for (const v of params) v.assign(wg.sub(v, wg.mul(grads[v.name], LEARNING_RATE)));
    return report ? value : undefined; // everything else the step made is freed here
  });
  wg.flush(); // one submit per step; nothing is read back
  if (loss) {
    console.log(`step ${String(step).padStart(4)}  loss ${(await loss.data())[0].toFixed(4)}`);
    loss.dispose();
  }
}

const ms = (performance.now() - start) / STEPS;
console.log(`${ms.toFixed(2)} ms per step (with the loss readbacks)`);

const predictions = wg.tidy(() => wg.sigmoid(forward(x)));
const p = await predictions.data();
predictions.dispose();

let wrong = 0;
console.log("\n x1 x2  target  prediction");
inputs.forEach(([a, b], i) => {
  const target = targets[i][0];
  const ok = (p[i] > 0.5) === (target === 1);
  if (!ok) wrong++;
  console.log(
    `  ${a}  ${b}     ${target}      ${p[i].toFixed(3)} (${Math.round(p[i])})${ok ? "" : "  WRONG"}`,
  );
});
const { numTensors, numBytes } = wg.memory();
console.log(`\n${numTensors} tensors (${numBytes} bytes) alive: x, y and the 4 variables`);

if (wrong > 0) {
  console.error(`xor: ${wrong} of 4 predictions are on the wrong side of 0.5`);
  Deno.exit(1);
}
