/**
 * Weight initializers with Keras's math and TensorFlow.js's names. Random
 * values are drawn on the CPU with the seeded generator, so a seed gives the
 * same weights on every adapter, then uploaded as one tensor.
 * @module
 */
import { DTypeError } from "./errors.ts";
import { fill, tensor } from "./ops/creation.ts";
import { Random } from "./random.ts";
import { checkShape, type Shape, sizeOf } from "./shape.ts";
import type { DType, Tensor } from "./tensor.ts";

/** A serialized initializer, as model.json records it: `{ className: "GlorotUniform", config: { seed: null } }`. */
export interface InitializerConfig {
  /** The Keras/tfjs class name, e.g. "GlorotUniform". */
  className: string;
  /** The constructor arguments, Keras spelling (`fan_avg`, `truncated_normal`); `seed` is null when unseeded. */
  config: Record<string, unknown>;
}

/** Makes a layer's initial weights. */
export interface Initializer {
  /** The Keras/tfjs class name, e.g. "GlorotUniform". */
  readonly className: string;
  /** A new tensor of `shape` (float32 unless `dtype` says int32, which only constant initializers allow). */
  apply(shape: Shape, dtype?: DType): Tensor;
  /** The class name and arguments, enough for {@link getInitializer} to rebuild it. */
  getConfig(): InitializerConfig;
}

/** What {@link getInitializer} accepts: a name in either spelling, an initializer, or a serialized one. */
export type InitializerIdentifier = string | Initializer | InitializerConfig;

/** Options of the seeded initializers; the same seed gives the same values on every call. */
export interface SeedArgs {
  /** Integer seed; omitted or null draws a fresh seed on every call. */
  seed?: number | null;
}

/** {@link randomNormal} and {@link truncatedNormal} options (Keras defaults: mean 0, stddev 0.05). */
export interface RandomNormalArgs extends SeedArgs {
  /** Mean. */
  mean?: number;
  /** Standard deviation (before truncation, for truncatedNormal). */
  stddev?: number;
}

/** {@link randomUniform} options (Keras defaults: [-0.05, 0.05)). */
export interface RandomUniformArgs extends SeedArgs {
  /** Lower bound, inclusive. */
  minval?: number;
  /** Upper bound, exclusive. */
  maxval?: number;
}

/** {@link varianceScaling} options (Keras defaults: scale 1, fan_in, truncated_normal). */
export interface VarianceScalingArgs extends SeedArgs {
  /** Positive scale of the variance. */
  scale?: number;
  /** Which fan divides the scale: fan_in, fan_out or their mean (fanIn/fanOut/fanAvg also accepted). */
  mode?: "fan_in" | "fan_out" | "fan_avg" | "fanIn" | "fanOut" | "fanAvg";
  /** truncated_normal, untruncated_normal or uniform; "normal" means truncated_normal, as in Keras. */
  distribution?: "truncated_normal" | "untruncated_normal" | "normal" | "uniform" | "truncatedNormal";
}

/**
 * Fans as Keras computes them: rank 2 `[fanIn, fanOut]`; rank ≥ 3 (conv,
 * HWIO) multiplies both by the receptive field (all but the last two dims);
 * rank 1 uses its one dimension for both; a scalar has fans of 1.
 *
 * @param shape A weight shape.
 * @returns `[fanIn, fanOut]`.
 *
 * @example
 * ```ts
 * import { computeFans } from "./initializers.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(computeFans([784, 128]), [784, 128]);
 * assertEquals(computeFans([3, 3, 1, 32]), [9, 288]);
 * ```
 */
