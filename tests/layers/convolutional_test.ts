/**
 * conv2d and the pooling layers against float64 CPU references (NHWC inputs,
 * HWIO kernels, TensorFlow's "same" padding), their shapes and parameter
 * counts, and a tiny CNN that trains through them.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import * as wg from "../models/_api.ts";
import { runtime } from "../../src/gpu/runtime.ts";
import { convPoolConfig } from "../../src/ops/conv_pool.ts";
import { Random } from "../_helpers/arbitrary.ts";

type Pad = "valid" | "same";

/** Output size and leading padding of one axis, TensorFlow's rule. */
function axis(size: number, k: number, s: number, pad: Pad): [number, number] {
  if (pad === "valid") return [Math.floor((size - k) / s) + 1, 0];
  const out = Math.ceil(size / s);
  return [out, Math.floor(Math.max((out - 1) * s + k - size, 0) / 2)];
}

/** Sliding windows over x [N,H,W,C]: f(values of window per channel) → [N,OH,OW,C']. */
function windows(
  x: Float32Array,
  [N, H, W, C]: number[],
  [KH, KW]: number[],
  [SH, SW]: number[],
  pad: Pad,
  reduce: (at: (kh: number, kw: number, c: number) => number | null) => number[],
) {
  const [OH, padT] = axis(H, KH, SH, pad), [OW, padL] = axis(W, KW, SW, pad);
  const out: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        out.push(...reduce((kh, kw, c) => {
          const h = oh * SH + kh - padT, w = ow * SW + kw - padL;
          return h < 0 || h >= H || w < 0 || w >= W ? null : x[((n * H + h) * W + w) * C + c];
        }));
      }
    }
  }
  return { out, OH, OW };
}

for (const [pad, strides] of [["valid", 1], ["same", 1], ["same", 2], ["valid", 2]] as const) {
  Deno.test(`conv2d layer, padding ${pad}, strides ${strides}: relu(conv + bias) against a CPU reference`, async () => {
    const [N, H, W, C, F, K] = [2, 5, 6, 3, 4, 3];
    const layer = wg.layers.conv2d({
      filters: F,
      kernelSize: K,
      strides,
      padding: pad,
      activation: "relu",
      inputShape: [H, W, C],
      biasInitializer: wg.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }),
    });
    const model = wg.sequential({ layers: [layer] });
    const x = wg.randomNormal([N, H, W, C], 0, 1, 2);
    const y = model.predict(x);
    const [xd, kd, bd] = [await x.data(), await layer.kernel!.data(), await layer.bias!.data()];
    const { out, OH, OW } = windows(
      xd as Float32Array,
      [N, H, W, C],
      [K, K],
      [strides, strides],
      pad,
      (at) =>
        Array.from({ length: F }, (_, f) => {
          let s = bd[f];
          for (let kh = 0; kh < K; kh++) {
            for (let kw = 0; kw < K; kw++) {
              for (let c = 0; c < C; c++) s += (at(kh, kw, c) ?? 0) * kd[((kh * K + kw) * C + c) * F + f];
            }
          }
          return Math.max(s, 0);
        }),
    );
    assertEquals(y.shape, [N, OH, OW, F]);
    assertEquals(layer.outputShape, [null, OH, OW, F]);
    const got = await y.data();
    out.forEach((v, i) => assertAlmostEquals(got[i], v, 1e-4));
    model.dispose();
  });
}

for (const [kind, pad] of [["max", "valid"], ["max", "same"], ["avg", "valid"], ["avg", "same"]] as const) {
  Deno.test(`${kind} pooling layer, padding ${pad}: against a CPU reference`, async () => {
    const [N, H, W, C] = [2, 5, 5, 3];
    const args = {
      poolSize: [3, 2] as [number, number],
      strides: [2, 2] as [number, number],
      padding: pad,
      inputShape: [H, W, C],
    };
    const layer = kind === "max" ? wg.layers.maxPooling2d(args) : wg.layers.averagePooling2d(args);
    const model = wg.sequential({ layers: [layer] });
    const x = wg.randomNormal([N, H, W, C], 0, 1, 3);
    const { out, OH, OW } = windows(
      await x.data() as Float32Array,
      [N, H, W, C],
      [3, 2],
      [2, 2],
      pad,
      (at) =>
        Array.from({ length: C }, (_, c) => {
          const vs: number[] = [];
          for (let kh = 0; kh < 3; kh++) {
            for (let kw = 0; kw < 2; kw++) {
              const v = at(kh, kw, c);
              if (v !== null) vs.push(v);
            }
          }
          return kind === "max" ? Math.max(...vs) : vs.reduce((a, b) => a + b, 0) / vs.length;
        }),
    );
    const y = model.predict(x);
    assertEquals(y.shape, [N, OH, OW, C]);
    assertEquals(layer.outputShape, [null, OH, OW, C]);
    const got = await y.data();
    out.forEach((v, i) => assertAlmostEquals(got[i], v, 1e-5));
    model.dispose();
  });
}

