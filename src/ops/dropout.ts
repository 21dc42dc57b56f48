/** Inverted dropout with a counter-based GPU RNG (shaders/dropout.ts). */
import { dropoutKernel } from "../../shaders/dropout.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { record } from "../autograd/tape.ts";
import { runtime } from "../gpu/runtime.ts";
import { Random } from "../random.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { reshape } from "./transform.ts";

/** Seeds for calls without one: a fresh mask every step. */
const seeds = new Random();

/**
 * Inverted dropout: each element is zeroed with probability `rate` and the
 * others are scaled by 1/(1 - rate), so the expected value is unchanged.
 * The mask is a function of (seed, element index) computed on the GPU: the
 * same seed gives the same mask, and the gradient uses exactly the forward's
 * mask. Without a seed each call draws a new one.
 *
 * @param x The input.
 * @param rate Probability of dropping an element, in [0, 1); 0 returns x unchanged.
 * @param seed Any integer (taken modulo 2³²); omit it for a fresh mask per call.
 * @returns A tensor of x's shape.
 * @example
 * ```ts
 * import { ready } from "../gpu/runtime.ts";
 * import { dropout } from "./dropout.ts";
 * import { ones } from "./creation.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready();
 * const y = await dropout(ones([1000]), 0.5, 42).data();
 * assert(y.every((v) => v === 0 || v === 2)); // kept values are scaled by 1 / (1 - 0.5)
 * ```
 */
export function dropout(x: Tensor, rate: number, seed?: number): Tensor {
  const input = asTensor(x);
  checkDType("dropout", "x", input);
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new RangeError(`dropout: rate must be in [0, 1), got ${rate}`);
  }
  if (seed !== undefined && !Number.isFinite(seed)) {
    throw new RangeError(`dropout: seed must be a finite number, got ${seed}`);
  }
  if (rate === 0) return reshape(input, input.shape); // identity, with an identity gradient
  const s = seed === undefined ? Math.floor(seeds.next() * 2 ** 32) : Math.trunc(seed) >>> 0;
  const uniforms = {
    n: input.size,
    seed: s,
    // keep where hash >= threshold: probability 1 - threshold / 2³² = 1 - rate
    threshold: Math.min(Math.round(rate * 2 ** 32), 2 ** 32 - 1),
    scale: 1 / (1 - rate),
  };
  const apply = (t: Tensor) => {
    const out = empty(t.shape);
    if (out.size > 0) {
      runtime().dispatch(dropoutKernel, undefined, [t.buffer, out.buffer], uniforms, grid1D(out.size));
    }
    return out;
  };
  // dx = dy · mask / (1 - rate): the same kernel with the same seed
  return record(apply(input), [input], (dy) => [apply(dy)], []);
}
