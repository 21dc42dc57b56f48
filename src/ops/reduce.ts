/**
 * Reductions: sum, mean, max, min with `axis` and `keepDims`; argMax, argMin.
 * Each is one kernel over x seen as [outer, R, inner]: reduced axes that are
 * not adjacent are first transposed to the end.
 */
import { reduceKernel, type ReduceOp, scatterArgKernel } from "../../shaders/reduce.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { record } from "../autograd/tape.ts";
import { runtime } from "../gpu/runtime.ts";
import { normalizeAxes, type Shape, shapesEqual, sizeOf } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { WINDOW_FLOATS, windowAt, windowed } from "./_uniform_window.ts";
import { broadcastTo, mul } from "./elementwise.ts";
import { reshape, transpose } from "./transform.ts";

/** Elements from which llvmpipe's reductions read a uniform window (smaller ones are not worth a padded copy). */
const WINDOW_MIN_FLOATS = 1024;

/** x as [outer, R, inner] reduced over R; `scale` multiplies a sum (1/R for a mean). */
function reduceCore(op: ReduceOp, x: Tensor, outer: number, r: number, inner: number, scale = 1): Tensor {
  const out = empty([outer, inner], op.startsWith("arg") ? "int32" : "float32");
  const outputs = outer * inner;
  if (outputs === 0) return out;
  // Few, long reductions get a workgroup each; many short ones a thread each. Not on llvmpipe, where
  // a workgroup runs as a loop and its barriers and shared memory cost more than they save.
  const fallback = runtime().ctx.isFallbackAdapter;
  const perWorkgroup = r >= 256 && outputs < 2048 && !fallback;
  // There, an x of one uniform window is read through it (a bias gradient [128, 128]: 0.2 → ~0.05 ms).
  const window = fallback && x.size >= WINDOW_MIN_FLOATS && x.size <= WINDOW_FLOATS;
  const source = window ? windowed(x, 1, 0) : x;
  runtime().dispatch(
    reduceKernel,
    { op, perWorkgroup, window },
    [window ? windowAt(source, 0) : x.buffer, out.buffer],
    { outer, r, inner, scale },
    perWorkgroup ? grid1D(outputs, 1) : grid1D(outputs),
  );
  if (source !== x) source.dispose();
  return out;
}

/** Plans a reduction over `axes`: the tensor to reduce (transposed if needed) and its [outer, R, inner]. */
function plan(x: Tensor, axes: readonly number[]) {
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  const source = contiguous
    ? x
    : transpose(x, [...x.shape.keys()].filter((a) => !axes.includes(a)).concat(axes));
  const first = contiguous ? axes[0] ?? 0 : x.rank - axes.length;
  const r = sizeOf(axes.map((a) => x.shape[a]));
  const outer = sizeOf(source.shape.slice(0, first));
  return { source, outer, r, inner: source.size / Math.max(1, outer * r) || 0 };
}

function outShape(x: Tensor, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
}

function reduce(
  op: "sum" | "mean" | "max" | "min",
  input: Tensor,
  axis: number | readonly number[] | undefined,
  keepDims: boolean,
): Tensor {
  const x = asTensor(input);
  checkDType(op, "x", x);
  const axes = normalizeAxes(op, axis, x.rank);
  const { source, outer, r, inner } = plan(x, axes);
  const kernelOp = op === "mean" ? "sum" : op;
  const scale = op === "mean" ? 1 / r : 1;
  const x3 = reshape(source, [outer, r, inner]);
  const y2 = reduceCore(kernelOp, x3, outer, r, inner, scale);
  record(y2, [x3], (dy, [x3]) => {
    const dy3 = reshape(dy, [outer, 1, inner]);
    if (kernelOp === "sum") {
      // d(sum)/dx = 1 (× scale for a mean), broadcast back over R
      const dx = broadcastTo(dy3, x3.shape);
      return [scale === 1 ? dx : mul(dx, scale)];
    }
    // max/min: the gradient goes to the first arg-max, like the forward's tie rule
    return [scatterArg(reduceCore(op === "max" ? "argMax" : "argMin", x3, outer, r, inner), dy, x3.shape)];
  });
  return reshape(y2, outShape(x, axes, keepDims));
}

