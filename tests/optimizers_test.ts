/**
 * Each optimizer's in-place GPU update against a float64 CPU transcription
 * of Keras's update rule, over several steps with varying gradients.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import "./_helpers/gpu.ts";
import * as wg from "../mod.ts";
import { Random } from "../src/random.ts";

type Rule = (w: number[], g: number[], state: number[][], t: number) => void;

const LR = 0.05, B1 = 0.9, B2 = 0.999, EPS = 1e-7, MOM = 0.8;

/** Keras's formulas, elementwise in float64. */
const RULES: Record<string, { make: () => wg.train.Optimizer; rule: Rule; slots: number; init?: number }> = {
  sgd: { make: () => wg.train.sgd(LR), slots: 0, rule: (w, g) => g.forEach((gi, i) => (w[i] -= LR * gi)) },
  momentum: {
    make: () => wg.train.momentum(LR, MOM),
    slots: 1,
    rule: (w, g, [v]) =>
      g.forEach((gi, i) => {
        v[i] = MOM * v[i] - LR * gi;
        w[i] += v[i];
      }),
  },
  nesterov: {
    make: () => wg.train.momentum(LR, MOM, true),
    slots: 1,
    rule: (w, g, [v]) =>
      g.forEach((gi, i) => {
        v[i] = MOM * v[i] - LR * gi;
        w[i] += MOM * v[i] - LR * gi;
      }),
  },
  adagrad: {
    make: () => wg.train.adagrad(LR),
    slots: 1,
    init: 0.1,
    rule: (w, g, [acc]) =>
      g.forEach((gi, i) => {
        acc[i] += gi * gi;
        w[i] -= (LR * gi) / Math.sqrt(acc[i] + EPS);
      }),
  },
  rmsprop: {
    make: () => wg.train.rmsprop(LR),
    slots: 1,
    rule: (w, g, [ms]) =>
      g.forEach((gi, i) => {
        ms[i] = B1 * ms[i] + (1 - B1) * gi * gi;
        w[i] -= (LR * gi) / Math.sqrt(ms[i] + EPS);
      }),
  },
  rmspropMomentumCentered: {
    make: () => wg.train.rmsprop(LR, B1, MOM, EPS, true),
    slots: 3,
    rule: (w, g, [ms, mom, mg]) =>
      g.forEach((gi, i) => {
        ms[i] = B1 * ms[i] + (1 - B1) * gi * gi;
        mg[i] = B1 * mg[i] + (1 - B1) * gi;
        mom[i] = MOM * mom[i] + (LR * gi) / Math.sqrt(ms[i] - mg[i] * mg[i] + EPS);
        w[i] -= mom[i];
      }),
  },
  adam: {
    make: () => wg.train.adam(LR, B1, B2, EPS),
    slots: 2,
    rule: (w, g, [m, v], t) => {
      const alpha = (LR * Math.sqrt(1 - B2 ** t)) / (1 - B1 ** t);
      g.forEach((gi, i) => {
        m[i] += (gi - m[i]) * (1 - B1);
        v[i] += (gi * gi - v[i]) * (1 - B2);
        w[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + EPS);
      });
    },
  },
};

// Every variable of a test is updated by the same applyGradients calls. 4099: on llvmpipe, large enough for
// its update to read texture copies (from 4096 floats), and not whole texels; 67: not a multiple of the
// 64-thread workgroup; the small ones share dispatches, several of them per call (at most 8 variables and
// the adapter's storage bindings a dispatch), and a variable's elements must not spill into its neighbour's.
const SIZES = [67, 4099, 1, 130, 3, 17, 2, 5, 9, 64, 11];

for (const [name, { make, rule, slots, init }] of Object.entries(RULES)) {
  Deno.test(`optimizer ${name} matches Keras's update rule over 5 steps (${SIZES.join(", ")} weights)`, async () => {
    const random = new Random(11);
    const cases = SIZES.map((n, k) => {
      const w = Array.from({ length: n }, () => random.normal());
      return {
        w,
        state: Array.from({ length: slots }, () => new Array(n).fill(init ?? 0)),
        variable: wg.variable(wg.tensor(w), true, `opt_test_${name}_${k}_${n}`),
      };
    });
    const optimizer = make();
    for (let t = 1; t <= 5; t++) {
      const grads: Record<string, wg.Tensor> = {};
      for (const { w, state, variable } of cases) {
        const g = Array.from({ length: w.length }, () => random.normal() * (t % 2 ? 1 : 0.01));
        rule(w, g, state, t);
        grads[variable.name] = wg.tensor(g);
      }
      optimizer.applyGradients(grads);
      for (const g of Object.values(grads)) g.dispose();
    }
    for (const { w, variable } of cases) {
      const got = await variable.data();
      let worst = 0;
      got.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - w[i]) / (1e-3 + Math.abs(w[i])))));
      // float32 state over 5 steps: relative error ~1e-6; 1e-4 leaves room for √ and division rounding.
      assert(worst < 1e-4, `${name}, ${w.length} weights: worst relative error ${worst}`);
      variable.dispose();
    }
    assertEquals(optimizer.iterations, 5);
    optimizer.dispose();
  });
}

Deno.test("applyGradients updates a variable without touching a tensor it was assigned from", async () => {
  const source = wg.tensor([1, 2, 3]);
  const v = wg.variable(wg.zeros([3]), true, "opt_test_shared");
  v.assign(source); // v and source share one buffer now
  wg.train.sgd(1).applyGradients({ [v.name]: wg.ones([3]) });
  assertEquals([...await v.data()], [0, 1, 2]);
  assertEquals([...await source.data()], [1, 2, 3]);
  v.dispose();
  source.dispose();
});

