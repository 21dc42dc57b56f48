/**
 * GEMM: C[b] = act(op(A[b]) · op(B[b]) + bias), op = optional transpose.
 * Layouts (row-major): A [M,K], or [K,M] when transposeA; B [K,N], or [N,K]
 * when transposeB; C [M,N]; bias [N]; an optional batch b, with batch strides
 * (0 = broadcast). M, N = rows and columns of C, K = the inner dimension.
 * Two implementations, chosen in ops/matmul.ts: the storage kernel below, and
 * the uniform-window one further down (packKernel + windowedMatMulKernel).
 *
 * Storage kernel: one invocation computes a TM x TN block of C in registers,
 * stepping K by 1: per k it loads TM values of op(A) and TN of op(B) and does
 * TM·TN FMAs. A workgroup is WGX x WGY invocations; x walks row blocks, y
 * column blocks, z the batch. No workgroup memory, no barriers. Any M, N, K
 * work: rows and columns past the edge read a clamped (valid) index and are
 * never stored, and the K loop runs exactly K times, so there is no padding to
 * zero. Both kernels sum in the same order (k ascending, one fma per k).
 *
 * NOTE: on llvmpipe (Mesa 22.3) a storage-buffer load costs ~30 cycles per
 * invocation and 32-bit component, against ~0.1 for an FMA, whatever the load's
 * width or stride: throughput is TM·TN/(TM+TN) FMAs per load, so the block is
 * as large as LLVM compiles in reasonable time. Hence also: transposes and
 * bias are uniforms (operand strides, `hasBias`), not variants; a variant is a
 * tiling and an activation, since each pipeline costs seconds of LLVM time.
 * Without a bias the op binds `a` again in its place. Measurements:
 * bench/gemm_variants.md.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { UNARY } from "./elementwise.ts";
import { LINEAR_INDEX, TEXEL, WG_1D } from "./_wgsl.ts";

/** Activations the GEMM epilogue can apply (their derivatives need only y; see ops/matmul.ts). */
export type FusedActivation = "linear" | "relu" | "sigmoid" | "tanh" | "elu" | "leakyRelu" | "step";

/**
 * The GEMM implementations ops/matmul.ts chooses from: the storage kernel, the
 * uniform-window one, and the texture one with 8x16, 16x32, 32x32 or 32x64
 * outputs per invocation.
 */
export const GEMM_PLANS = [
  "storage",
  "uniform",
  "windowed",
  "texture8x16",
  "texture16x32",
  "texture32x32",
  "texture32x64",
] as const;
/** One of GEMM_PLANS. */
export type GemmPlan = (typeof GEMM_PLANS)[number];

/**
 * Which GEMM ops/matmul.ts runs: "auto" autotunes (see gemmPlan there); a
 * plan forces it wherever it can take the product (else the storage kernel
 * runs), for tests and benches. It lives here, not in ops/matmul.ts, whose
 * exports are exactly its ops.
 */
export const gemmConfig: { path: "auto" | GemmPlan } = { path: "auto" };

/** A GEMM pipeline: its tiling and its epilogue's activation. */
export interface MatMulVariant {
  activation: FusedActivation;
  /** Rows and columns of C per invocation (both multiples of 4). */
  tm: number;
  tn: number;
  /** Invocations per workgroup along the row blocks (x) and column blocks (y). */
  wgx: number;
  wgy: number;
  /** Both operands read whole from 64 KiB uniform windows (see uniformGemm in ops/matmul.ts), not storage. */
  uniformOperands?: boolean;
}

const range = (n: number) => [...Array(n).keys()];

/**
 * The K loop body: a_i = op(A)[row_i, k], b_j = op(B)[k, col_j], then
 * acc_i_c += a_i · b_(4c..4c+3). Loads go in groups of 4 rows / columns, each
 * skipped when its first index is past the edge: a masked-off load is ~10x
 * cheaper on llvmpipe, which pays off when N (or M) is small, e.g. N = 10.
 */
