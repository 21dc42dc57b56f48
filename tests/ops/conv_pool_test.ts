/**
 * Property tests of fusedConv2dMaxPool: random N, H, W, C ≤ 3, F ∈ {4, 8},
 * kernels 1-3, strides 1-2, "valid" and "same", pool windows 1-3 (strides =
 * window, the fused kernels) and overlapping pools (the two ops); forward vs
 * the float64 reference maxPool(act(conv2d)), gradients vs its central
 * differences. Plus ties (a constant image: every window position ties, the
 * first wins, as maxPool), large values, and a check that the fused kernels ran.
 * Where they cannot run, the two ops compute only the conv outputs a "valid"
 * pool reads: cases leave up to one row and column unread, under each conv
 * implementation.
 * Legend: x [N,H,W,C], filter [KH,KW,C,F], y [N,POH,POW,F].
 *
 * Tolerances: each conv output is within (K + 1)·U·Σ|x·w| (K = KH·KW·C) of
 * exact, max picks one of them, relu is exact. dW sums R = N·POH·POW products
 * (as slices and a sum of the slices), dbias R values.
 *
 * A max is not differentiable where two window positions tie, nor relu at 0:
 * drawn cases keep every window's two largest conv outputs, and its largest
 * from 0, further apart than the central differences' largest step moves them.
 */
import fc from "fast-check";
import { assertEquals } from "@std/assert";
import { valueAndGrads } from "../../src/autograd/gradients.ts";
import { runtime } from "../../src/gpu/runtime.ts";
import { convConfig } from "../../src/ops/_conv_impl.ts";
import { tensor } from "../../src/ops/creation.ts";
import * as convPoolOps from "../../src/ops/conv_pool.ts";
import { fusedConv2d } from "../../src/ops/conv.ts";
import { maxPool } from "../../src/ops/pool.ts";
import { type Tensor, tidy } from "../../src/tensor.ts";
import type { Arr } from "../_reference/array.ts";
import { conv2d, type ConvParams, geometry } from "../_reference/conv.ts";
import { pool } from "../_reference/pool.ts";
import { fill, Random, uniform } from "../_helpers/arbitrary.ts";
import { type Case, checkOp, described, type OpSpec, U } from "../_helpers/check_op.ts";

interface Params {
  conv: ConvParams;
  pool: { filterSize: [number, number]; strides: [number, number] };
}

const abs = (xs: Arr[]) => xs.map((x) => ({ ...x, data: x.data.map(Math.abs) }));
const convRef = ([x, w, bias]: Arr[], p: Params) => conv2d(x, w, bias, p.conv);
const ref = (xs: Arr[], p: Params) => pool("max", convRef(xs, p), { ...p.pool, pad: "valid" });

const gpu = ([x, filter, bias]: Tensor[], p: Params) =>
  convPoolOps.fusedConv2dMaxPool({
    x,
    filter,
    bias,
    ...p.conv,
    poolSize: p.pool.filterSize,
    poolStrides: p.pool.strides,
  });

/**
 * The largest step the central differences take moves a conv output by at most 4h·|x| ≤ 2⁻⁹ (h ≤ 2⁻¹²·|w|,
 * |x|, |w| ≤ 1); a bias step moves every position of a window alike. Twice that keeps each max on its side.
 */
const GAP = 2 ** -8;

/** Every pool window's two largest conv outputs (and, for relu, its largest and 0) are GAP apart. */
function separated(xs: Arr[], p: Params): boolean {
  const z = convRef(xs, { ...p, conv: { ...p.conv, activation: "linear" } });
  const [N, OH, OW, F] = z.shape;
  const [PH, PW] = p.pool.filterSize, [SH, SW] = p.pool.strides;
  const POH = Math.floor((OH - PH) / SH) + 1, POW = Math.floor((OW - PW) / SW) + 1;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < POH; i++) {
      for (let j = 0; j < POW; j++) {
        for (let f = 0; f < F; f++) {
          const window: number[] = [];
          for (let a = 0; a < PH; a++) {
            for (let b = 0; b < PW; b++) {
              window.push(z.data[((n * OH + i * SH + a) * OW + j * SW + b) * F + f]);
            }
          }
          window.sort((u, v) => v - u);
          if (window.length > 1 && window[0] - window[1] < GAP) return false;
          if (p.conv.activation === "relu" && Math.abs(window[0]) < GAP) return false;
        }
      }
    }
  }
  return true;
}

