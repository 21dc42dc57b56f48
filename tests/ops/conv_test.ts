/**
 * Property tests of conv2d and fusedConv2d (im2col + GEMM): random N, H, W,
 * C, F, kernel sizes 1-5, strides 1-3, "valid" and "same", sizes that are
 * not multiples of 4 (the vec4 paths) or of any tile; forward vs the float64
 * reference, gradients (dx, dfilter, dbias) vs its central differences.
 * Legend: x [N,H,W,C], filter [KH,KW,C,F], y [N,OH,OW,F]; M = N·OH·OW.
 *
 * Tolerances: an output is a GEMM row·column over K = KH·KW·C products (the
 * zero-padded columns add exact zeros), so it is within (K + 1)·U·Σ|x·w| of
 * exact in any summation order. dx sums F products per window over at most
 * KH·KW windows (a GEMM, then col2im); dfilter sums M products, as S partial
 * GEMMs and a sum of S ≤ M; dbias sums M values.
 */
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "@std/assert";
import type { FusedActivation } from "../../shaders/matmul.ts";
import { ShapeError } from "../../src/errors.ts";
import { runtime } from "../../src/gpu/runtime.ts";
import { convConfig } from "../../src/ops/_conv_impl.ts";
import * as convOps from "../../src/ops/conv.ts";
import { tensor } from "../../src/ops/creation.ts";
import { tidy } from "../../src/tensor.ts";
import type { Arr } from "../_reference/array.ts";
import { conv2d, type ConvParams, geometry } from "../_reference/conv.ts";
import { fill, Random, type Sampler, uniform } from "../_helpers/arbitrary.ts";
import { type Case, checkOp, described, type OpSpec, U } from "../_helpers/check_op.ts";

const ref = ([x, w, bias]: Arr[], p: ConvParams) => conv2d(x, w, bias, p);
const abs = (xs: Arr[]) => xs.map((x) => ({ ...x, data: x.data.map(Math.abs) }));

/** Cases: shapes drawn so that "valid" always fits (H ≥ KH, W ≥ KW); `bias` adds a [F] bias. */
function cases(
  activations: readonly FusedActivation[],
  values: Sampler,
  biasValues?: Sampler,
): fc.Arbitrary<Case<ConvParams>> {
  return fc.record({
    N: fc.integer({ min: 1, max: 3 }),
    KH: fc.integer({ min: 1, max: 5 }),
    KW: fc.integer({ min: 1, max: 5 }),
    extraH: fc.integer({ min: 0, max: 5 }),
    extraW: fc.integer({ min: 0, max: 5 }),
    C: fc.constantFrom(1, 2, 3, 4, 8),
    F: fc.constantFrom(1, 3, 4, 5, 8),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pad: fc.constantFrom("valid" as const, "same" as const),
    activation: fc.constantFrom(...activations),
    seed: fc.integer(),
  }).map(({ N, KH, KW, extraH, extraW, C, F, strides, pad, activation, seed }) => {
    const rng = new Random(seed);
    const xs = [fill([N, KH + extraH, KW + extraW, C], values, rng), fill([KH, KW, C, F], values, rng)];
    if (biasValues) xs.push(fill([F], biasValues, rng));
    return described({ xs, params: { strides, pad, activation, alpha: Math.fround(0.2) }, seed });
  });
}

/** Per output: (K + 1)·U·(Σ|x·w| + |bias|), through the activation (Lipschitz 1, one rounding). */
function forwardTol({ case: c, want }: { case: Case<ConvParams>; want: Arr }): Float64Array {
  const [KH, KW, C] = c.xs[1].shape;
  const mag = ref(abs(c.xs), { ...c.params, activation: "linear" }).data;
  return want.data.map((y, i) => (KH * KW * C + 1) * U * mag[i] + U * Math.abs(y));
}

/** Terms one gradient element sums (see the header), plus one rounding of dz = f'(z)·c. */
function gradTerms(c: Case<ConvParams>, input: number): number {
  const [KH, KW, , F] = c.xs[1].shape;
  const g = geometry(c.xs[0].shape, [KH, KW], c.params.strides, c.params.pad);
  const M = g.N * g.OH * g.OW;
  return [F * KH * KW, 2 * M, M][input] + 3;
}