function kLoop({ tm, tn, uniformOperands }: MatMulVariant): string {
  const group = (n: number, f: (i: number) => string) => range(4).map((e) => f(4 * n + e)).join(" ");
  const load = (x: string, i: string) => uniformOperands ? `${x}[(${i}) >> 2u][(${i}) & 3u]` : `${x}[${i}]`;
  const lines = [
    ...range(tm).map((i) => `var a_${i}: f32;`),
    ...range(tn).map((j) => `var b_${j}: f32;`),
    ...range(tm / 4).map((g) =>
      `if (row + ${4 * g}u < params.M) { ${group(g, (i) => `a_${i} = ${load("a", `ka + ra_${i}`)};`)} }`
    ),
    ...range(tn / 4).map((g) =>
      `if (col + ${4 * g}u < params.N) { ${group(g, (j) => `b_${j} = ${load("b", `kb + cb_${j}`)};`)} }`
    ),
    ...range(tm).flatMap((i) =>
      range(tn / 4).map((c) => {
        const bv = range(4).map((e) => `b_${4 * c + e}`).join(", ");
        return `acc_${i}_${c} = fma(vec4<f32>(a_${i}), vec4<f32>(${bv}), acc_${i}_${c});`;
      })
    ),
    "ka += params.aKStride;",
    "kb += params.bKStride;",
  ];
  return lines.map((l) => "    " + l).join("\n");
}

/**
 * The epilogue: C[row_i, col_j] = act(acc + bias[col_j]) for the rows and columns inside C
 * (uses `row`, `col`, `batch`, params M, N, hasBias, the `bias` and `c` bindings and `activate`).
 */
/** WGSL: `activate(x)`, the epilogue's activation (alpha from params.alpha). */
export function activateFunction(activation: FusedActivation): string {
  return `fn activate(x: f32) -> f32 {
  let alpha = params.alpha;
  _ = alpha;
  return ${activation === "linear" ? "x" : UNARY[activation].forward};
}
fn activate4(v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(activate(v.x), activate(v.y), activate(v.z), activate(v.w));
}`;
}

/**
 * WGSL `activationGrad4(dy, y)`: dz = act'·dy per component, from the output y
 * (every fusable activation's derivative can be written in y: x > 0 ⟺ y > 0
 * for relu, elu and leakyRelu, so y stands in for x).
 */
export function activationGradFunction(activation: Exclude<FusedActivation, "linear">): string {
  return `
fn activationGrad(dy: f32, y: f32) -> f32 {
  let x = y;
  let alpha = params.alpha;
  _ = x;
  _ = alpha;
  return ${UNARY[activation].backward};
}
fn activationGrad4(dy: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(activationGrad(dy.x, y.x), activationGrad(dy.y, y.y), activationGrad(dy.z, y.z),
    activationGrad(dy.w, y.w));
}`;
}

/**
 * dz = act'(y)·dy, a vec4 per invocation, dy and y read from texture copies:
 * the gradient of an activation fused into a GEMM or conv on llvmpipe, where a
 * texel costs about a quarter of one float's storage load (src/ops/elementwise.ts).
 * `biasGrad`: dz seen as [rows, N], an invocation per 4 columns walks the rows
 * and also writes their sums, the bias gradient (a dense layer's backward: one
 * dispatch instead of this one and a reduction).
 */
export const activationGradKernel: Kernel<
  { activation: Exclude<FusedActivation, "linear">; biasGrad?: boolean }
> = {
  name: "activation_grad",
  // total: texels of dz; columnTexels (N / 4) for biasGrad.
  uniforms: [["total", "u32"], ["alpha", "f32"], ["columnTexels", "u32"]],
  bindings: ({ biasGrad }) => [
    { name: "dyt", type: "", access: "texture" },
    { name: "yt", type: "", access: "texture" },
    { name: "dz", type: "vec4<f32>", access: "read_write" },
    ...(biasGrad ? [{ name: "dBias", type: "vec4<f32>", access: "read_write" } as const] : []),
  ],
  key: ({ activation, biasGrad }) => `${activation}${biasGrad ? "/biasGrad" : ""}`,
  source: ({ activation, biasGrad }) => `
${activationGradFunction(activation)}
${LINEAR_INDEX}
${TEXEL}
${
    biasGrad
      ? `// 8 lanes a workgroup: the 32 column texels of a 128-wide layer still fill 4 workgroups.
@compute @workgroup_size(8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= params.columnTexels) { return; }
  var sum = vec4<f32>(0.0);
  for (var i = j; i < params.total; i += params.columnTexels) {
    let v = activationGrad4(texel(dyt, i), texel(yt, i));
    dz[i] = v;
    sum += v;
  }
  dBias[j] = sum;
}`
      : `@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.total) { return; }
  dz[i] = activationGrad4(texel(dyt, i), texel(yt, i));
}`
  }`,
};