function scatterArg(idx: Tensor, dy: Tensor, shape: Shape): Tensor {
  const dx = empty(shape);
  const [outer, r, inner] = shape;
  if (dx.size > 0) {
    runtime().dispatch(
      scatterArgKernel,
      undefined,
      [idx.buffer, dy.buffer, dx.buffer],
      { outer, r, inner },
      grid1D(dx.size),
    );
  }
  return dx;
}

/**
 * Sum over `axis` (all axes if omitted).
 *
 * @param x The input tensor.
 * @param axis The axis or axes to reduce (negative counts from the end); all if omitted.
 * @param keepDims Keep the reduced axes with size 1 (default false).
 * @returns The reduced tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.tensor([[1, 2], [3, 4]]);
 * assertEquals(Array.from(await wg.sum(x).data()), [10]);
 * const rows = wg.sum(x, 1, true); // [2, 1]
 * assertEquals(await rows.array(), [[3], [7]]);
 * ```
 */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce("sum", x, axis, keepDims);
}

/**
 * Mean over `axis` (all axes if omitted).
 *
 * @param x The input tensor.
 * @param axis The axis or axes to reduce (negative counts from the end); all if omitted.
 * @param keepDims Keep the reduced axes with size 1 (default false).
 * @returns The reduced tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const m = wg.mean(wg.tensor([[1, 2], [3, 4]]), 0);
 * assertEquals(Array.from(await m.data()), [2, 3]);
 * ```
 */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce("mean", x, axis, keepDims);
}

/**
 * Maximum over `axis`; the gradient goes to the first maximal element.
 *
 * @param x The input tensor.
 * @param axis The axis or axes to reduce (negative counts from the end); all if omitted.
 * @param keepDims Keep the reduced axes with size 1 (default false).
 * @returns The reduced tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const m = wg.max(wg.tensor([[1, 5], [3, 4]]), 1);
 * assertEquals(Array.from(await m.data()), [5, 4]);
 * ```
 */
export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce("max", x, axis, keepDims);
}

/**
 * Minimum over `axis`; the gradient goes to the first minimal element.
 *
 * @param x The input tensor.
 * @param axis The axis or axes to reduce (negative counts from the end); all if omitted.
 * @param keepDims Keep the reduced axes with size 1 (default false).
 * @returns The reduced tensor.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const m = wg.min(wg.tensor([[1, 5], [3, 4]]), 1);
 * assertEquals(Array.from(await m.data()), [1, 3]);
 * ```
 */
export function min(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce("min", x, axis, keepDims);
}

function argReduce(op: "argMax" | "argMin", input: Tensor, axis: number): Tensor {
  const x = asTensor(input);
  checkDType(op, "x", x);
  const axes = normalizeAxes(op, axis, x.rank);
  const { source, outer, r, inner } = plan(x, axes);
  const y = reduceCore(op, source, outer, r, inner);
  const out = y.view(outShape(x, axes, false));
  y.dispose();
  return out;
}

/**
 * Index (int32) of the largest value along `axis` (default 0, as in TensorFlow.js); the first on ties.
 *
 * @param x The input tensor.
 * @param axis The axis to search (default 0).
 * @returns An int32 tensor of indices, without `axis`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const i = wg.argMax(wg.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]), 1); // the predicted classes
 * assertEquals(Array.from(await i.data()), [1, 0]);
 * ```
 */
export function argMax(x: Tensor, axis = 0): Tensor {
  return argReduce("argMax", x, axis);
}

/**
 * Index (int32) of the smallest value along `axis`; the first on ties.
 *
 * @param x The input tensor.
 * @param axis The axis to search (default 0).
 * @returns An int32 tensor of indices, without `axis`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const i = wg.argMin(wg.tensor([[3, 1, 2], [0, 5, 4]]), 1);
 * assertEquals(Array.from(await i.data()), [1, 0]);
 * ```
 */
export function argMin(x: Tensor, axis = 0): Tensor {
  return argReduce("argMin", x, axis);
}

/** @internal Sums `dy` over the dimensions that broadcasting added, back to `shape`. */
export function sumTo(dy: Tensor, shape: Shape): Tensor {
  if (shapesEqual(dy.shape, shape)) return dy;
  const offset = dy.rank - shape.length;
  const axes = dy.shape.map((_, i) => i).filter((i) =>
    i < offset || (shape[i - offset] === 1 && dy.shape[i] !== 1)
  );
  return reshape(sum(dy, axes, true), shape);
}
