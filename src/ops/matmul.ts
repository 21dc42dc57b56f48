/**
 * matMul and the fused dense kernel: C = act(op(A)·op(B) + bias) in one
 * dispatch. Rank 2, or rank 3 with a batch (a batch of 1 broadcasts).
 */
import { type FusedActivation, matMulKernel, type MatMulVariant } from "../../shaders/matmul.ts";
import { unaryGradKernel } from "../../shaders/elementwise.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { record } from "../autograd/tape.ts";
import { ShapeError } from "../errors.ts";
import { runtime } from "../gpu/runtime.ts";
import { formatShape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";
import { asTensor, checkDType } from "./_util.ts";
import { sumTo } from "./reduce.ts";

/**
 * The GEMM tiling for this adapter (see bench/gemm_variants.md). On llvmpipe
 * every storage load costs ~30 cycles per invocation (a per-lane loop in
 * Mesa 22.3) against ~0.1 for an FMA, so an invocation's TM x TN block is as
 * large as LLVM compiles in reasonable time: GFLOP/s grows with TM·TN/(TM+TN).
 * Workgroups are one 8-wide SIMD row (llvmpipe runs x in steps of 8 lanes).
 * On a real GPU, a conventional 4x4 per thread in 16x16 workgroups.
 */
function tiling(): Omit<MatMulVariant, "activation"> {
  return runtime().ctx.isFallbackAdapter
    ? { tm: 16, tn: 16, wgx: 8, wgy: 1 }
    : { tm: 4, tn: 4, wgx: 16, wgy: 16 };
}

export interface FusedMatMulConfig {
  a: Tensor;
  b: Tensor;
  transposeA?: boolean;
  transposeB?: boolean;
  /** Added to each row of the product; shape [N]. */
  bias?: Tensor;
  activation?: FusedActivation;
  /** The slope of leakyRelu / the scale of elu. */
  alpha?: number;
}

/** op(A)·op(B) over the last two axes; `transposeA`/`transposeB` read the operand transposed (no copy). */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  return fusedMatMul({ a, b, transposeA, transposeB });
}

/**
 * act(op(A)·op(B) + bias) as one GEMM with the bias and activation in its
 * epilogue: the dense layer's forward pass in one dispatch.
 */
export function fusedMatMul(config: FusedMatMulConfig): Tensor {
  const {
    transposeA = false,
    transposeB = false,
    activation = "linear",
    alpha = activation === "elu" ? 1 : 0.2,
  } = config;
  const a = asTensor(config.a);
  const b = asTensor(config.b);
  checkDType("matMul", "a", a);
  checkDType("matMul", "b", b);
  const bias = config.bias === undefined ? undefined : asTensor(config.bias);
  const dims = checkDims(a, b, transposeA, transposeB, bias);
  const { batch, M, N, K, outShape } = dims;
  const c = empty(outShape);
  if (c.size > 0) {
    const variant: MatMulVariant = { activation, ...tiling() };
    // NOTE: without a bias, `a` fills the bias binding (never read: hasBias = 0),
    // so one pipeline serves both; two read-only bindings of a buffer are legal.
    const buffers = [a.buffer, b.buffer, (bias ?? a).buffer, c.buffer];
    runtime().dispatch(matMulKernel, variant, buffers, {
      M,
      N,
      K,
      aBatchStride: dims.aBatch === 1 ? 0 : M * K,
      bBatchStride: dims.bBatch === 1 ? 0 : K * N,
      aRowStride: transposeA ? 1 : K,
      aKStride: transposeA ? M : 1,
      bKStride: transposeB ? 1 : N,
      bColStride: transposeB ? K : 1,
      hasBias: bias ? 1 : 0,
      alpha,
    }, [
      Math.ceil(M / (variant.tm * variant.wgx)),
      Math.ceil(N / (variant.tn * variant.wgy)),
      batch,
    ]);
  }
  const inputs = bias ? [a, b, bias] : [a, b];
  return record(c, inputs, (dy, [a, b, c]) => {
    // NOTE: every fusable activation's derivative can be written in y alone
    // (x > 0 ⟺ y > 0 for relu, elu, leakyRelu), so y stands in for x.
    const dz = activation === "linear" ? dy : activationGrad(activation, c, dy, alpha);
    const [da, db] = matMulGrads(a, b, dz, transposeA, transposeB);
    return bias ? [da, db, sumTo(dz, bias.shape)] : [da, db];
  }, [a, b, c]);
}

/** dA, dB of C = op(A)·op(B), each as one GEMM with transposes folded into the kernel variant. */
function matMulGrads(a: Tensor, b: Tensor, dc: Tensor, tA: boolean, tB: boolean): [Tensor, Tensor] {
  let da: Tensor, db: Tensor;
  if (!tA && !tB) { // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC
    da = matMul(dc, b, false, true);
    db = matMul(a, dc, true, false);
  } else if (!tA && tB) { // C = A·Bᵀ: dA = dC·B, dB = dCᵀ·A
    da = matMul(dc, b, false, false);
    db = matMul(dc, a, true, false);
  } else if (tA && !tB) { // C = Aᵀ·B: dA = B·dCᵀ, dB = A·dC
    da = matMul(b, dc, false, true);
    db = matMul(a, dc, false, false);
  } else { // C = Aᵀ·Bᵀ: dA = Bᵀ·dCᵀ, dB = dCᵀ·Aᵀ
    da = matMul(b, dc, true, true);
    db = matMul(dc, a, true, true);
  }
  // A broadcast batch (rank 2 or batch 1) sums its gradient over the batch.
  return [sumTo(da, a.shape), sumTo(db, b.shape)];
}

function activationGrad(activation: FusedActivation, y: Tensor, dy: Tensor, alpha: number): Tensor {
  const dz = empty(y.shape);
  if (dz.size > 0) {
    runtime().dispatch(
      unaryGradKernel,
      { op: activation as Exclude<FusedActivation, "linear"> },
      [
        y.buffer,
        y.buffer,
        dy.buffer,
        dz.buffer,
      ],
      { n: dz.size, alpha },
      grid1D(dz.size),
    );
  }
  return dz;
}

function checkDims(a: Tensor, b: Tensor, tA: boolean, tB: boolean, bias: Tensor | undefined) {
  const describe = () => `${formatShape(a.shape)}${tA ? "ᵀ" : ""} · ${formatShape(b.shape)}${tB ? "ᵀ" : ""}`;
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new ShapeError(`matMul: operands must be rank 2 or 3, got ${describe()}`);
  }
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const M = tA ? aCols : aRows, K = tA ? aRows : aCols;
  const kb = tB ? bCols : bRows, N = tB ? bRows : bCols;
  if (K !== kb) {
    throw new ShapeError(`matMul: inner dimensions differ (${K} vs ${kb}) in ${describe()}`);
  }
  const aBatch = a.rank === 3 ? a.shape[0] : 1;
  const bBatch = b.rank === 3 ? b.shape[0] : 1;
  if (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1) {
    throw new ShapeError(`matMul: batch sizes differ (${aBatch} vs ${bBatch}) in ${describe()}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) {
    throw new ShapeError(
      `matMul: bias must have shape [${N}] for ${describe()}, got ${formatShape(bias.shape)}`,
    );
  }
  if (bias) checkDType("matMul", "bias", bias);
  const batch = Math.max(aBatch, bBatch);
  const outShape = a.rank === 3 || b.rank === 3 ? [batch, M, N] : [M, N];
  return { batch, M, N, K, aBatch, bBatch, outShape };
}