/**
 * WGSL: C = act(acc + bias), row by row, skipping rows and columns past the edge. `vecOut` (N a
 * multiple of 4; `c` bound as vec4s, see epilogueBindings): a vec4 store per 4 columns, not 4 scalar
 * stores (on llvmpipe each store is a bounds-checked scatter).
 */
export function epilogue({ tm, tn, vecOut }: { tm: number; tn: number; vecOut?: boolean }): string {
  const lines = [
    ...range(tn / 4).map((c) => `var bias_${c} = vec4<f32>(0.0);`),
    "if (params.hasBias != 0u) {",
    ...range(tn / 4).map((c) =>
      `  bias_${c} = vec4<f32>(${
        range(4).map((e) => `bias[min(col + ${4 * c + e}u, params.N - 1u)]`).join(", ")
      });`
    ),
    "}",
    "let cOffset = (batch * params.M + row) * params.N + col;",
    ...range(tm).flatMap((i) => [
      `if (row + ${i}u < params.M) {`,
      ...(vecOut
        ? range(tn / 4).map((c) =>
          `  if (col + ${4 * c}u < params.N) { c[(cOffset + ${i}u * params.N) / 4u + ${c}u] = ` +
          `activate4(acc_${i}_${c} + bias_${c}); }`
        )
        : range(tn).map((j) => {
          const v = `acc_${i}_${j >> 2}[${j & 3}] + bias_${j >> 2}[${j & 3}]`;
          return `  if (col + ${j}u < params.N) { c[cOffset + ${i}u * params.N + ${j}u] = activate(${v}); }`;
        })),
      "}",
    ]),
  ];
  return lines.map((l) => "  " + l).join("\n");
}

/** The uniforms and bindings `epilogue` reads, last in every GEMM-like kernel's declaration. */
export const EPILOGUE_UNIFORMS = [["hasBias", "u32"], ["alpha", "f32"]] as const;
export const EPILOGUE_BINDINGS = epilogueBindings(false);

/** The epilogue's bindings, C as vec4s where `vecOut`. */
export function epilogueBindings(vecOut: boolean) {
  return [
    { name: "bias", type: "f32", access: "read" },
    { name: "c", type: vecOut ? "vec4<f32>" : "f32", access: "read_write" },
  ] as const;
}

export const matMulKernel: Kernel<MatMulVariant> = {
  name: "matmul",
  uniforms: [
    ["M", "u32"],
    ["N", "u32"],
    ["K", "u32"],
    ["aBatchStride", "u32"],
    ["bBatchStride", "u32"],
    // op(A)[i, k] = a[i·aRowStride + k·aKStride]; op(B)[k, j] = b[k·bKStride + j·bColStride].
    ["aRowStride", "u32"],
    ["aKStride", "u32"],
    ["bKStride", "u32"],
    ["bColStride", "u32"],
    ...EPILOGUE_UNIFORMS,
  ],
  bindings: ({ uniformOperands }) => [
    ...["a", "b"].map((name) =>
      uniformOperands
        ? { name, type: "vec4<f32>", access: "uniform", length: WINDOW_VEC4 } as const
        : { name, type: "f32", access: "read" } as const
    ),
    ...EPILOGUE_BINDINGS,
  ],
  key: ({ activation, tm, tn, wgx, wgy, uniformOperands }) =>
    `${activation}/${tm}x${tn}/${wgx}x${wgy}${uniformOperands ? "/uniform" : ""}`,
  source: (v) => {
    const { tm, tn } = v;
    const decl = (f: (i: number) => string, n: number) => range(n).map((i) => "  " + f(i)).join("\n");
    return `
${activateFunction(v.activation)}

@compute @workgroup_size(${v.wgx}, ${v.wgy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x * ${tm}u;
  let col = gid.y * ${tn}u;
  if (row >= params.M || col >= params.N) { return; }
  let batch = gid.z;
  // Offsets of row i of op(A) and column j of op(B), clamped into the matrix.
${decl((i) => `let ra_${i} = min(row + ${i}u, params.M - 1u) * params.aRowStride;`, tm)}
${decl((j) => `let cb_${j} = min(col + ${j}u, params.N - 1u) * params.bColStride;`, tn)}
${decl((i) => range(tn / 4).map((c) => `var acc_${i}_${c} = vec4<f32>(0.0);`).join(" "), tm)}
  var ka = batch * params.aBatchStride;
  var kb = batch * params.bBatchStride;
  for (var k = 0u; k < params.K; k++) {
${kLoop(v)}
  }
${epilogue(v)}
}`;
  },
};

