/**
 * Initializers: Keras's fans and scales, the distributions' statistics
 * (within a few standard errors for a few thousand samples), seeds, the
 * truncation of the normals, names in both spellings, and getConfig round trips.
 */
import { assert, assertAlmostEquals, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import "./_helpers/gpu.ts";
import { DTypeError } from "../src/errors.ts";
import * as init from "../src/initializers.ts";
import type { Shape } from "../src/shape.ts";

/** Applies an initializer and reads the values back, disposing the tensor. */
async function values(initializer: init.Initializer, shape: Shape): Promise<Float32Array> {
  const t = initializer.apply(shape);
  assertEquals(t.shape, [...shape]);
  const data = await t.data();
  t.dispose();
  return data as Float32Array;
}

/** Mean, population variance and largest |x - center|. */
function stats(xs: Float32Array, center = 0): { mean: number; variance: number; maxDev: number } {
  let sum = 0;
  let maxDev = 0;
  for (const x of xs) {
    sum += x;
    maxDev = Math.max(maxDev, Math.abs(x - center));
  }
  const mean = sum / xs.length;
  let sq = 0;
  for (const x of xs) sq += (x - mean) ** 2;
  return { mean, variance: sq / xs.length, maxDev };
}

/**
 * Checks mean and variance against the distribution's. Tolerances are ~5
 * standard errors: SE(mean) = σ/√n; SE(variance) = σ²·√((kurtosis - 1)/n),
 * with kurtosis ≤ 3 for all the distributions here (normal 3, truncated 2.4, uniform 1.8).
 */
function assertMoments(xs: Float32Array, mean: number, variance: number): void {
  const n = xs.length;
  const got = stats(xs, mean);
  assertAlmostEquals(got.mean, mean, 5 * Math.sqrt(variance / n), `mean of ${n} samples`);
  assertAlmostEquals(got.variance, variance, 5 * variance * Math.sqrt(2 / n), `variance of ${n} samples`);
}

Deno.test("computeFans: as Keras: dense [in, out], conv HWIO × receptive field, rank 1 and 0", () => {
  assertEquals(init.computeFans([784, 128]), [784, 128]);
  assertEquals(init.computeFans([3, 3, 1, 32]), [9, 288]);
  assertEquals(init.computeFans([5, 5, 32, 64]), [800, 1600]);
  assertEquals(init.computeFans([2, 3, 4, 5, 6]), [120, 144]);
  assertEquals(init.computeFans([10]), [10, 10]);
  assertEquals(init.computeFans([]), [1, 1]);
});

Deno.test("initializers: the same seed gives the same values; other seeds and no seed differ", async () => {
  const shape = [16, 8];
  for (
    const make of [init.glorotUniform, init.glorotNormal, init.heNormal, init.heUniform, init.leCunNormal]
  ) {
    assertEquals(await values(make({ seed: 5 }), shape), await values(make({ seed: 5 }), shape));
    assertNotEquals(await values(make({ seed: 5 }), shape), await values(make({ seed: 6 }), shape));
    assertNotEquals(await values(make(), shape), await values(make(), shape));
  }
  const seeded = init.randomNormal({ seed: 1 });
  assertEquals(await values(seeded, [100]), await values(seeded, [100]), "one seeded initializer, two calls");
});

Deno.test("glorotUniform / heUniform / leCunUniform: U(±√(3·scale/fan)) with Keras's fans", async () => {
  const cases: [init.Initializer, Shape, number][] = [
    [init.glorotUniform({ seed: 1 }), [64, 64], 1 / 64], // fan_avg = 64
    [init.glorotUniform({ seed: 2 }), [3, 3, 16, 32], 1 / 216], // fan_avg = (144 + 288) / 2
    [init.heUniform({ seed: 3 }), [3, 3, 16, 32], 2 / 144], // fan_in = 144
    [init.leCunUniform({ seed: 4 }), [48, 96], 1 / 48],
  ];
  for (const [initializer, shape, s] of cases) {
    const xs = await values(initializer, shape);
    const limit = Math.sqrt(3 * s);
    assert(stats(xs).maxDev <= limit, `${initializer.className} ${shape}: beyond ±${limit}`);
    assertMoments(xs, 0, s); // variance of U(-l, l) is l²/3 = s
  }
});

Deno.test("glorotNormal / heNormal / leCunNormal: truncated normals with variance scale/fan, none beyond 2σ", async () => {
  const cases: [init.Initializer, Shape, number][] = [
    [init.glorotNormal({ seed: 1 }), [64, 64], 1 / 64],
    [init.heNormal({ seed: 2 }), [3, 3, 16, 32], 2 / 144],
    [init.heNormal({ seed: 3 }), [784, 128], 2 / 784],
    [init.leCunNormal({ seed: 4 }), [48, 96], 1 / 48],
  ];
  for (const [initializer, shape, s] of cases) {
    const xs = await values(initializer, shape);
    // Keras: σ = √s / 0.8796... before truncation at 2σ, so that the variance after it is s.
    const sigma = Math.sqrt(s) / 0.87962566103423978;
    assert(stats(xs).maxDev <= 2 * sigma * (1 + 1e-6), `${initializer.className}: a sample beyond 2σ`);
    assert(stats(xs).maxDev > 1.9 * sigma, `${initializer.className}: the tails are missing`);
    assertMoments(xs, 0, s);
  }
});

Deno.test("randomNormal / randomUniform / truncatedNormal: their arguments and Keras's defaults", async () => {
  assertMoments(await values(init.randomNormal({ mean: 2, stddev: 0.5, seed: 1 }), [4096]), 2, 0.25);
  assertMoments(await values(init.randomNormal({ seed: 2 }), [4096]), 0, 0.05 ** 2);
  const u = await values(init.randomUniform({ minval: 1, maxval: 3, seed: 3 }), [4096]);
  assert(u.every((x) => x >= 1 && x < 3));
  assertMoments(u, 2, 4 / 12);
  assert((await values(init.randomUniform({ seed: 4 }), [4096])).every((x) => Math.abs(x) <= 0.05));
  const t = await values(init.truncatedNormal({ mean: 1, stddev: 0.1, seed: 5 }), [4096]);
  assert(stats(t, 1).maxDev <= 0.2 * (1 + 1e-6));
  assertMoments(t, 1, (0.1 * 0.87962566103423978) ** 2);
});

Deno.test("zeros / ones / constant: filled, int32 allowed; random initializers refuse int32", async () => {
  assertEquals(await values(init.zeros(), [2, 3]), new Float32Array(6));
  assertEquals(await values(init.ones(), [4]), new Float32Array([1, 1, 1, 1]));
  assertEquals(await values(init.constant({ value: 0.5 }), [2]), new Float32Array([0.5, 0.5]));
  const ints = init.ones().apply([3], "int32");
  assertEquals([ints.dtype, [...await ints.data()]], ["int32", [1, 1, 1]]);
  ints.dispose();
  assertThrows(() => init.glorotUniform().apply([2, 2], "int32"), DTypeError, "float32");
  assertThrows(() => init.zeros().apply([2, -1]), Error, "not a shape");
  assertEquals(await values(init.heNormal({ seed: 1 }), [0, 4]), new Float32Array(0));
});

Deno.test("getInitializer: Keras and tfjs names in both spellings", () => {
  const names: [string, string][] = [
    ["glorotUniform", "GlorotUniform"],
    ["glorot_uniform", "GlorotUniform"],
    ["GlorotUniform", "GlorotUniform"],
    ["glorotNormal", "GlorotNormal"],
    ["glorot_normal", "GlorotNormal"],
    ["heNormal", "HeNormal"],
    ["he_normal", "HeNormal"],
    ["heUniform", "HeUniform"],
    ["he_uniform", "HeUniform"],
    ["leCunNormal", "LeCunNormal"],
    ["lecun_normal", "LeCunNormal"],
    ["lecunUniform", "LeCunUniform"],
    ["zeros", "Zeros"],
    ["ones", "Ones"],
    ["constant", "Constant"],
    ["randomNormal", "RandomNormal"],
    ["random_normal", "RandomNormal"],
    ["randomUniform", "RandomUniform"],
    ["random_uniform", "RandomUniform"],
    ["truncated_normal", "TruncatedNormal"],
    ["variance_scaling", "VarianceScaling"],
  ];
  for (const [name, className] of names) assertEquals(init.getInitializer(name).className, className, name);
  const mine = init.heNormal({ seed: 1 });
  assertEquals(init.getInitializer(mine), mine);
});

Deno.test("getInitializer: an unknown name or config key is an error listing what is valid", () => {
  const error = assertThrows(() => init.getInitializer("xavier"), Error, 'unknown initializer "xavier"');
  for (const name of ["glorotUniform", "heNormal", "zeros", "randomNormal", "randomUniform"]) {
    assert(error.message.includes(name), error.message);
  }
  assertThrows(() => init.getInitializer("constructor"), Error, "unknown initializer");
  assertThrows(
    () => init.getInitializer({ className: "GlorotUniform", config: { seed: 1, gain: 2 } }),
    Error,
    'takes no config key "gain": it takes seed',
  );
  assertThrows(
    () => init.getInitializer({ className: "Orthogonal", config: {} }),
    Error,
    "unknown initializer",
  );
  assertThrows(() => init.getInitializer(3 as unknown as string), Error, "expected a name");
  assertThrows(
    () => init.varianceScaling({ mode: "fan_sum" as "fan_in" }),
    Error,
    "fan_in, fan_out, fan_avg",
  );
  assertThrows(() => init.varianceScaling({ scale: 0 }), Error, "positive");
  assertThrows(() => init.glorotUniform({ seed: 1.5 }), Error, "not an integer");
  assertThrows(() => init.randomNormal({ stddev: "1" as unknown as number }), Error, "finite number");
});

Deno.test("getConfig: Keras class names and arguments, and getInitializer rebuilds the same initializer", async () => {
  assertEquals(init.glorotUniform({ seed: 3 }).getConfig(), {
    className: "GlorotUniform",
    config: { seed: 3 },
  });
  assertEquals(init.heNormal().getConfig(), { className: "HeNormal", config: { seed: null } });
  assertEquals(init.zeros().getConfig(), { className: "Zeros", config: {} });
  assertEquals(init.randomUniform({ seed: 2 }).getConfig(), {
    className: "RandomUniform",
    config: { minval: -0.05, maxval: 0.05, seed: 2 },
  });
  assertEquals(init.varianceScaling({ scale: 2, mode: "fanAvg", distribution: "normal" }).getConfig(), {
    className: "VarianceScaling",
    config: { scale: 2, mode: "fan_avg", distribution: "truncated_normal", seed: null },
  });
  const all = [
    init.zeros(),
    init.ones(),
    init.constant({ value: 3 }),
    init.randomNormal({ mean: 1, stddev: 2, seed: 1 }),
    init.randomUniform({ minval: -1, maxval: 1, seed: 2 }),
    init.truncatedNormal({ stddev: 0.2, seed: 3 }),
    init.varianceScaling({ scale: 3, mode: "fan_out", distribution: "uniform", seed: 4 }),
    init.glorotUniform({ seed: 5 }),
    init.glorotNormal({ seed: 6 }),
    init.heNormal({ seed: 7 }),
    init.heUniform({ seed: 8 }),
    init.leCunNormal({ seed: 9 }),
    init.leCunUniform({ seed: 10 }),
  ];
  for (const original of all) {
    const config = JSON.parse(JSON.stringify(original.getConfig())); // as model.json stores it
    const rebuilt = init.getInitializer(config);
    assertEquals(rebuilt.getConfig(), original.getConfig());
    assertEquals(await values(rebuilt, [3, 5]), await values(original, [3, 5]), original.className);
  }
  // What Keras writes: VarianceScaling with snake_case values, Keras's "LecunNormal" spelling.
  const keras = init.getInitializer({
    className: "VarianceScaling",
    config: { scale: 2.0, mode: "fan_in", distribution: "truncated_normal", seed: null },
  });
  assertEquals(keras.getConfig().config, {
    scale: 2,
    mode: "fan_in",
    distribution: "truncated_normal",
    seed: null,
  });
  assertEquals(
    init.getInitializer({ className: "LecunNormal", config: { seed: 1 } }).className,
    "LeCunNormal",
  );
  assertEquals(
    await values(init.getInitializer({ className: "VarianceScaling", config: { scale: 2, seed: 7 } }), [
      3,
      5,
    ]),
    await values(init.heNormal({ seed: 7 }), [3, 5]),
    "VarianceScaling(2, fan_in, truncated_normal) is heNormal",
  );
});