Deno.test("minimize is one submit and returns the cost when asked", async () => {
  const { runtime } = await import("../src/gpu/runtime.ts");
  const x = wg.variable(wg.tensor([3]), true, "opt_test_min");
  const optimizer = wg.train.sgd(0.25);
  const before = runtime().submits;
  const cost = optimizer.minimize(() => wg.sum(wg.square(x)), true, [x])!;
  assertEquals(runtime().submits - before, 1);
  assertEquals(await cost.data(), new Float32Array([9]));
  assertEquals(await x.data(), new Float32Array([1.5])); // 3 - 0.25·2·3
  cost.dispose();
  x.dispose();
});

Deno.test("optimizer state round-trips through getWeights/setWeights", async () => {
  const a = wg.variable(wg.tensor([1, -1]), true, "opt_test_rt");
  const loss = () => wg.sum(wg.square(a));
  const first = wg.train.adam(0.1);
  for (let i = 0; i < 3; i++) first.minimize(loss, false, [a]);
  // Snapshot the state by value: getWeights returns the live slots.
  const saved = await Promise.all(
    first.getWeights().map(async ({ name, tensor }) => ({ name, values: [...await tensor.data()] })),
  );
  assertEquals(saved.map((w) => w.name), ["iter", "opt_test_rt/m", "opt_test_rt/v"]);
  const second = wg.train.adam(0.1);
  await second.setWeights(
    saved.map(({ name, values }) => ({ name, tensor: wg.tensor(values, name === "iter" ? [] : [2]) })),
  );
  assertEquals(second.iterations, 3);
  // The same state applied to the same weights must give the same step.
  const start = wg.tensor([...await a.data()]);
  first.minimize(loss, false, [a]);
  const afterFirst = [...await a.data()];
  a.assign(start);
  second.minimize(loss, false, [a]);
  assertEquals([...await a.data()], afterFirst);
  for (const o of [first, second]) o.dispose();
  for (const t of [a, start]) t.dispose();
});

Deno.test("a slot that starts as ones and is updated in place is not taken for ones afterwards", async () => {
  // adagrad's accumulators start as a fill of initialAccumulatorValue; `mul` returns x for x·(ones from fill)
  // only while nothing has written them.
  const v = wg.variable(wg.tensor([1, 2, 3]), true, "opt_test_filled_slot");
  const optimizer = wg.train.adagrad(0.1, 1);
  optimizer.applyGradients({ [v.name]: wg.tensor([3, 3, 3]) }); // accumulator 1 + 9 = 10
  const accumulator = optimizer.getWeights().find((w) => w.name === `${v.name}/accumulator`)!.tensor;
  assertEquals([...await wg.mul(accumulator, wg.tensor([2, 2, 2])).data()], [20, 20, 20]);
  optimizer.dispose();
  v.dispose();
});

Deno.test("applyGradients checks every pair before it updates any, and takes a variable once", async () => {
  const a = wg.variable(wg.tensor([1, 2]), true, "opt_check_a"),
    b = wg.variable(wg.tensor([3]), true, "opt_check_b");
  const ga = wg.tensor([1, 1]), wrong = wg.tensor([1, 1]);
  const optimizer = wg.train.sgd(0.5);
  assertThrows(() => optimizer.applyGradients({ [a.name]: ga, [b.name]: wrong }), wg.ShapeError, "[2]");
  assertThrows(
    () => optimizer.applyGradients([{ name: a.name, tensor: ga }, { name: a.name, tensor: ga }]),
    Error,
    "'opt_check_a' is given more than one gradient",
  );
  assertEquals([...await a.data()], [1, 2]);
  assertEquals(optimizer.iterations, 0);
  optimizer.applyGradients([{ name: a.name, tensor: ga }]);
  assertEquals([...await a.data()], [0.5, 1.5]);
  [a, b, ga, wrong].forEach((t) => t.dispose());
  optimizer.dispose();
});

// Small variables share a dispatch, where a buffer both written and read would make it invalid (or racy: the
// invocations updating b's 256 elements run before most of those reading them as a's gradient).
Deno.test("a gradient that is another variable of the same call (or a view of it) is read before the update", async () => {
  const n = 256, ramp = (k: number) => Array.from({ length: n }, (_, i) => i + k);
  const a = wg.variable(wg.tensor(ramp(0)), true, "opt_alias_a"),
    b = wg.variable(wg.tensor(ramp(1)), true, "opt_alias_b");
  const c = wg.variable(wg.tensor(ramp(2)), true, "opt_alias_c"), g = wg.tensor(ramp(3));
  const optimizer = wg.train.sgd(0.5);
  // b ← b - g/2; a ← a - b/2 with b's value before this call; c ← c - a/2 through a view of a's old value
  const aView = wg.reshape(a, [n]);
  optimizer.applyGradients([
    { name: b.name, tensor: g },
    { name: a.name, tensor: b },
    { name: c.name, tensor: aView },
  ]);
  assertEquals([...await b.data()], ramp(1).map((v, i) => v - (i + 3) / 2));
  assertEquals([...await a.data()], ramp(0).map((v, i) => v - (i + 1) / 2));
  assertEquals([...await c.data()], ramp(2).map((v, i) => v - i / 2));
  const slot = wg.train.adam(0.1);
  slot.applyGradients({ [a.name]: g });
  const m = slot.getWeights().find((w) => w.name === `${a.name}/m`)!.tensor;
  assertThrows(() => slot.applyGradients({ [a.name]: m }), Error, "the gradient of 'opt_alias_a' is one of");
  assertEquals(slot.iterations, 1);
  [a, b, c, g, aView].forEach((t) => t.dispose());
  optimizer.dispose();
  slot.dispose();
});