/** `tile`: pool strides = window (the fused kernels); else strides 1 (the two ops). */
function cases(tile: boolean): fc.Arbitrary<Case<Params>> {
  return fc.record({
    N: fc.integer({ min: 1, max: 2 }),
    KH: fc.integer({ min: 1, max: 3 }),
    KW: fc.integer({ min: 1, max: 3 }),
    C: fc.constantFrom(1, 2, 3),
    F: fc.constantFrom(4, 8),
    strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pad: fc.constantFrom("valid" as const, "same" as const),
    PH: fc.integer({ min: 1, max: 3 }),
    PW: fc.integer({ min: 1, max: 3 }),
    // pooled rows and columns, and conv output rows / columns no window covers ("valid" drops them)
    POH: fc.integer({ min: 1, max: 3 }),
    POW: fc.integer({ min: 1, max: 3 }),
    leftH: fc.integer({ min: 0, max: 1 }),
    leftW: fc.integer({ min: 0, max: 1 }),
    activation: fc.constantFrom("linear" as const, "relu" as const),
    seed: fc.integer(),
  }).map((d) => {
    const [SH, SW] = d.strides;
    const [ph, pw] = tile ? [d.PH, d.PW] : [1, 1]; // pool strides
    const OH = (d.POH - 1) * ph + d.PH + d.leftH, OW = (d.POW - 1) * pw + d.PW + d.leftW;
    // an input size giving OH x OW conv outputs
    const size = (out: number, k: number, s: number) => d.pad === "valid" ? (out - 1) * s + k : out * s;
    const rng = new Random(d.seed);
    const xs = [
      fill([d.N, size(OH, d.KH, SH), size(OW, d.KW, SW), d.C], uniform(-1, 1), rng),
      fill([d.KH, d.KW, d.C, d.F], uniform(-1, 1), rng),
      fill([d.F], uniform(-0.5, 0.5), rng),
    ];
    const params: Params = {
      conv: { strides: d.strides, pad: d.pad, activation: d.activation, alpha: 0.2 },
      pool: { filterSize: [d.PH, d.PW], strides: [ph, pw] },
    };
    return described({ xs, params, seed: d.seed });
  }).filter((c) => separated(c.xs, c.params));
}

function spec(name: string, tile: boolean, wrt: number[]): OpSpec<Params> {
  return {
    name,
    cases: cases(tile),
    gpu,
    ref,
    // (K + 1)·U·(Σ|x·w| + |bias|) at the conv output the max picked, bounded by the window's largest.
    forwardTol: ({ case: c, want }) => {
      const [KH, KW, C] = c.xs[1].shape;
      const mag =
        pool("max", convRef(abs(c.xs), { ...c.params, conv: { ...c.params.conv, activation: "linear" } }), {
          ...c.params.pool,
          pad: "valid",
        }).data;
      return want.data.map((y, i) => (KH * KW * C + 1) * U * mag[i] + U * Math.abs(y));
    },
    // dx: at most KH·KW·F·PH·PW terms; dW: 2R (slices, then their sum); dbias: R.
    gradTol: ({ case: c, input, mag }) => {
      const [KH, KW, , F] = c.xs[1].shape;
      const g = geometry(c.xs[0].shape, [KH, KW], c.params.conv.strides, c.params.conv.pad);
      const R = g.N * g.OH * g.OW;
      const terms = [KH * KW * F * 9, 2 * R, R][input] + 3;
      return mag.map((m) => terms * U * m);
    },
    wrt,
    numRuns: 15,
  };
}

// x not differentiated (a first layer): the fused kernels where the pool tiles; else conv2d, then maxPool.
const fusedSpec = spec("fusedConv2dMaxPool (x not differentiated)", true, [1, 2]);
fusedSpec.examples = [
  // The Keras MNIST CNN's first two layers, shrunk: 3x3x1 → 32 filters, relu, 2x2 pool (26 → 13 there).
  described({
    xs: [
      fill([2, 10, 9, 1], uniform(-1, 1), new Random(1)),
      fill([3, 3, 1, 32], uniform(-1, 1), new Random(2)),
      fill([32], uniform(-0.5, 0.5), new Random(3)),
    ],
    params: {
      conv: { strides: [1, 1], pad: "valid", activation: "relu", alpha: 0.2 },
      pool: { filterSize: [2, 2], strides: [2, 2] },
    },
    seed: 4,
  }),
  // Large values: conv outputs near 1e37 (and 1e30 biases), relu, CIFAR's 3 channels.
  described({
    xs: [
      fill([1, 8, 9, 3], uniform(-1e18, 1e18), new Random(5)),
      fill([3, 3, 3, 4], uniform(-1e18, 1e18), new Random(6)),
      fill([4], uniform(-1e30, 1e30), new Random(7)),
    ],
    params: {
      conv: { strides: [1, 1], pad: "same", activation: "relu", alpha: 0.2 },
      pool: { filterSize: [2, 2], strides: [2, 2] },
    },
    seed: 8,
  }),
];

