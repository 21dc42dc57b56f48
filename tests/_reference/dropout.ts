/**
 * Reference of dropout's mask: the same PCG hash as shaders/dropout.ts, in
 * 32-bit integer JavaScript, so a test can predict the GPU's mask exactly.
 */

/** PCG hash (Jarzynski & Olano 2020) of a u32. */
export function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Whether element i survives dropout at `rate` with `seed`. */
export function kept(seed: number, i: number, rate: number): boolean {
  const threshold = Math.min(Math.round(rate * 2 ** 32), 2 ** 32 - 1);
  return (pcg((pcg(i) ^ pcg(seed >>> 0)) >>> 0) >>> 0) >= threshold;
}
