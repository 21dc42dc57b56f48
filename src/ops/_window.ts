/**
 * Sliding-window geometry shared by conv2d and the pools: argument checks
 * with errors that name the problem, and TensorFlow's output size and padding
 * rule for "valid" and "same".
 */
import { ShapeError } from "../errors.ts";
import { formatShape, type Shape } from "../shape.ts";

/** "valid": no padding; "same": out = ceil(in / stride), zero-padded, the extra pixel at the bottom/right. */
export type Padding = "valid" | "same";

/**
 * Where a window slides over an NHWC input.
 * N batch, H×W input, C channels; KH×KW window; SH, SW strides;
 * OH×OW output; padT, padL the zero rows/columns above and left of the input.
 */
export interface Window2D {
  N: number;
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  OH: number;
  OW: number;
  padT: number;
  padL: number;
}

/** `n` or `[a, b]` as a pair of positive integers; `what` names it in the error. */
export function pair(op: string, what: string, value: number | readonly number[]): [number, number] {
  const p = typeof value === "number" ? [value, value] : [...value];
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v > 0)) {
    throw new ShapeError(
      `${op}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`,
    );
  }
  return p as [number, number];
}

/** Checks `x` is rank 4 (NHWC); `role` names it in the error (e.g. "x", "filter (HWIO)"). */
export function checkRank4(op: string, role: string, shape: Shape): void {
  if (shape.length !== 4) {
    throw new ShapeError(
      `${op}: ${role} must be rank 4, got rank ${shape.length} ${formatShape(shape)}` +
        (role === "x" && shape.length === 3 ? " (add a batch axis: reshape to [1, ...shape])" : ""),
    );
  }
}

/** One axis: output size and padding before it, by TensorFlow's rule. */
function axis(op: string, name: string, size: number, k: number, s: number, pad: Padding) {
  if (pad === "valid") {
    if (k > size) {
      throw new ShapeError(
        `${op}: the ${name} of the window (${k}) is larger than the input's (${size}) with 'valid' padding`,
      );
    }
    return { out: Math.floor((size - k) / s) + 1, before: 0 };
  }
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  // NOTE: TensorFlow puts the odd pixel of "same" padding after (bottom/right).
  return { out, before: Math.floor(total / 2) };
}

/** The geometry of a KH×KW window sliding over `xShape` (NHWC) with `strides` and `pad`. */
export function window2D(
  op: string,
  xShape: Shape,
  [KH, KW]: readonly [number, number],
  strides: number | readonly number[],
  pad: Padding,
): Window2D {
  checkRank4(op, "x", xShape);
  const [SH, SW] = pair(op, "strides", strides);
  if (pad !== "valid" && pad !== "same") {
    throw new ShapeError(`${op}: pad must be 'valid' or 'same', got ${JSON.stringify(pad)}`);
  }
  const [N, H, W, C] = xShape;
  const h = axis(op, "height", H, KH, SH, pad);
  const w = axis(op, "width", W, KW, SW, pad);
  return { N, H, W, C, KH, KW, SH, SW, OH: h.out, OW: w.out, padT: h.before, padL: w.before };
}

/** The uniforms every window kernel takes (shapes in uniforms, never in the WGSL). */
export function windowUniforms(g: Window2D): Record<string, number> {
  return {
    H: g.H,
    W: g.W,
    C: g.C,
    KH: g.KH,
    KW: g.KW,
    SH: g.SH,
    SW: g.SW,
    OH: g.OH,
    OW: g.OW,
    padT: g.padT,
    padL: g.padL,
  };
}

/** No padding: every window of every output pixel lies inside the image. */
export function windowsInside(g: Window2D): boolean {
  return g.padT === 0 && g.padL === 0 && (g.OH - 1) * g.SH + g.KH <= g.H && (g.OW - 1) * g.SW + g.KW <= g.W;
}

/** Windows that tile the image (strides = window, no padding): every input in at most one window. */
export function windowsTile(g: Window2D): boolean {
  return g.SH === g.KH && g.SW === g.KW && windowsInside(g);
}
