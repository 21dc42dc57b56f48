/**
 * Lesson: the perceptron. One unit computes y = step(w·x + b), 1 if the sum
 * crosses 0, else 0, and learns with the perceptron rule: after each
 * example, w ← w + η(t - y)·x and b ← b + η(t - y). It only moves when it is
 * wrong, and it stops when an epoch passes with no mistake (the lessons'
 * `for x, t in zip(X, T)` loop, "t_f"). AND and OR are linearly separable,
 * so the rule converges on both.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run examples/perceptron.ts
 *
 * Needs no permissions. Exits 1 if a gate is not learned.
 */
import * as wg from "../mod.ts";

const X = [[0, 0], [0, 1], [1, 0], [1, 1]];
const GATES: Record<string, number[]> = { AND: [0, 0, 0, 1], OR: [0, 1, 1, 1] };
const ETA = 0.1; // learning rate η
const MAX_EPOCHS = 50;

/** Trains one perceptron on a gate's truth table; returns its weights, bias and predictions. */
async function train(targets: number[]) {
  // Start from zero weights: the rule needs no random start.
  const w = wg.variable(wg.zeros([2, 1]), false, "w"); // [2, 1]
  const b = wg.variable(wg.zeros([1]), false, "b"); // [1]
  const predict = (x: wg.Tensor) => wg.step(wg.add(wg.matMul(x, w), b)); // step(x·w + b), [N, 1]
  for (let epoch = 1; epoch <= MAX_EPOCHS; epoch++) {
    let mistakes = 0;
    for (let i = 0; i < X.length; i++) {
      // The t_f loop: one example (x, t) at a time.
      const t = targets[i];
      const y = (await wg.tidy(() => predict(wg.tensor([X[i]]))).data())[0];
      if (y === t) continue;
      mistakes++;
      const delta = ETA * (t - y); // η(t - y): +η if it said 0 for a 1, -η if it said 1 for a 0
      wg.tidy(() => {
        w.assign(wg.add(w, wg.mul(wg.tensor([[X[i][0]], [X[i][1]]]), delta)));
        b.assign(wg.add(b, delta));
      });
    }
    if (mistakes === 0) {
      const y = wg.tidy(() => predict(wg.tensor(X)));
      const result = {
        epochs: epoch,
        w: Array.from(await w.data()),
        b: (await b.data())[0],
        predictions: Array.from(await y.data()),
      };
      for (const t of [w, b, y]) t.dispose();
      return result;
    }
  }
  throw new Error(`no convergence in ${MAX_EPOCHS} epochs`);
}

let failed = 0;
for (const [gate, targets] of Object.entries(GATES)) {
  const { epochs, w, b, predictions } = await train(targets);
  console.log(
    `${gate}: learned in ${epochs} epochs: w = [${w.map((v) => v.toFixed(2))}], b = ${b.toFixed(2)}`,
  );
  X.forEach(([x1, x2], i) => console.log(`  ${x1} ${x2} -> ${predictions[i]} (target ${targets[i]})`));
  if (predictions.some((p, i) => p !== targets[i])) failed++;
}
if (failed > 0) {
  console.error(`perceptron: ${failed} gate(s) not learned`);
  Deno.exit(1);
}