/**
 * Uniform-window GEMM (llvmpipe): a uniform load is ~14x cheaper there than a
 * storage load, so op(A) and op(B) are first packed (packKernel) into bands
 * of BAND rows (columns), k-major: P[batch][band][k][r] = op(X)[band·BAND + r, k]
 * (op(B) as the rows of its transpose). A 64 KiB uniform window of a band holds WINDOW_K
 * consecutive k's, and one dispatch of windowedMatMulKernel binds `windows`
 * consecutive windows of one A band and one B band: a BAND x BAND block of
 * C over up to windows·WINDOW_K k's (more k's: more dispatches, accumulating in C).
 */
export const BAND = 64;
/** vec4s in one 64 KiB uniform window (WebGPU's default maxUniformBufferBindingSize). */
export const WINDOW_VEC4 = 4096;
/** k's of one band per window. */
export const WINDOW_K = (4 * WINDOW_VEC4) / BAND;

/**
 * p[batch][band][k][r] = op(X)[batch][band·BAND + r, k] for rows in [row0,
 * rowEnd) and k's in [k0, kEnd) (rows past the edge are left as they are:
 * they only feed rows / columns of C that are never stored). One invocation
 * per element, k along x, rows along y, batch along z: no integer division
 * by a uniform (a scalar loop of 8 on llvmpipe). `window`: x is a 64 KiB
 * uniform window starting at float x0 of the tensor (a uniform gather costs
 * ~1/10 of a storage load there), else the whole tensor in storage.
 */
export const packKernel: Kernel<{ window: boolean }> = {
  name: "matmul_pack",
  uniforms: [
    ["K", "u32"],
    ["k0", "u32"],
    ["kEnd", "u32"],
    ["row0", "u32"],
    ["rowEnd", "u32"],
    ["batch0", "u32"],
    // op(X)[row, k] = x[batch·batchStride + row·rowStride + k·kStride - x0]
    ["rowStride", "u32"],
    ["kStride", "u32"],
    ["batchStride", "u32"],
    ["x0", "u32"],
    // floats of one batch in p: bands·K·BAND
    ["batchFloats", "u32"],
  ],
  bindings: ({ window }) => [
    window
      ? { name: "x", type: "vec4<f32>", access: "uniform", length: WINDOW_VEC4 }
      : { name: "x", type: "f32", access: "read" },
    { name: "p", type: "f32", access: "read_write" },
  ],
  key: ({ window }) => (window ? "window" : "storage"),
  source: ({ window }) => `
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = params.k0 + gid.x;
  let row = params.row0 + gid.y;
  let batch = params.batch0 + gid.z;
  if (k >= params.kEnd || row >= params.rowEnd) { return; }
  let s = batch * params.batchStride + row * params.rowStride + k * params.kStride - params.x0;
  p[batch * params.batchFloats + ((row / ${BAND}u) * params.K + k) * ${BAND}u + row % ${BAND}u] = ${
    window ? "x[s / 4u][s % 4u]" : "x[s]"
  };
}`,
};

