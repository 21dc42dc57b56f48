/**
 * Float64 references of softmax and logSoftmax over the last axis (C = its
 * size), computed stably: m = max z, s = Σ exp(z - m).
 */
import { type Arr, arr, Sum } from "./array.ts";

/** m = max z and s = Σ exp(z - m) of row `r` of z seen as [rows, C] (log Σ exp z = m + log s). */
export function rowStats(z: Arr, r: number): { m: number; s: number } {
  const c = z.shape[z.shape.length - 1];
  let m = -Infinity;
  for (let j = 0; j < c; j++) m = Math.max(m, z.data[r * c + j]);
  const s = new Sum();
  for (let j = 0; j < c; j++) s.add(Math.exp(z.data[r * c + j] - m));
  return { m, s: s.value };
}

function rowwise(z: Arr, log: boolean): Arr {
  const c = z.shape[z.shape.length - 1];
  const out = arr(z.shape);
  for (let r = 0; r < z.data.length / c; r++) {
    const { m, s } = rowStats(z, r);
    for (let j = 0; j < c; j++) {
      const d = z.data[r * c + j] - m;
      out.data[r * c + j] = log ? d - Math.log(s) : Math.exp(d) / s;
    }
  }
  return out;
}

/** exp(z) / Σ exp(z) over the last axis. */
export const softmax = (z: Arr): Arr => rowwise(z, false);

/** z - log Σ exp(z) over the last axis. */
export const logSoftmax = (z: Arr): Arr => rowwise(z, true);
