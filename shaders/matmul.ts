/**
 * GEMM: C[b] = op(A[b]) · op(B[b]) (+ bias, then activation), op = optional transpose.
 * Layouts (row-major): A [M,K], or [K,M] when transposeA; B [K,N], or [N,K]
 * when transposeB; C [M,N]; batch b strides in uniforms (0 = broadcast).
 *
 * One invocation computes a TM x TN block of C (TN/4 vec4 columns) in
 * registers, stepping K by 4; a workgroup is WGX x WGY invocations, so it
 * covers (WGY·TM) rows x (WGX·TN) columns. No workgroup memory: on
 * llvmpipe a workgroup runs as a loop over invocations and barriers cost
 * more than they save, while vec4 loads and register blocking pay
 * (PLATFORM.md). Each operand is read as vec4 along its contiguous axis when
 * that axis is a multiple of 4 (`vecA`, `vecB`, `vecC`), else by scalars with
 * bounds checks, so any shape works.
 */
import type { Kernel } from "../src/gpu/kernel.ts";
import { UNARY, type UnaryOp } from "./elementwise.ts";

/** Activations the GEMM epilogue can apply (their derivatives need only y; see ops/matmul.ts). */
export type FusedActivation = "linear" | "relu" | "sigmoid" | "tanh" | "elu" | "leakyRelu" | "step";

export interface MatMulVariant {
  transposeA: boolean;
  transposeB: boolean;
  vecA: boolean;
  vecB: boolean;
  vecC: boolean;
  bias: boolean;
  activation: FusedActivation;
  /** Rows and columns of C per invocation (TN a multiple of 4, TM a multiple of 4). */
  tm: number;
  tn: number;
  /** Invocations per workgroup along N (x) and M (y). */
  wgx: number;
  wgy: number;
}

const range = (n: number) => [...Array(n).keys()];

function loaders(v: MatMulVariant): string {
  // loadA(i, k): the 4 values op(A)[row, k..k+3] in the operand's natural direction:
  //   !transposeA: A[row, k..k+3] (along K);  transposeA: A[k, row..row+3] (along M).
  const a = v.transposeA
    ? { rows: "params.K", cols: "params.M", name: "a", vec: v.vecA }
    : { rows: "params.M", cols: "params.K", name: "a", vec: v.vecA };
  const b = v.transposeB
    ? { rows: "params.N", cols: "params.K", name: "b", vec: v.vecB }
    : { rows: "params.K", cols: "params.N", name: "b", vec: v.vecB };
  return [a, b].map(({ rows, cols, name, vec }) => {
    const off = `${name}Offset`;
    const fn = `load${name.toUpperCase()}`;
    // r: row of the stored matrix, c: first of 4 columns. Out-of-range rows
    // read a clamped row and are zeroed (0 · inf would be NaN otherwise).
    return vec
      ? `
fn ${fn}(${off}: u32, r: u32, c: u32) -> vec4<f32> {
  let v = ${name}[(${off} + min(r, ${rows} - 1u) * ${cols} + min(c, ${cols} - 4u)) / 4u];
  return select(vec4<f32>(0.0), v, r < ${rows} && c < ${cols});
}`
      : `
fn ${fn}(${off}: u32, r: u32, c: u32) -> vec4<f32> {
  let base = ${off} + min(r, ${rows} - 1u) * ${cols};
  let inRow = r < ${rows};
  var v: vec4<f32>;
  for (var j = 0u; j < 4u; j++) {
    v[j] = select(0.0, ${name}[base + min(c + j, ${cols} - 1u)], inRow && c + j < ${cols});
  }
  return v;
}`;
  }).join("\n");
}