/** The windowed GEMM's pipeline: tile per invocation, windows per operand, activation. */
export interface WindowedMatMulVariant {
  activation: FusedActivation;
  /** Rows and columns of C per invocation: BAND / tm = 8 lanes (one workgroup) along x, BAND / tn workgroups along y. */
  tm: number;
  tn: number;
  windows: number;
}

/**
 * One BAND x BAND block of C[M,N] at (r0, c0), over the kLen k's of the bound
 * windows: acc = Σ_k A·B; v = acc (+ C when `accumulate`); when `finalize`,
 * v = act(v + bias). A is read per lane (rows differ: a gather), B per
 * workgroup (all lanes read the same address: a scalar load and a broadcast).
 */
export const windowedMatMulKernel: Kernel<WindowedMatMulVariant> = {
  name: "matmul_windowed",
  uniforms: [
    ["M", "u32"],
    ["N", "u32"],
    ["kLen", "u32"],
    ["r0", "u32"],
    ["c0", "u32"],
    ["cOffset", "u32"],
    ["accumulate", "u32"],
    ["finalize", "u32"],
    ["hasBias", "u32"],
    ["alpha", "f32"],
  ],
  bindings: (v) => [
    ...["a", "b"].flatMap((x) =>
      range(v.windows).map((w) => ({
        name: `${x}${w}`,
        type: "vec4<f32>",
        access: "uniform" as const,
        length: WINDOW_VEC4,
      }))
    ),
    { name: "bias", type: "f32", access: "read" },
    { name: "c", type: "f32", access: "read_write" },
  ],
  key: ({ activation, tm, tn, windows }) => `${activation}/${tm}x${tn}/${windows}`,
  source: (v) => {
    const { tm, tn } = v;
    const kLoops = range(v.windows).map((w) => {
      const body = [
        ...range(tm / 4).map((g) => `let a_${g} = a${w}[k * ${BAND / 4}u + lane * ${tm / 4}u + ${g}u];`),
        ...range(tn / 4).map((c) => `let b_${c} = b${w}[k * ${BAND / 4}u + wid.y * ${tn / 4}u + ${c}u];`),
        ...range(tm).flatMap((i) =>
          range(tn / 4).map((c) =>
            `acc_${i}_${c} = fma(vec4<f32>(a_${i >> 2}[${i & 3}]), b_${c}, acc_${i}_${c});`
          )
        ),
      ];
      return `
  for (var k = 0u; k < min(${WINDOW_K}u, params.kLen - min(params.kLen, ${w * WINDOW_K}u)); k++) {
    ${body.join("\n    ")}
  }`;
    });
    const epilogue = range(tm).flatMap((i) =>
      range(tn).map((j) => {
        const at = `cOffset + ${i}u * params.N + ${j}u`;
        return `if (row + ${i}u < params.M && col + ${j}u < params.N) {
    var v = acc_${i}_${j >> 2}[${j & 3}];
    if (params.accumulate != 0u) { v += c[${at}]; }
    if (params.finalize != 0u) { v = activate(v + bias_${j >> 2}[${j & 3}]); }
    c[${at}] = v;
  }`;
      })
    );
    return `
${activateFunction(v.activation)}

@compute @workgroup_size(8, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = wid.x * 8u + lid.x;
  let row = params.r0 + lane * ${tm}u;
  let col = params.c0 + wid.y * ${tn}u;
  if (row >= params.M || col >= params.N) { return; }
${range(tm).map((i) => range(tn / 4).map((c) => `  var acc_${i}_${c} = vec4<f32>(0.0);`).join("")).join("\n")}
${kLoops.join("")}
${range(tn / 4).map((c) => `  var bias_${c} = vec4<f32>(0.0);`).join("\n")}
  if (params.finalize != 0u && params.hasBias != 0u) {
${
      range(tn / 4).map((c) =>
        `    bias_${c} = vec4<f32>(${
          range(4).map((e) => `bias[min(col + ${4 * c + e}u, params.N - 1u)]`).join(", ")
        });`
      ).join("\n")
    }
  }
  let cOffset = row * params.N + col + params.cOffset;
  ${epilogue.join("\n  ")}
}`;
  },
};