export function computeFans(shape: Shape): [fanIn: number, fanOut: number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  const receptive = sizeOf(shape.slice(0, -2));
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

/**
 * Zeros (Keras `Zeros`). @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.initializers.zeros().apply([2, 2]);
 * assertEquals(Array.from(await w.data()), [0, 0, 0, 0]);
 * ```
 */
export function zeros(): Initializer {
  return new Init("Zeros", {}, (shape, dtype) => fill(shape, 0, dtype));
}

/**
 * Ones (Keras `Ones`). @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.initializers.ones().apply([3]);
 * assertEquals(Array.from(await w.data()), [1, 1, 1]);
 * ```
 */
export function ones(): Initializer {
  return new Init("Ones", {}, (shape, dtype) => fill(shape, 1, dtype));
}

/**
 * Every element `value` (Keras `Constant`, default 0).
 * @param args `{ value }`.
 * @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const b = wg.initializers.constant({ value: 0.1 }).apply([2]);
 * assertEquals(Array.from(await b.data()), [0.1, 0.1].map(Math.fround));
 * ```
 */
export function constant({ value = 0 }: { value?: number } = {}): Initializer {
  checkNumber("constant", "value", value);
  return new Init("Constant", { value }, (shape, dtype) => fill(shape, value, dtype));
}

/**
 * Normal values, mean 0 and stddev 0.05 unless given.
 * @param args `{ mean, stddev, seed }`.
 * @returns The initializer.
 *
 * @example
 * ```ts
 * import { ready } from "../mod.ts";
 * import { randomNormal } from "./initializers.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready(); // tensors need the WebGPU device
 * const init = randomNormal({ mean: 1, stddev: 0.1, seed: 7 });
 * assertEquals(await init.apply([3]).data(), await init.apply([3]).data()); // seeded: same values
 * assertEquals(init.getConfig(), { className: "RandomNormal", config: { mean: 1, stddev: 0.1, seed: 7 } });
 * ```
 */
export function randomNormal({ mean = 0, stddev = 0.05, seed }: RandomNormalArgs = {}): Initializer {
  checkNumber("randomNormal", "mean", mean);
  checkNumber("randomNormal", "stddev", stddev);
  return random("RandomNormal", { mean, stddev }, seed, () => ({ kind: "normal", a: mean, b: stddev }));
}

/**
 * Normal values redrawn until within 2 stddev of the mean (Keras `TruncatedNormal`).
 * @param args `{ mean, stddev, seed }`; stddev is that of the normal before truncation.
 * @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.truncatedNormal({ stddev: 0.1, seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * assert(w.every((v) => Math.abs(v) <= 0.2)); // cut at 2 stddev
 * ```
 */
export function truncatedNormal({ mean = 0, stddev = 0.05, seed }: RandomNormalArgs = {}): Initializer {
  checkNumber("truncatedNormal", "mean", mean);
  checkNumber("truncatedNormal", "stddev", stddev);
  return random("TruncatedNormal", { mean, stddev }, seed, () => ({ kind: "truncated", a: mean, b: stddev }));
}

/**
 * Uniform values in [minval, maxval), by default [-0.05, 0.05).
 * @param args `{ minval, maxval, seed }`.
 * @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * assert(w.every((v) => v >= -0.5 && v < 0.5));
 * ```
 */
export function randomUniform({ minval = -0.05, maxval = 0.05, seed }: RandomUniformArgs = {}): Initializer {
  checkNumber("randomUniform", "minval", minval);
  checkNumber("randomUniform", "maxval", maxval);
  return random("RandomUniform", { minval, maxval }, seed, () => ({ kind: "uniform", a: minval, b: maxval }));
}

/**
 * Keras's VarianceScaling, which the named initializers below are presets
 * of: s = scale / max(1, fan) with fan by `mode`; truncated_normal draws
 * N(0, √s / 0.8796…) truncated at 2σ (the divisor restores variance s after
 * truncation), untruncated_normal N(0, √s), uniform U(-√(3s), √(3s)).
 *
 * @param args `{ scale, mode, distribution, seed }`.
 * @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.varianceScaling({ scale: 1, mode: "fanIn", distribution: "uniform", seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const limit = Math.sqrt(3 / 64); // U(-√(3s), √(3s)), s = 1 / fanIn
 * assert(w.every((v) => Math.abs(v) <= limit));
 * ```
 */
export function varianceScaling(args: VarianceScalingArgs = {}): Initializer {
  return scaled("VarianceScaling", args, true);
}

/**
 * Glorot/Xavier uniform: VarianceScaling(1, fan_avg, uniform). @param args `{ seed }`. @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.glorotUniform({ seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const limit = Math.sqrt(6 / (64 + 32));
 * assert(w.every((v) => Math.abs(v) <= limit));
 * ```
 */
export function glorotUniform({ seed }: SeedArgs = {}): Initializer {
  return scaled("GlorotUniform", { scale: 1, mode: "fan_avg", distribution: "uniform", seed });
}

/**
 * Glorot/Xavier normal: VarianceScaling(1, fan_avg, truncated_normal). @param args `{ seed }`. @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.glorotNormal({ seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const sigma = Math.sqrt(2 / (64 + 32)) / 0.87962566103423978;
 * assert(w.every((v) => Math.abs(v) <= 2 * sigma + 1e-6)); // truncated at 2σ
 * ```
 */
export function glorotNormal({ seed }: SeedArgs = {}): Initializer {
  return scaled("GlorotNormal", { scale: 1, mode: "fan_avg", distribution: "truncated_normal", seed });
}

/**
 * He normal: VarianceScaling(2, fan_in, truncated_normal). @param args `{ seed }`. @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.heNormal({ seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const sigma = Math.sqrt(2 / 64) / 0.87962566103423978;
 * assert(w.every((v) => Math.abs(v) <= 2 * sigma + 1e-6)); // truncated at 2σ
 * ```
 */
export function heNormal({ seed }: SeedArgs = {}): Initializer {
  return scaled("HeNormal", { scale: 2, mode: "fan_in", distribution: "truncated_normal", seed });
}

/**
 * He uniform: VarianceScaling(2, fan_in, uniform). @param args `{ seed }`. @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.heUniform({ seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const limit = Math.sqrt(6 / 64);
 * assert(w.every((v) => Math.abs(v) <= limit));
 * ```
 */
export function heUniform({ seed }: SeedArgs = {}): Initializer {
  return scaled("HeUniform", { scale: 2, mode: "fan_in", distribution: "uniform", seed });
}

/**
 * LeCun normal: VarianceScaling(1, fan_in, truncated_normal). @param args `{ seed }`. @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.leCunNormal({ seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const sigma = Math.sqrt(1 / 64) / 0.87962566103423978;
 * assert(w.every((v) => Math.abs(v) <= 2 * sigma + 1e-6)); // truncated at 2σ
 * ```
 */
export function leCunNormal({ seed }: SeedArgs = {}): Initializer {
  return scaled("LeCunNormal", { scale: 1, mode: "fan_in", distribution: "truncated_normal", seed });
}

/**
 * LeCun uniform: VarianceScaling(1, fan_in, uniform). @param args `{ seed }`. @returns The initializer.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const init = wg.initializers.leCunUniform({ seed: 1 });
 * const w = await init.apply([64, 32]).data(); // a dense kernel: fanIn 64, fanOut 32
 * const limit = Math.sqrt(3 / 64);
 * assert(w.every((v) => Math.abs(v) <= limit));
 * ```
 */
export function leCunUniform({ seed }: SeedArgs = {}): Initializer {
  return scaled("LeCunUniform", { scale: 1, mode: "fan_in", distribution: "uniform", seed });
}

// Every name an identifier may use, keyed by the name lowercased without underscores, so
// "glorotUniform", "glorot_uniform" and "GlorotUniform" meet; `config` lists the keys each takes.
const KINDS: Record<string, { name: string; config: string[]; make: (config: never) => Initializer }> = {
  zeros: { name: "zeros", config: [], make: zeros },
  ones: { name: "ones", config: [], make: ones },
  constant: { name: "constant", config: ["value"], make: constant },
  randomnormal: { name: "randomNormal", config: ["mean", "stddev", "seed"], make: randomNormal },
  truncatednormal: { name: "truncatedNormal", config: ["mean", "stddev", "seed"], make: truncatedNormal },
  randomuniform: { name: "randomUniform", config: ["minval", "maxval", "seed"], make: randomUniform },
  variancescaling: {
    name: "varianceScaling",
    config: ["scale", "mode", "distribution", "seed"],
    make: varianceScaling,
  },
  glorotuniform: { name: "glorotUniform", config: ["seed"], make: glorotUniform },
  glorotnormal: { name: "glorotNormal", config: ["seed"], make: glorotNormal },
  henormal: { name: "heNormal", config: ["seed"], make: heNormal },
  heuniform: { name: "heUniform", config: ["seed"], make: heUniform },
  lecunnormal: { name: "leCunNormal", config: ["seed"], make: leCunNormal },
  lecununiform: { name: "leCunUniform", config: ["seed"], make: leCunUniform },
};

/**
 * Resolves an initializer identifier: a Keras/tfjs name in either spelling
 * ("glorotUniform", "glorot_uniform", "GlorotUniform", "he_normal", "zeros",
 * ...), an Initializer (returned as is), or a `{ className, config }` as
 * {@link Initializer.getConfig} gives (config keys in either spelling).
 *
 * @param identifier The name, initializer or serialized initializer.
 * @returns The initializer.
 * @throws {Error} An unknown name, listing the valid ones, or a config key the initializer does not take.
 *
 * @example
 * ```ts
 * import { getInitializer, glorotUniform } from "./initializers.ts";
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(getInitializer("glorot_uniform").className, "GlorotUniform");
 * const saved = glorotUniform({ seed: 3 }).getConfig();
 * assertEquals(getInitializer(saved).getConfig(), saved);
 * assertThrows(() => getInitializer("glorot"), Error, "heNormal");
 * ```
 */
export function getInitializer(identifier: InitializerIdentifier): Initializer {
  if (typeof identifier === "string") return lookup(identifier).make({} as never);
  if (typeof identifier === "object" && identifier !== null) {
    if (typeof (identifier as Initializer).apply === "function") return identifier as Initializer;
    if (typeof identifier.className === "string") {
      const kind = lookup(identifier.className);
      const config: Record<string, unknown> = {};
      for (const [key, value] of Object.entries((identifier as InitializerConfig).config ?? {})) {
        const name = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()); // Keras spelling too
        if (!kind.config.includes(name)) {
          throw new Error(
            `getInitializer: ${identifier.className} takes no config key ${JSON.stringify(key)}: ` +
              `it takes ${kind.config.length ? kind.config.join(", ") : "none"}`,
          );
        }
        config[name] = value;
      }
      return kind.make(config as never);
    }
  }
  throw new Error(
    `getInitializer: expected a name, an initializer or { className, config }, got ${
      JSON.stringify(identifier)
    }`,
  );
}