function spec(name: string, activations: readonly FusedActivation[], values: Sampler, bias?: Sampler) {
  const s: OpSpec<ConvParams> = {
    name,
    cases: cases(activations, values, bias),
    gpu: ([x, filter, b], p) =>
      name === "conv2d"
        ? convOps.conv2d(x, filter, p.strides, p.pad)
        : convOps.fusedConv2d({ x, filter, bias: b, ...p }),
    ref,
    forwardTol,
    gradTol: ({ case: c, input, mag }) => mag.map((m) => gradTerms(c, input) * U * m),
    // Each checked element costs 6 reference evaluations: keep a case near 10⁷ flops.
    gradElements: ({ xs }) => {
      const [N, H, W] = xs[0].shape, [KH, KW, C, F] = xs[1].shape;
      return Math.max(4, Math.min(48, Math.floor(2e6 / (N * H * W * KH * KW * C * F))));
    },
    numRuns: 20,
  };
  return s;
}

/** Small integers and a half-integer bias: z is exact and ≥ 1/2 from the kinks at 0. */
const ints: Sampler = (rng) => rng.int(7) - 3;
const halves: Sampler = (rng) => rng.int(9) - 4 + 0.5;

const conv2dSpec = spec("conv2d", ["linear"], uniform(-2, 2));
// conv2d is linear in x and in the filter: also check its VJP against central differences of the GPU forward.
conv2dSpec.linear = { inputs: [0, 1], gradUlps: gradTerms };
conv2dSpec.examples = [
  // The Keras MNIST CNN's first layer, shrunk: C = 1 (K = 9 padded to 12), F = 32.
  described({
    xs: [
      fill([2, 8, 8, 1], uniform(-1, 1), new Random(1)),
      fill([3, 3, 1, 32], uniform(-1, 1), new Random(2)),
    ],
    params: { strides: [1, 1], pad: "valid", activation: "linear", alpha: 0.2 },
    seed: 3,
  }),
  // Images of more than 16384 floats (x and dy here) do not fit one uniform window: the storage path.
  described({
    xs: [
      fill([1, 24, 24, 32], uniform(-1, 1), new Random(11)),
      fill([1, 1, 32, 32], uniform(-1, 1), new Random(12)),
    ],
    params: { strides: [1, 1], pad: "valid", activation: "linear", alpha: 0.2 },
    seed: 13,
  }),
  // F = 96: two 64-column chunks forward; the filter gradient by im2col + GEMM (F > 64).
  described({
    xs: [
      fill([2, 3, 4, 2], uniform(-1, 1), new Random(14)),
      fill([2, 2, 2, 96], uniform(-1, 1), new Random(15)),
    ],
    params: { strides: [1, 1], pad: "same", activation: "linear", alpha: 0.2 },
    seed: 16,
  }),
  // C = 2000: the filter does not fit the uniform blocks, so the forward pass is im2col + GEMM;
  // dx (C = 2000 output columns) takes 32 column chunks.
  described({
    xs: [
      fill([1, 3, 3, 2000], uniform(-1, 1), new Random(17)),
      fill([3, 3, 2000, 4], uniform(-1, 1), new Random(18)),
    ],
    params: { strides: [1, 1], pad: "same", activation: "linear", alpha: 0.2 },
    seed: 19,
  }),
  // 4-channel texels (C, F multiples of 4): the texture kernels, with strides 2 and 3 and "same" padding.
  described({
    xs: [
      fill([2, 9, 7, 8], uniform(-1, 1), new Random(20)),
      fill([3, 2, 8, 12], uniform(-1, 1), new Random(21)),
    ],
    params: { strides: [2, 3], pad: "same", activation: "linear", alpha: 0.2 },
    seed: 22,
  }),
  // An even kernel with "same": one padding row/column, after the input; strides 2 and 3.
  described({
    xs: [
      fill([1, 7, 6, 4], uniform(-1, 1), new Random(4)),
      fill([2, 4, 4, 5], uniform(-1, 1), new Random(5)),
    ],
    params: { strides: [2, 3], pad: "same", activation: "linear", alpha: 0.2 },
    seed: 6,
  }),
];