/** The texture GEMM's pipeline: tile per invocation, operand layouts, activation. */
export interface TextureMatMulVariant {
  activation: FusedActivation;
  /** Rows and columns of C per invocation (multiples of 4); workgroups are 8 x 1. */
  tm: number;
  tn: number;
  /** A is stored [K,M] (transposeA): a texel holds 4 rows of one k, not 4 k's of one row. */
  aT: boolean;
  /** B is stored [N,K] (transposeB): a texel holds 4 k's of one column, not 4 columns of one k. */
  bT: boolean;
  /** N % 4 == 0: C stored a vec4 at a time (epilogue). */
  vecOut?: boolean;
}

/**
 * GEMM reading both operands from textures (src/gpu/texture_pool.ts gives the
 * layout): on llvmpipe a texel load costs ~5 cycles against ~30 per float for
 * storage, and unlike the 64 KiB uniform windows a texture holds a whole
 * operand, so there is no packing and one dispatch covers C. K and each
 * operand's stored row length are multiples of 4, so a texel never straddles
 * two rows. Per 4 k's an invocation loads TM texels of A and TN of B and does
 * 4·TM·TN FMAs. Rows and columns past the edge read whatever lies there (they
 * are never stored).
 */
export const textureMatMulKernel: Kernel<TextureMatMulVariant> = {
  name: "matmul_texture",
  uniforms: [
    ["M", "u32"],
    ["N", "u32"],
    ["K", "u32"],
    // Texels from one batch of A and B to the next (0 = broadcast; for a split K, from one slice of k's to
    // the next), and per stored row.
    ["aBatchTexels", "u32"],
    ["bBatchTexels", "u32"],
    ["aLine", "u32"],
    ["bLine", "u32"],
    // See TileLayout's "laneGrid".
    ["lanesX", "u32"],
    ["lanesXLog2", "u32"],
    ...EPILOGUE_UNIFORMS,
  ],
  bindings: (v) => [
    { name: "a", type: "", access: "texture" },
    { name: "b", type: "", access: "texture" },
    ...epilogueBindings(!!v.vecOut),
  ],
  key: ({ activation, tm, tn, aT, bT, vecOut }) =>
    `${activation}/${tm}x${tn}/${aT ? "t" : "n"}${bT ? "t" : "n"}${vecOut ? "/vec" : ""}`,
  source: (v) => {
    const { tm, tn, aT, bT } = v;
    // a(i, kk) and bv(kk, c): op(A)[row + i, k + kk] and op(B)[k + kk, col + 4c .. 4c + 3].
    const aLoads = aT
      ? range(4).flatMap((kk) =>
        range(tm / 4).map((g) => `let a_${kk}_${g} = texel(a, ta + ${kk}u * params.aLine + ${g}u);`)
      )
      : range(tm).map((i) => `let a_${i} = texel(a, ta + ${i}u * params.aLine);`);
    const aValue = (i: number, kk: number) => aT ? `a_${kk}_${i >> 2}[${i & 3}]` : `a_${i}[${kk}]`;
    const bLoads = bT
      ? range(tn).map((j) => `let b_${j} = texel(b, tb + ${j}u * params.bLine);`)
      : range(4).flatMap((kk) =>
        range(tn / 4).map((c) => `let b_${kk}_${c} = texel(b, tb + ${kk}u * params.bLine + ${c}u);`)
      );
    const bVector = (kk: number, c: number) =>
      bT ? `vec4<f32>(${range(4).map((e) => `b_${4 * c + e}[${kk}]`).join(", ")})` : `b_${kk}_${c}`;
    const fmas = range(4).flatMap((kk) =>
      range(tm).flatMap((i) =>
        range(tn / 4).map((c) =>
          `acc_${i}_${c} = fma(vec4<f32>(${aValue(i, kk)}), ${bVector(kk, c)}, acc_${i}_${c});`
        )
      )
    );
    return textureGemmMain(
      v,
      `
  // The texel of op(A)[row, k] and op(B)[k, col] at k = 0, and their steps per 4 k's.
  var ta = batch * params.aBatchTexels + ${aT ? "row / 4u" : "row * params.aLine"};
  var tb = batch * params.bBatchTexels + ${bT ? "col * params.bLine" : "col / 4u"};
  let aStep = ${aT ? "4u * params.aLine" : "1u"};
  let bStep = ${bT ? "1u" : "4u * params.bLine"};
  for (var k = 0u; k < params.K; k += 4u) {
    ${[...aLoads, ...bLoads, ...fmas].join("\n    ")}
    ta += aStep;
    tb += bStep;
  }`,
      "laneGrid",
    );
  },
};