function lookup(name: string): (typeof KINDS)[string] {
  const key = name.replaceAll("_", "").toLowerCase();
  const kind = Object.hasOwn(KINDS, key) ? KINDS[key] : undefined; // not "constructor" from the prototype
  if (kind === undefined) {
    const valid = Object.values(KINDS).map((k) => k.name).join(", ");
    throw new Error(`getInitializer: unknown initializer ${JSON.stringify(name)}: expected one of ${valid}`);
  }
  return kind;
}

/** The one Initializer class: a name, its config, and how it makes a tensor. */
class Init implements Initializer {
  readonly className: string;
  readonly #config: Record<string, unknown>;
  readonly #make: (shape: Shape, dtype: DType) => Tensor;

  constructor(
    className: string,
    config: Record<string, unknown>,
    make: (shape: Shape, dtype: DType) => Tensor,
  ) {
    this.className = className;
    this.#config = config;
    this.#make = make;
  }

  apply(shape: Shape, dtype: DType = "float32"): Tensor {
    checkShape(this.className, shape);
    return this.#make(shape, dtype);
  }

  getConfig(): InitializerConfig {
    return { className: this.className, config: { ...this.#config } };
  }
}

/** A distribution: uniform [a, b), normal N(a, b²), or that normal truncated at a ± 2b. */
type Draw = { kind: "uniform" | "normal" | "truncated"; a: number; b: number };

/** A float32 random initializer; `draw` may depend on the shape (through its fans). */
function random(
  className: string,
  config: Record<string, unknown>,
  seed: number | null | undefined,
  draw: (shape: Shape) => Draw,
): Initializer {
  if (seed !== undefined && seed !== null && !Number.isInteger(seed)) {
    throw new Error(`${className}: seed ${seed} is not an integer`);
  }
  return new Init(className, { ...config, seed: seed ?? null }, (shape, dtype) => {
    if (dtype !== "float32") {
      throw new DTypeError(`${className}: makes float32 values, ${dtype} was asked for`);
    }
    const { kind, a, b } = draw(shape);
    const rng = new Random(seed ?? undefined); // a fixed seed gives the same values on every call, as in Keras
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) {
      if (kind === "uniform") data[i] = a + (b - a) * rng.next();
      else if (kind === "normal") data[i] = a + b * rng.normal();
      else {
        let z = rng.normal();
        while (Math.abs(z) >= 2) z = rng.normal(); // rejection: keeps ~95.4% of draws
        data[i] = a + b * z;
      }
    }
    return tensor(data, shape);
  });
}

const MODES: Record<string, "fan_in" | "fan_out" | "fan_avg"> = {
  fan_in: "fan_in",
  fanIn: "fan_in",
  fan_out: "fan_out",
  fanOut: "fan_out",
  fan_avg: "fan_avg",
  fanAvg: "fan_avg",
};
const DISTRIBUTIONS: Record<string, "truncated_normal" | "untruncated_normal" | "uniform"> = {
  truncated_normal: "truncated_normal",
  truncatedNormal: "truncated_normal",
  normal: "truncated_normal", // Keras's old name, kept as an alias by Keras itself
  untruncated_normal: "untruncated_normal",
  untruncatedNormal: "untruncated_normal",
  uniform: "uniform",
};
// The stddev of a unit normal truncated at ±2: dividing by it restores the asked-for variance.
const TRUNCATED_STDDEV = 0.87962566103423978;

/**
 * VarianceScaling under `className`. The presets record only their seed (as
 * Keras's GlorotUniform does), VarianceScaling itself all four arguments.
 */
function scaled(className: string, args: VarianceScalingArgs, full = false): Initializer {
  const { scale = 1, mode: modeName = "fan_in", distribution: distName = "truncated_normal", seed } = args;
  checkNumber(className, "scale", scale);
  if (!(scale > 0)) throw new Error(`${className}: scale must be positive, got ${scale}`);
  const mode = own(MODES, modeName);
  if (mode === undefined) {
    throw new Error(`${className}: mode ${JSON.stringify(modeName)} is not one of fan_in, fan_out, fan_avg`);
  }
  const distribution = own(DISTRIBUTIONS, distName);
  if (distribution === undefined) {
    throw new Error(
      `${className}: distribution ${JSON.stringify(distName)} is not one of ` +
        `truncated_normal, untruncated_normal, uniform`,
    );
  }
  const config = full ? { scale, mode, distribution } : {};
  return random(className, config, seed, (shape) => {
    const [fanIn, fanOut] = computeFans(shape);
    const fan = mode === "fan_in" ? fanIn : mode === "fan_out" ? fanOut : (fanIn + fanOut) / 2;
    const s = scale / Math.max(1, fan);
    if (distribution === "uniform") return { kind: "uniform", a: -Math.sqrt(3 * s), b: Math.sqrt(3 * s) };
    if (distribution === "untruncated_normal") return { kind: "normal", a: 0, b: Math.sqrt(s) };
    return { kind: "truncated", a: 0, b: Math.sqrt(s) / TRUNCATED_STDDEV };
  });
}

function checkNumber(className: string, key: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${className}: ${key} must be a finite number, got ${JSON.stringify(value)}`);
  }
}

/** `table[key]` if it is the table's own entry (so "toString" is not found on the prototype). */
function own<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key] : undefined;
}