const CONV_POOL_TESTS: Record<Exclude<keyof typeof convPoolOps, "convPoolConfig">, OpSpec<Params>[]> = {
  fusedConv2dMaxPool: [
    fusedSpec,
    spec("fusedConv2dMaxPool (x differentiated: conv2d, then maxPool)", true, [0, 1, 2]),
    spec("fusedConv2dMaxPool (overlapping pool windows: conv2d, then maxPool)", false, [1, 2]),
  ],
};

for (const s of Object.values(CONV_POOL_TESTS).flat()) {
  Deno.test(`${s.name}: forward = float64 reference, gradients = central differences`, () => checkOp(s));
}

// The two ops crop the conv to the rows and columns a "valid" pool reads: each conv implementation, forced.
for (const algorithm of ["uniform", "texture", "im2col"] as const) {
  const forced = { ...spec(`fusedConv2dMaxPool, two ops, ${algorithm} conv`, true, [0, 1, 2]), numRuns: 8 };
  Deno.test(`${forced.name}: forward = float64 reference, gradients = central differences`, async () => {
    convConfig.algorithm = algorithm;
    try {
      await checkOp(forced);
    } finally {
      convConfig.algorithm = "auto";
    }
  });
}

/** Kernels dispatched while `f` runs, by name. */
function dispatched<T>(f: () => T): { names: string[]; result: T } {
  const rt = runtime();
  const names: string[] = [];
  const original = rt.dispatch;
  rt.dispatch = function (this: typeof rt, ...args: Parameters<typeof rt.dispatch>) {
    names.push(args[0].name);
    return original.apply(this, args);
  } as typeof rt.dispatch;
  try {
    return { names, result: f() };
  } finally {
    rt.dispatch = original;
  }
}

Deno.test("fusedConv2dMaxPool: tied window positions go to the first, as maxPool (exact values)", async () => {
  // 1x2 filters of ones over the row 1 5 1 7 1: conv outputs 6 6 8 8, so both 1x2 pool windows tie. The
  // first position wins: dW[kw] = Σ x[2m + kw] = (1 + 1, 5 + 7); the second would give (5 + 7, 1 + 1).
  const x = tensor([1, 5, 1, 7, 1], [1, 1, 5, 1]);
  const filter = tensor(new Float32Array(8).fill(1), [1, 2, 1, 4]);
  const bias = tensor([0, 0, 0, 0]);
  const ones = tensor(new Float32Array(8).fill(1), [1, 1, 2, 4]);
  for (const fuse of [true, false]) {
    const f = (filter: Tensor, bias: Tensor) =>
      fuse
        ? convPoolOps.fusedConv2dMaxPool({
          x,
          filter,
          bias,
          strides: 1,
          pad: "valid",
          activation: "relu",
          poolSize: [1, 2],
        })
        : maxPool(fusedConv2d({ x, filter, bias, strides: 1, pad: "valid", activation: "relu" }), [1, 2], [
          1,
          2,
        ], "valid");
    const { names, result } = dispatched(() =>
      tidy(() => {
        const { value, grads } = valueAndGrads(f)([filter, bias], ones);
        return [value, ...grads];
      })
    );
    assertEquals(
      names.includes("conv_pool") && names.includes("conv_pool_filter_grad"),
      fuse,
      `ran ${names}`,
    );
    const [y, dW, dBias] = await Promise.all(result.map((t) => t.data()));
    result.forEach((t) => t.dispose());
    assertEquals([...y], [6, 6, 6, 6, 8, 8, 8, 8]);
    assertEquals([...dW], [2, 2, 2, 2, 12, 12, 12, 12]);
    assertEquals([...dBias], [2, 2, 2, 2]);
  }
  [x, filter, bias, ones].forEach((t) => t.dispose());
});
