/**
 * Float64 reference of maxPool and avgPool (NHWC), from TensorFlow's
 * definition: a window's padded positions are not inputs (max never picks
 * them, the mean divides by the real inputs only).
 */
import { type Arr, arr } from "./array.ts";
import { geometry, type Pad } from "./conv.ts";

export interface PoolParams {
  filterSize: [number, number];
  strides: [number, number];
  pad: Pad;
}

/** Max or mean over each window; ties in max take the first input in row-major order (same value). */
export function pool(op: "max" | "avg", x: Arr, p: PoolParams): Arr {
  const g = geometry(x.shape, p.filterSize, p.strides, p.pad);
  const y = arr([g.N, g.OH, g.OW, g.C]);
  for (let n = 0; n < g.N; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let c = 0; c < g.C; c++) {
          let best = -Infinity, sum = 0, count = 0;
          for (let kh = 0; kh < g.KH; kh++) {
            const h = oh * g.SH + kh - g.padT;
            if (h < 0 || h >= g.H) continue;
            for (let kw = 0; kw < g.KW; kw++) {
              const w = ow * g.SW + kw - g.padL;
              if (w < 0 || w >= g.W) continue;
              const v = x.data[((n * g.H + h) * g.W + w) * g.C + c];
              best = Math.max(best, v);
              sum += v;
              count++;
            }
          }
          y.data[((n * g.OH + oh) * g.OW + ow) * g.C + c] = op === "max" ? best : sum / count;
        }
      }
    }
  }
  return y;
}
