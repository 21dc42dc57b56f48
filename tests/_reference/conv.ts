/**
 * Float64 CPU references for the windowed ops (conv2d, maxPool, avgPool),
 * written from TensorFlow's definitions, independently of src/ops/_window.ts.
 * Layouts: x [N,H,W,C] (NHWC), filter [KH,KW,C,F] (HWIO), flat row-major arrays.
 */

export type Pad = "valid" | "same";

/** Output size and padding before the input along one axis, as TensorFlow defines them. */
export function axisGeometry(size: number, k: number, s: number, pad: Pad): { out: number; before: number } {
  if (pad === "valid") return { out: Math.floor((size - k) / s) + 1, before: 0 };
  const out = Math.ceil(size / s);
  // TensorFlow: the odd padding pixel goes after the input (bottom/right).
  return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
}

/** Geometry of a window over [N,H,W,C]. */
export function geometry(
  xShape: readonly number[],
  [KH, KW]: readonly number[],
  [SH, SW]: readonly number[],
  pad: Pad,
) {
  const [N, H, W, C] = xShape;
  const h = axisGeometry(H, KH, SH, pad), w = axisGeometry(W, KW, SW, pad);
  return { N, H, W, C, KH, KW, SH, SW, OH: h.out, OW: w.out, padT: h.before, padL: w.before };
}

/** y[n,oh,ow,f] = Σ_{kh,kw,c} x[n, oh·SH + kh - padT, ow·SW + kw - padL, c] · w[kh,kw,c,f] (+ bias[f]). */
export function conv2dRef(
  x: ArrayLike<number>,
  xShape: readonly number[],
  w: ArrayLike<number>,
  wShape: readonly number[],
  strides: readonly number[],
  pad: Pad,
  bias?: ArrayLike<number>,
): { y: Float64Array; shape: number[] } {
  const [KH, KW, C, F] = wShape;
  const g = geometry(xShape, [KH, KW], strides, pad);
  const y = new Float64Array(g.N * g.OH * g.OW * F);
  for (let n = 0; n < g.N; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let f = 0; f < F; f++) {
          let acc = bias ? bias[f] : 0;
          for (let kh = 0; kh < KH; kh++) {
            const h = oh * g.SH + kh - g.padT;
            if (h < 0 || h >= g.H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const ww = ow * g.SW + kw - g.padL;
              if (ww < 0 || ww >= g.W) continue;
              for (let c = 0; c < C; c++) {
                acc += x[((n * g.H + h) * g.W + ww) * C + c] * w[((kh * KW + kw) * C + c) * F + f];
              }
            }
          }
          y[((n * g.OH + oh) * g.OW + ow) * F + f] = acc;
        }
      }
    }
  }
  return { y, shape: [g.N, g.OH, g.OW, F] };
}

/** Max or mean over each window's real (unpadded) inputs; max also gives the first arg-max (flat x index). */
export function poolRef(
  op: "max" | "avg",
  x: ArrayLike<number>,
  xShape: readonly number[],
  filterSize: readonly number[],
  strides: readonly number[],
  pad: Pad,
): { y: Float64Array; arg: Int32Array; shape: number[] } {
  const g = geometry(xShape, filterSize, strides, pad);
  const size = g.N * g.OH * g.OW * g.C;
  const y = new Float64Array(size), arg = new Int32Array(size);
  for (let n = 0; n < g.N; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let c = 0; c < g.C; c++) {
          let best = -Infinity, at = -1, sum = 0, count = 0;
          for (let kh = 0; kh < g.KH; kh++) {
            const h = oh * g.SH + kh - g.padT;
            if (h < 0 || h >= g.H) continue;
            for (let kw = 0; kw < g.KW; kw++) {
              const w = ow * g.SW + kw - g.padL;
              if (w < 0 || w >= g.W) continue;
              const i = ((n * g.H + h) * g.W + w) * g.C + c;
              if (at < 0 || x[i] > best) [best, at] = [x[i], i]; // first maximum in row-major order
              sum += x[i];
              count++;
            }
          }
          const o = ((n * g.OH + oh) * g.OW + ow) * g.C + c;
          y[o] = op === "max" ? best : sum / count;
          arg[o] = at;
        }
      }
    }
  }
  return { y, arg, shape: [g.N, g.OH, g.OW, g.C] };
}