/**
 * How a texture GEMM-like kernel's invocations map to C's tiles; workgroups
 * are 8 invocations (one SIMD row on llvmpipe, which runs all 8 lanes even
 * where some are past the edge).
 * - "rows": gid.x row blocks, gid.y column blocks, gid.z the batch.
 * - "batchAlongX": gid.x counts (batch, row block) pairs, params.rowBlocks row blocks per batch, so
 *   that a product of few rows and many batches (partial sums) still fills the lanes.
 * - "laneGrid": a workgroup's 8 lanes are params.lanesX row blocks x 8 / lanesX column blocks
 *   (lanesX a power of two, params.lanesXLog2 its log), chosen so that few lanes fall past the edge
 *   (M = 784 in tiles of 16 rows: 49 row blocks, 56 lanes in a column of 8 x 1 workgroups, 50 in 2 x 4).
 */
export type TileLayout = "rows" | "batchAlongX" | "laneGrid";

/**
 * WGSL of a texture GEMM-like kernel (this file's, shaders/conv_texture.ts'):
 * `activate`, `texel`, and `main` giving `row`, `col` (the invocation's first
 * output row and column), `batch` and TM x TN zeroed accumulators `acc_i_c`
 * to `body`, then the epilogue.
 */
export function textureGemmMain(
  v: { activation: FusedActivation; tm: number; tn: number; vecOut?: boolean },
  body: string,
  layout: TileLayout = "rows",
): string {
  const { tm, tn } = v;
  const [row, col, batch] = {
    rows: [`gid.x * ${tm}u`, `gid.y * ${tn}u`, "gid.z"],
    batchAlongX: [`(gid.x % params.rowBlocks) * ${tm}u`, `gid.y * ${tn}u`, "gid.x / params.rowBlocks"],
    laneGrid: [
      `((gid.x >> 3u) * params.lanesX + (lane & (params.lanesX - 1u))) * ${tm}u`,
      `(gid.y * (8u >> params.lanesXLog2) + (lane >> params.lanesXLog2)) * ${tn}u`,
      "gid.z",
    ],
  }[layout];
  return `
${activateFunction(v.activation)}
${TEXEL}
@compute @workgroup_size(8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = ${row};
  let col = ${col};
  let batch = ${batch};
  if (row >= params.M || col >= params.N${layout === "batchAlongX" ? " || batch >= params.batches" : ""}) {
    return;
  }
${
    range(tm).map((i) => "  " + range(tn / 4).map((c) => `var acc_${i}_${c} = vec4<f32>(0.0);`).join(" "))
      .join("\n")
  }
${body}
${epilogue(v)}
}`;
}

/**
 * C = act(Σ_s partial[s] + bias): the end of a split-K GEMM, whose slices
 * (partial products over ranges of k) ran as a batch. One invocation per element of C.
 */
export const splitKSumKernel: Kernel<{ activation: FusedActivation }> = {
  name: "split_k_sum",
  uniforms: [["n", "u32"], ["N", "u32"], ["slices", "u32"], ...EPILOGUE_UNIFORMS],
  bindings: () => [{ name: "partial", type: "f32", access: "read" }, ...EPILOGUE_BINDINGS],
  key: ({ activation }) => activation,
  source: ({ activation }) => `
${activateFunction(activation)}
${LINEAR_INDEX}
@compute @workgroup_size(${WG_1D})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linearIndex(gid, groups);
  if (i >= params.n) { return; }
  var total = select(0.0, bias[i % params.N], params.hasBias != 0u);
  for (var s = 0u; s < params.slices; s++) {
    total += partial[s * params.n + i];
  }
  c[i] = activate(total);
}`,
};
