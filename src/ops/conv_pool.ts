/**
 * maxPool(act(conv2d(x) + bias)) as one op: a first conv layer and the max
 * pool after it (the Keras MNIST and CIFAR convnets' first two layers), in one
 * kernel forward and one backward when that is exact and pays
 * (shaders/conv_pool.ts), else as the two ops.
 */
import { convPoolFilterGradKernel, convPoolKernel, type ConvPoolShape } from "../../shaders/conv_pool.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { isWatched, record } from "../autograd/tape.ts";
import { runtime } from "../gpu/runtime.ts";
import { empty, type Tensor } from "../tensor.ts";
import { fusedConv2d, type FusedConv2DConfig } from "./conv.ts";
import { checkConv } from "./_conv_impl.ts";
import { maxPool } from "./pool.ts";
import { sum } from "./reduce.ts";
import { type Padding, pair, type Window2D, window2D, windowsTile, windowUniforms } from "./_window.ts";

/** Options of `fusedConv2dMaxPool`: a conv layer's, then the max pool's. */
export interface FusedConv2DMaxPoolConfig extends FusedConv2DConfig {
  /** The pool's window, or [height, width]. */
  poolSize: number | readonly [number, number];
  /** The pool's strides (default: its window, as Keras). */
  poolStrides?: number | readonly [number, number];
  /** The pool's padding (default "valid"). */
  poolPad?: Padding;
}

/** Knob for tests and benches: `fuse: false` always runs the two ops (and a model, the two layers). */
export const convPoolConfig = { fuse: true };

/** Largest KH·KW·C fused: beyond it the conv's multiply-adds, not its stores, dominate (a GEMM's job). */
const MAX_TAPS = 32;
/** Largest pool window fused: 4 arg-maxes of up to 16 positions share one exact f32. */
const MAX_POOL_POSITIONS = 16;

/**
 * maxPool(act(conv2d(x, filter) + bias), poolSize, poolStrides, poolPad),
 * equal to the two ops, forward and backward (the same arg-max on ties).
 * One kernel each way when nothing differentiates x (a first layer, or
 * inference), the activation is linear or relu, F % 4 == 0, KH·KW·C ≤ 32 and
 * the pool's windows tile the conv's output: the conv's output, 4x the
 * pooled one for 2x2 windows, is then never stored, nor the pool's gradient.
 * Otherwise the two ops, the conv computing only the rows and columns a
 * "valid" pool reads (10x10 of 11x11 for the MNIST CNN's second layer).
 *
 * @param config The conv's options (see FusedConv2DConfig) and the pool's.
 * @returns [N, POH, POW, F].
 * @example
 * ```ts
 * import { ready } from "../gpu/runtime.ts";
 * import { fusedConv2dMaxPool } from "./conv_pool.ts";
 * import { tensor } from "./creation.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await ready();
 * const x = tensor([1, -2, 3, -4, 5, -6, 7, -8], [1, 2, 4, 1]);
 * const filter = tensor([1, -1, 2, 0], [1, 1, 1, 4]); // four 1x1 filters
 * const y = fusedConv2dMaxPool({ x, filter, strides: 1, pad: "valid", activation: "relu", poolSize: 2 });
 * assertEquals(y.shape, [1, 1, 2, 4]);
 * assertEquals([...await y.data()], [5, 6, 10, 0, 7, 8, 14, 0]);
 * ```
 */