Deno.test("conv and pooling options: defaults and errors as in Keras", () => {
  const pool = wg.layers.maxPooling2d();
  assertEquals([pool.poolSize, pool.strides, pool.padding], [[2, 2], [2, 2], "valid"]);
  assertThrows(() => wg.layers.conv2d({ filters: 2, kernelSize: [3, 0] }), wg.ShapeError, "kernelSize");
  assertThrows(
    () => wg.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2 }),
    wg.ShapeError,
    "dilationRate",
  );
  assertThrows(
    () => wg.sequential({ layers: [wg.layers.conv2d({ filters: 2, kernelSize: 5, inputShape: [3, 3, 1] })] }),
    wg.ShapeError,
    "does not fit",
  );
  assertThrows(
    () => wg.sequential({ layers: [wg.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8] })] }),
    wg.ShapeError,
    "NHWC",
  );
});

/** conv2d(filters, 3x3, relu) - maxPool 2 - flatten - dense(classes, softmax), seeded. */
function tinyCnn(inputShape: number[], filters: number, classes: number) {
  const seed = (s: number) => wg.initializers.glorotUniform({ seed: s });
  return wg.sequential({
    layers: [
      wg.layers.conv2d({
        filters,
        kernelSize: 3,
        activation: "relu",
        inputShape,
        kernelInitializer: seed(1),
      }),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.flatten(),
      wg.layers.dense({ units: classes, activation: "softmax", kernelInitializer: seed(2) }),
    ],
  });
}

Deno.test("a tiny CNN (conv - pool - flatten - dense softmax) trains: the loss falls", async () => {
  const n = 16;
  // Class 0: a bright left half; class 1: a bright right half.
  const data = new Float32Array(n * 6 * 6);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let h = 0; h < 6; h++) {
      for (let w = 0; w < 6; w++) data[i * 36 + h * 6 + w] = (w < 3) === (i % 2 === 0) ? 1 : 0;
    }
  }
  const model = tinyCnn([6, 6, 1], 4, 2);
  model.compile({
    optimizer: wg.train.adam(0.02),
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
  });
  const history = await model.fit({ data, shape: [n, 6, 6, 1] }, { data: labels, shape: [n] }, {
    epochs: 10,
    batchSize: 8,
    verbose: 0,
    seed: 1,
  });
  const loss = history.history.loss;
  assert(loss.at(-1)! < 0.5 * loss[0], `loss ${loss[0]} → ${loss.at(-1)}`);
  assertEquals(history.history.accuracy.at(-1), 1);
  model.dispose();
});

Deno.test("a conv layer and the max pool after it run as one op in a model: the same training as layer by layer", async () => {
  const rng = new Random(3);
  const n = 12;
  const data = Float32Array.from({ length: n * 9 * 8 * 3 }, () => rng.next());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const kernels: string[] = [];
  const run = async (fuse: boolean) => {
    convPoolConfig.fuse = fuse;
    const model = tinyCnn([9, 8, 3], 8, 3);
    model.compile({ optimizer: wg.train.adam(0.01), loss: "sparseCategoricalCrossentropy" });
    const rt = runtime(), dispatch = rt.dispatch;
    rt.dispatch = function (this: typeof rt, ...args: Parameters<typeof rt.dispatch>) {
      if (fuse) kernels.push(args[0].name);
      return dispatch.apply(this, args);
    } as typeof rt.dispatch;
    try {
      await model.fit({ data, shape: [n, 9, 8, 3] }, { data: labels, shape: [n] }, {
        epochs: 3,
        batchSize: 4,
        verbose: 0,
        seed: 1,
      });
    } finally {
      rt.dispatch = dispatch;
      convPoolConfig.fuse = true;
    }
    const weights = await Promise.all(model.weights.map((w) => w.data()));
    const predicted = model.predict({ data, shape: [n, 9, 8, 3] });
    const probabilities = await predicted.data();
    predicted.dispose();
    model.dispose();
    return [...weights, probabilities];
  };
  const fused = await run(true), twoOps = await run(false);
  assert(kernels.includes("conv_pool") && kernels.includes("conv_pool_filter_grad"), `ran ${kernels}`);
  assert(!kernels.includes("pool_grad"), "the pool's own backward ran");
  // 9 Adam steps from the same start: the two differ only in the order of float32 sums.
  fused.forEach((values, i) =>
    values.forEach((v, j) => assertAlmostEquals(v, twoOps[i][j], 1e-4, `array ${i}[${j}]`))
  );
});
