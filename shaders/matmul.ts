/**
 * GEMM: C[b] = op(A[b]) · op(B[b]) (+ bias, then activation), op = optional transpose.
 * Layouts (row-major): A [M,K], or [K,M] when transposeA; B [K,N], or [N,K]
 * when transposeB; C [M,N]; bias [N]; batch b = gid.z, batch strides in
 * uniforms (0 = broadcast). M, N = rows and columns of C, K = the inner dimension.
 *
 * One invocation computes a TM x TN block of C in registers, stepping K by 1:
 * per k it loads TM values of op(A) and TN of op(B) and does TM·TN FMAs. A
 * workgroup is WGX x WGY invocations; x walks row blocks, y column blocks.
 * No workgroup memory, no barriers. Any M, N, K work: rows and columns past
 * the edge read a clamped (valid) index and are never stored, and the K loop
 * runs exactly K times, so there is no padding to zero.
 *
 * NOTE: transposes and bias are uniforms (operand strides, `hasBias`), not
 * variants: a variant is only a tiling and an activation. On llvmpipe each
 * pipeline costs seconds of LLVM time, and a storage load is ~30 cycles per
 * invocation and component whatever its width or stride, so vec4 loads and
 * fixed strides bought nothing there (bench/gemm_variants.md). Without a
 * bias the op binds `a` again in its place and sets `hasBias` to 0.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { UNARY } from "./elementwise.ts";

/** Activations the GEMM epilogue can apply (their derivatives need only y; see ops/matmul.ts). */
export type FusedActivation = "linear" | "relu" | "sigmoid" | "tanh" | "elu" | "leakyRelu" | "step";

/** A GEMM pipeline: its tiling and its epilogue's activation. */
export interface MatMulVariant {
  activation: FusedActivation;
  /** Rows and columns of C per invocation (TN a multiple of 4). */
  tm: number;
  tn: number;
  /** Invocations per workgroup along the row blocks (x) and column blocks (y). */
  wgx: number;
  wgy: number;
}

const range = (n: number) => [...Array(n).keys()];

/** The K loop: loads a_i = op(A)[row_i, k], b_j = op(B)[k, col_j], then acc_i_c += a_i · b_(4c..4c+3). */
function kLoop({ tm, tn }: MatMulVariant): string {
  const lines = [
    ...range(tm).map((i) => `let a_${i} = a[ka + ra_${i}];`),
    ...range(tn).map((j) => `let b_${j} = b[kb + cb_${j}];`),
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

/** The epilogue: C[row_i, col_j] = act(acc + bias[col_j]) for the rows and columns inside C. */
function epilogue({ tm, tn }: MatMulVariant): string {
  const lines = [
    ...range(tn / 4).map((c) => `var bias_${c} = vec4<f32>(0.0);`),
    "if (params.hasBias != 0u) {",
    ...range(tn / 4).map((c) =>
      `  bias_${c} = vec4<f32>(${range(4).map((e) => `bias[min(col + ${4 * c + e}u, params.N - 1u)]`).join(", ")});`
    ),
    "}",
    "let cOffset = (batch * params.M + row) * params.N + col;",
    ...range(tm).flatMap((i) => [
      `if (row + ${i}u < params.M) {`,
      ...range(tn).map((j) => {
        const v = `acc_${i}_${j >> 2}[${j & 3}] + bias_${j >> 2}[${j & 3}]`;
        return `  if (col + ${j}u < params.N) { c[cOffset + ${i}u * params.N + ${j}u] = activate(${v}); }`;
      }),
      "}",
    ]),
  ];
  return lines.map((l) => "  " + l).join("\n");
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
    ["hasBias", "u32"],
    ["alpha", "f32"],
  ],
  bindings: () => [
    { name: "a", type: "f32", access: "read" },
    { name: "b", type: "f32", access: "read" },
    { name: "bias", type: "f32", access: "read" },
    { name: "c", type: "f32", access: "read_write" },
  ],
  key: ({ activation, tm, tn, wgx, wgy }) => `${activation}/${tm}x${tn}/${wgx}x${wgy}`,
  source: (v) => {
    const { tm, tn } = v;
    const act = v.activation === "linear" ? "x" : UNARY[v.activation].forward;
    const decl = (f: (i: number) => string, n: number) => range(n).map((i) => "  " + f(i)).join("\n");
    return `
fn activate(x: f32) -> f32 {
  let alpha = params.alpha;
  _ = alpha;
  return ${act};
}

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