// A first layer: x is not differentiated, so dz = relu'(y)·dy is fused into the filter gradient.
const firstLayerSpec = spec("fusedConv2d (relu, bias, x not differentiated)", ["relu"], ints, halves);
firstLayerSpec.wrt = [1, 2];
firstLayerSpec.numRuns = 10;
firstLayerSpec.examples = [
  // F = 64 gives 256 rows per uniform window: M = 2·24·24 = 1152 spans 5 windows, 2 dispatches.
  described({
    xs: [
      fill([2, 24, 24, 2], ints, new Random(7)),
      fill([3, 3, 2, 64], ints, new Random(8)),
      fill([64], halves, new Random(9)),
    ],
    params: { strides: [1, 1], pad: "same", activation: "relu", alpha: 0.2 },
    seed: 10,
  }),
  // MNIST's and CIFAR's first layers ("valid": every window inside the image), x read a float at a time.
  described({
    xs: [
      fill([2, 9, 8, 1], ints, new Random(11)),
      fill([3, 3, 1, 32], ints, new Random(12)),
      fill([32], halves, new Random(13)),
    ],
    params: { strides: [1, 1], pad: "valid", activation: "relu", alpha: 0.2 },
    seed: 14,
  }),
  described({
    xs: [
      fill([1, 7, 9, 3], ints, new Random(15)),
      fill([3, 3, 3, 8], ints, new Random(16)),
      fill([8], halves, new Random(17)),
    ],
    params: { strides: [1, 1], pad: "valid", activation: "relu", alpha: 0.2 },
    seed: 18,
  }),
];

/** Every export of src/ops/conv.ts has its specs here (an op added without a test does not compile). */
const CONV_TESTS: Record<keyof typeof convOps, OpSpec<ConvParams>[]> = {
  conv2d: [conv2dSpec],
  fusedConv2d: [
    // NOTE: smooth activations (sigmoid, tanh, elu) share the GEMM epilogue and its gradient kernel
    // with fusedMatMul, where tests/ops/matmul_test.ts checks them; here the bias and the conv path.
    spec("fusedConv2d (linear, bias)", ["linear"], uniform(-2, 2), uniform(-2, 2)),
    spec("fusedConv2d (relu, leakyRelu, bias)", ["relu", "leakyRelu"], ints, halves),
    firstLayerSpec,
  ],
};

for (const s of Object.values(CONV_TESTS).flat()) {
  Deno.test(`${s.name}: forward = float64 reference, gradients = central differences`, () => checkOp(s));
}

// "auto" takes the texture kernels on llvmpipe wherever F is a multiple of 4 (large convs: the tuned winner);
// each implementation, forced, on the same cases and examples (each falls back where it cannot run).
for (const algorithm of ["uniform", "texture", "im2col"] as const) {
  const forced = { ...spec(`conv2d, ${algorithm} kernels`, ["linear", "relu"], ints, halves), numRuns: 12 };
  forced.examples = conv2dSpec.examples?.map((c) => ({
    ...c,
    xs: [...c.xs, fill([c.xs[1].shape[3]], halves, new Random(1))],
  }));
  Deno.test(`${forced.name}: forward = float64 reference, gradients = central differences`, async () => {
    convConfig.algorithm = algorithm;
    const copies = runtime().textureCopies;
    try {
      await checkOp(forced);
      if (algorithm === "texture") assert(runtime().textureCopies > copies, "the texture kernels never ran");
    } finally {
      convConfig.algorithm = "auto";
    }
  });
}

