/** Seedable pseudo-random numbers for initial values (CPU side, so a seed gives the same tensor on every adapter). */

/** A 32-bit generator (mulberry32): fast, small state, good enough for initial weights and shuffles. */
export class Random {
  #state: number;

  constructor(seed: number = Math.floor(Math.random() * 2 ** 32)) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(u) is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * A seed derived from (seed, n): the n-th epoch's shuffle, the n-th step's dropout mask. Not
 * `seed + n`: mulberry32 streams from nearby seeds overlap, shifted (its state advances by a
 * constant per draw).
 */
export function mixSeed(seed: number, n: number): number {
  let h = (Math.trunc(seed) >>> 0) ^ Math.imul(n + 1, 0x9e3779b9);
  // murmur3's 32-bit finalizer: every input bit affects every output bit.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
