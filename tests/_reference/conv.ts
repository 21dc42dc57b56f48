/**
 * Float64 reference of conv2d / fusedConv2d, written from TensorFlow's
 * definition (independently of src/ops/_window.ts), and the window geometry
 * the pool reference shares.
 * Layouts: x [N,H,W,C] (NHWC), filter [KH,KW,C,F] (HWIO), y [N,OH,OW,F].
 */
import type { FusedActivation } from "../../shaders/matmul.ts";
import { type Arr, arr } from "./array.ts";
import { UNARY_REF } from "./elementwise.ts";

export type Pad = "valid" | "same";

/** Output size and padding before the input along one axis, as TensorFlow defines them. */
export function axisGeometry(size: number, k: number, s: number, pad: Pad): { out: number; before: number } {
  if (pad === "valid") return { out: Math.floor((size - k) / s) + 1, before: 0 };
  const out = Math.ceil(size / s);
  // TensorFlow: the odd padding pixel goes after the input (bottom/right).
  return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
}

/** Geometry of a KH×KW window over [N,H,W,C] with strides [SH, SW]. */
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

export interface ConvParams {
  strides: [number, number];
  pad: Pad;
  activation: FusedActivation;
  alpha: number;
}

/**
 * y[n,oh,ow,f] = act(Σ_{kh,kw,c} x[n, oh·SH + kh - padT, ow·SW + kw - padL, c]·w[kh,kw,c,f] + bias[f]),
 * terms outside the input being zero.
 */
export function conv2d(x: Arr, w: Arr, bias: Arr | undefined, p: ConvParams): Arr {
  const [KH, KW, C, F] = w.shape;
  const g = geometry(x.shape, [KH, KW], p.strides, p.pad);
  const y = arr([g.N, g.OH, g.OW, F]);
  for (let n = 0; n < g.N; n++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        for (let f = 0; f < F; f++) {
          // Neumaier's compensated sum, inline (the reference's hot loop)
          let sum = bias ? bias.data[f] : 0, comp = 0;
          for (let kh = 0; kh < KH; kh++) {
            const h = oh * g.SH + kh - g.padT;
            if (h < 0 || h >= g.H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const ww = ow * g.SW + kw - g.padL;
              if (ww < 0 || ww >= g.W) continue;
              for (let c = 0; c < C; c++) {
                const v = x.data[((n * g.H + h) * g.W + ww) * C + c] *
                  w.data[((kh * KW + kw) * C + c) * F + f];
                const t = sum + v;
                comp += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
                sum = t;
              }
            }
          }
          const z = sum + comp;
          y.data[((n * g.OH + oh) * g.OW + ow) * F + f] = p.activation === "linear"
            ? z
            : UNARY_REF[p.activation](z, p.alpha);
        }
      }
    }
  }
  return y;
}