export function fusedConv2dMaxPool(config: FusedConv2DMaxPoolConfig): Tensor {
  const { poolSize, poolStrides = poolSize, poolPad = "valid" } = config;
  const { x, filter, bias, g, activation, alpha } = checkConv(config);
  const [KH, KW, C, F] = filter.shape;
  const pool = window2D(
    "maxPool",
    [g.N, g.OH, g.OW, F],
    pair("maxPool", "poolSize", poolSize),
    poolStrides,
    poolPad,
  );
  const pooledSize = pool.N * pool.OH * pool.OW * F;
  const fused = convPoolConfig.fuse &&
    (activation === "linear" || activation === "relu") && // relu(max z) = max relu(z); its ties have gradient 0
    !isWatched(x) && // no dx: the fused backward computes dW and dbias only
    F % 4 === 0 && KH * KW * C <= MAX_TAPS && pool.KH * pool.KW <= MAX_POOL_POSITIONS &&
    windowsTile(pool) && pooledSize > 0 && fitsTextures([x.size, filter.size, pooledSize]);
  if (!fused) {
    // A "valid" pool may leave the conv's last rows or columns unread (11 → 5 for 2x2): they are not computed.
    const used = [(pool.OH - 1) * pool.SH + pool.KH, (pool.OW - 1) * pool.SW + pool.KW] as const;
    const crop = poolPad === "valid" && (used[0] < g.OH || used[1] < g.OW) ? used : undefined;
    return maxPool(fusedConv2d(config, crop), poolSize, poolStrides, poolPad);
  }

  const gpu = runtime();
  const shape: ConvPoolShape = {
    ph: pool.KH,
    pw: pool.KW,
    kh: KH,
    kw: KW,
    c: C,
    sh: g.SH,
    sw: g.SW,
    f4: F / 4,
    activation,
  };
  const y = empty([pool.N, pool.OH, pool.OW, F]);
  const withArg = isWatched(filter) || (bias !== undefined && isWatched(bias));
  const arg = withArg ? empty([pool.N, pool.OH, pool.OW, F / 4]) : null; // shaders/conv_pool.ts
  const rows = pool.N * pool.OH; // forward invocations: one per pooled row
  gpu.dispatch(
    convPoolKernel,
    { ...shape, withArg },
    [
      gpu.texture(x.buffer, x.size),
      gpu.texture(filter.buffer, filter.size),
      gpu.texture((bias ?? filter).buffer, F),
      y.buffer,
      ...(arg ? [arg.buffer] : []),
    ],
    { ...windowUniforms(g), POH: pool.OH, POW: pool.OW, total: rows, hasBias: bias ? 1 : 0, alpha },
    grid1D(rows),
  );
  if (!arg) return y;
  const inputs = bias ? [x, filter, bias] : [x, filter];
  record(y, inputs, (dy, [x, y, arg]) => {
    const { dW, dBias } = filterGrad(x, dy, y, arg, g, pool, shape, alpha);
    return bias ? [null, dW, dBias] : [null, dW];
  }, [x, y, arg]);
  arg.dispose(); // the tape keeps a view
  return y;
}

/** dW and dbias: partial sums over ~512 invocations (slices of pooled pixels × filter groups), added up. */
function filterGrad(
  x: Tensor,
  dy: Tensor,
  y: Tensor,
  arg: Tensor,
  g: Window2D,
  pool: Window2D,
  shape: ConvPoolShape,
  alpha: number,
) {
  const gpu = runtime();
  const rows = pool.N * pool.OH * pool.OW;
  const slices = Math.max(1, Math.min(Math.round(512 / shape.f4), Math.floor(rows / 32)));
  const share = Math.ceil(rows / slices);
  const taps = shape.kh * shape.kw * shape.c, F = 4 * shape.f4;
  const partial = empty([slices, taps + 1, F]);
  gpu.dispatch(
    convPoolFilterGradKernel,
    shape,
    [
      gpu.texture(x.buffer, x.size),
      gpu.texture(dy.buffer, dy.size),
      gpu.texture(y.buffer, y.size),
      gpu.texture(arg.buffer, arg.size),
      partial.buffer,
    ],
    { ...windowUniforms(g), POH: pool.OH, POW: pool.OW, total: slices * shape.f4, rows, share, alpha },
    grid1D(slices * shape.f4),
  );
  const total = slices === 1 ? partial : sum(partial, 0);
  if (total !== partial) partial.dispose();
  // NOTE: the first KH·KW·C·F floats are dW (a prefix view); dbias is the last row.
  const dBias = empty([F]);
  gpu.copy(total.buffer, taps * F * 4, dBias.buffer, 0, F * 4);
  return { dW: total.view([shape.kh, shape.kw, shape.c, F]), dBias };
}

/** Whether tensors of these sizes (floats) fit the texture copies the kernels read. */
function fitsTextures(sizes: number[]): boolean {
  const max = runtime().textures.maxFloats;
  return sizes.every((n) => n <= max);
}