/** WGSL of the K loop body: loads into a_i (row i of op(A), 4 k's) and b_kk_c, then FMAs. */
function kStep(v: MatMulVariant): string {
  const { tm, tn } = v;
  const cols = tn / 4;
  const lines: string[] = [];
  if (!v.transposeA) {
    for (const i of range(tm)) lines.push(`let a_${i} = loadA(aOffset, row + ${i}u, k);`);
  } else {
    // 4 rows of A[k.., row..] (along M), regrouped to per-row vec4 over k.
    for (const kk of range(4)) {
      for (const g of range(tm / 4)) {
        lines.push(`let t_${kk}_${g} = loadA(aOffset, k + ${kk}u, row + ${4 * g}u);`);
      }
    }
    for (const i of range(tm)) {
      const g = Math.floor(i / 4), e = i % 4;
      lines.push(`let a_${i} = vec4<f32>(${range(4).map((kk) => `t_${kk}_${g}[${e}]`).join(", ")});`);
    }
  }
  if (!v.transposeB) {
    for (const kk of range(4)) {
      for (const c of range(cols)) {
        lines.push(`let b_${kk}_${c} = loadB(bOffset, k + ${kk}u, col + ${4 * c}u);`);
      }
    }
  } else {
    // TN rows of B[col.., k..] (along K), regrouped to vec4 over columns.
    for (const j of range(tn)) lines.push(`let s_${j} = loadB(bOffset, col + ${j}u, k);`);
    for (const kk of range(4)) {
      for (const c of range(cols)) {
        lines.push(
          `let b_${kk}_${c} = vec4<f32>(${range(4).map((e) => `s_${4 * c + e}[${kk}]`).join(", ")});`,
        );
      }
    }
  }
  for (const kk of range(4)) {
    for (const i of range(tm)) {
      for (const c of range(cols)) {
        lines.push(`acc_${i}_${c} = fma(vec4<f32>(a_${i}[${kk}]), b_${kk}_${c}, acc_${i}_${c});`);
      }
    }
  }
  return lines.map((l) => "    " + l).join("\n");
}

function epilogue(v: MatMulVariant): string {
  const lines: string[] = [];
  for (const i of range(v.tm)) {
    lines.push(`  if (row + ${i}u < params.M) {`);
    for (const c of range(v.tn / 4)) {
      const colExpr = `col + ${4 * c}u`;
      lines.push(`    store(cOffset + (row + ${i}u) * params.N, ${colExpr}, acc_${i}_${c});`);
    }
    lines.push("  }");
  }
  return lines.join("\n");
}

export const matMulKernel: Kernel<MatMulVariant> = {
  name: "matmul",
  uniforms: [
    ["M", "u32"],
    ["N", "u32"],
    ["K", "u32"],
    ["aBatchStride", "u32"],
    ["bBatchStride", "u32"],
    ["alpha", "f32"],
  ],
  bindings: (v) => [
    { name: "a", type: v.vecA ? "vec4<f32>" : "f32", access: "read" },
    { name: "b", type: v.vecB ? "vec4<f32>" : "f32", access: "read" },
    ...(v.bias ? [{ name: "bias", type: "f32", access: "read" } as const] : []),
    { name: "c", type: v.vecC ? "vec4<f32>" : "f32", access: "read_write" },
  ],
  source: (v) => {
    const cols = v.tn / 4;
    const accDecl = range(v.tm).flatMap((i) =>
      range(cols).map((c) => `  var acc_${i}_${c} = vec4<f32>(0.0);`)
    );
    const act = v.activation === "linear" ? "x" : UNARY[v.activation as UnaryOp].forward;
    return `
${loaders(v)}

fn activate(x: f32) -> f32 {
  let alpha = params.alpha;
  _ = alpha;
  return ${act};
}

// C[r, col..col+3] = act(acc + bias), for the columns inside N.
fn store(rowOffset: u32, col: u32, acc: vec4<f32>) {
  var v = acc;
  for (var j = 0u; j < 4u; j++) {
    ${v.bias ? "v[j] += bias[min(col + j, params.N - 1u)];" : ""}
    v[j] = activate(v[j]);
  }
  ${
      v.vecC
        ? "if (col < params.N) { c[(rowOffset + col) / 4u] = v; }"
        : "for (var j = 0u; j < 4u; j++) { if (col + j < params.N) { c[rowOffset + col + j] = v[j]; } }"
    }
}

@compute @workgroup_size(${v.wgx}, ${v.wgy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x * ${v.tn}u;
  let row = gid.y * ${v.tm}u;
  let batch = gid.z;
  let aOffset = batch * params.aBatchStride;
  let bOffset = batch * params.bBatchStride;
  let cOffset = batch * params.M * params.N;
${accDecl.join("\n")}
  for (var k = 0u; k < params.K; k += 4u) {
${kStep(v)}
  }
${epilogue(v)}
}`;
  },
};
