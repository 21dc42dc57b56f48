/**
 * Float64 reference of matMul / fusedMatMul: C[b] = act(op(A[b])·op(B[b]) + bias).
 * M, N = rows and columns of C, K = the inner dimension; A is [M,K] ([K,M]
 * when transposeA), B is [K,N] ([N,K] when transposeB), with an optional
 * leading batch axis on either (a batch of 1, or none, broadcasts).
 */
import type { FusedActivation } from "../../shaders/matmul.ts";
import { type Arr, arr } from "./array.ts";
import { UNARY_REF } from "./elementwise.ts";

export interface MatMulParams {
  transposeA: boolean;
  transposeB: boolean;
  activation: FusedActivation;
  /** The slope of leakyRelu / the scale of elu. */
  alpha: number;
}

/** Batch, M, N, K and the output shape, as the engine derives them. */
export function matMulDims(a: readonly number[], b: readonly number[], tA: boolean, tB: boolean) {
  const [aRows, aCols] = a.slice(-2);
  const [bRows, bCols] = b.slice(-2);
  const M = tA ? aCols : aRows, K = tA ? aRows : aCols;
  const N = tB ? bRows : bCols;
  const aBatch = a.length === 3 ? a[0] : 1;
  const bBatch = b.length === 3 ? b[0] : 1;
  const batch = Math.max(aBatch, bBatch);
  const outShape = a.length === 3 || b.length === 3 ? [batch, M, N] : [M, N];
  return { batch, M, N, K, aBatch, bBatch, outShape };
}

/** act(op(A)·op(B) + bias); `bias` is [N] or absent. */
export function matMul(a: Arr, b: Arr, bias: Arr | undefined, p: MatMulParams): Arr {
  const { batch, M, N, K, aBatch, bBatch, outShape } = matMulDims(
    a.shape,
    b.shape,
    p.transposeA,
    p.transposeB,
  );
  const out = arr(outShape);
  const ad = a.data, bd = b.data;
  // strides of op(A) along m and k, of op(B) along k and n
  const [am, ak] = p.transposeA ? [1, M] : [K, 1];
  const [bk, bn] = p.transposeB ? [1, K] : [N, 1];
  for (let s = 0; s < batch; s++) {
    const aBase = (aBatch === 1 ? 0 : s) * M * K;
    const bBase = (bBatch === 1 ? 0 : s) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        // compensated sum (Knuth's branch-free TwoSum), inline: this is the reference's hot loop
        let sum = bias ? bias.data[n] : 0, comp = 0;
        for (let k = 0, ia = aBase + m * am, ib = bBase + n * bn; k < K; k++, ia += ak, ib += bk) {
          const v = ad[ia] * bd[ib], t = sum + v, bv = t - sum;
          comp += (sum - (t - bv)) + (v - bv);
          sum = t;
        }
        const z = sum + comp;
        out.data[(s * M + m) * N + n] = p.activation === "linear" ? z : UNARY_REF[p.activation](z, p.alpha);
      }
    }
  }
  return out;
}