// Large convs on llvmpipe run the texture forward and dx kernels with 32 rows per invocation (textureTm),
// forced here on small images: C = F = 32 as the MNIST CNN's conv2 (its kernels, 32x32/s1/vec), forward M =
// 42 and 40 rows, dx M = 42 and 84 (partial row blocks); the filter gradient keeps 16. The first LLVM
// compile of each takes ~20 s.
const largeTile = spec("fusedConv2d, texture kernels with 32 rows per invocation", ["relu"], ints, halves);
const largeTileCases = [[1, 7, 6, "same"], [2, 7, 6, "valid"]].map(([n, h, w, pad], i) =>
  described<ConvParams>({
    xs: [
      fill([n as number, h as number, w as number, 32], ints, new Random(30 + i)),
      fill([3, 3, 32, 32], ints, new Random(40 + i)),
      fill([32], halves, new Random(50 + i)),
    ],
    params: { strides: [1, 1], pad: pad as "same" | "valid", activation: "relu", alpha: 0.2 },
    seed: 60 + i,
  })
);
largeTile.cases = fc.constantFrom(...largeTileCases);
largeTile.numRuns = largeTileCases.length;
Deno.test(`${largeTile.name}: forward = float64 reference, gradients = central differences`, async () => {
  convConfig.algorithm = "texture";
  convConfig.textureTm = 32;
  const copies = runtime().textureCopies;
  try {
    await checkOp(largeTile);
    assert(runtime().textureCopies > copies, "the texture kernels never ran");
  } finally {
    convConfig.algorithm = "auto";
    convConfig.textureTm = undefined;
  }
});

Deno.test("conv2d 'same' pads as TensorFlow: the odd padding pixel goes bottom/right", async () => {
  // 4x4 image 1..16, 2x2 filter of ones, stride 1: padding 1 in total, all of it after the input.
  const x = tensor(Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
  const y = convOps.conv2d(x, tensor([1, 1, 1, 1], [2, 2, 1, 1]), 1, "same");
  assertEquals(y.shape, [1, 4, 4, 1]);
  // y[0,0] = 1+2+5+6 (no padding before); y[3,3] = 16 alone (padding after); y[0,3] = 4+8.
  assertEquals([...await y.data()], [14, 18, 22, 12, 30, 34, 38, 20, 46, 50, 54, 28, 27, 29, 31, 16]);
  x.dispose();
  y.dispose();
});

Deno.test("conv2d shape errors name the problem", () =>
  tidy(() => {
    const x = tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]);
    const filter = (kh: number, kw: number, c: number) =>
      tensor(new Float32Array(kh * kw * c * 4), [kh, kw, c, 4]);
    const f3 = filter(3, 3, 3);
    const cases: [() => unknown, RegExp][] = [
      [
        () => convOps.conv2d(x, filter(3, 3, 2), 1, "valid"),
        /channel mismatch.*\[2,5,5,3\].*3 channels.*expects 2/,
      ],
      [
        () => convOps.conv2d(x, filter(6, 2, 3), 1, "valid"),
        /height of the window \(6\) is larger than the input's \(5\)/,
      ],
      [() => convOps.conv2d(x, filter(2, 7, 3), 2, "valid"), /width of the window \(7\) is larger/],
      [() => convOps.conv2d(x, f3, 0, "valid"), /strides must be a positive integer.*got 0/],
      [() => convOps.conv2d(x, f3, [1, -2], "same"), /strides must be a positive integer.*\[1,-2\]/],
      [() => convOps.conv2d(x, f3, 1.5, "same"), /strides must be a positive integer/],
      [
        () => convOps.conv2d(tensor(new Float32Array(75), [5, 5, 3]), f3, 1, "valid"),
        /x must be rank 4, got rank 3 \[5,5,3\]/,
      ],
      [
        () => convOps.conv2d(x, tensor(new Float32Array(27), [3, 3, 3]), 1, "valid"),
        /filter \(HWIO\) must be rank 4/,
      ],
      [() => convOps.conv2d(x, f3, 1, "full" as "same"), /pad must be 'valid' or 'same', got "full"/],
      [
        () => convOps.fusedConv2d({ x, filter: f3, strides: 1, pad: "same", bias: tensor([1, 2]) }),
        /bias must have shape \[4\]/,
      ],
    ];
    for (const [f, message] of cases) {
      const error = assertThrows(f, ShapeError);
      if (!message.test(error.message)) throw new Error(`'${error.message}' does not match ${message}`);
    }
    // "same" never rejects a large kernel: the padding makes it fit.
    const y = convOps.conv2d(x, filter(7, 7, 3), 1, "same");
    assertEquals(y.shape, [2, 5, 5, 4]);
  }));
