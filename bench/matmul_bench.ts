/**
 * matMul throughput. `matMulGflops(n)` times n x n x n products on the
 * current adapter; run this file directly for a table of square sizes, the
 * MLP's shapes, transposed operands and both GEMM paths at 1024 (`--paths`
 * for every row under both). Kernel versions and their numbers:
 * bench/gemm_variants.md.
 */
import { GEMM_PLANS, gemmConfig } from "../shaders/matmul.ts";
import { tune, tuningTable } from "../src/gpu/autotune.ts";
import { ready } from "../src/gpu/runtime.ts";
import { matMul } from "../src/ops/matmul.ts";
import { randomNormal } from "../src/ops/creation.ts";
import { tidy } from "../src/tensor.ts";

/** GFLOP/s of an n x n x n matMul: 2n³ flops per product, timed over `reps` products in one submit. */
export async function matMulGflops(n: number, reps = n >= 1024 ? 4 : 16): Promise<number> {
  return (await shapeGflops(n, n, n, false, false, reps)).wall;
}

/** Seconds of CPU this process has used (user + system), or NaN where /proc is not readable. */
function cpuSeconds(): number {
  try {
    const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * GFLOP/s of C[M,N] = op(A)·op(B) over `reps` products in one submit: by the
 * wall clock, and by this process's CPU time scaled to the machine's cores
 * (on a software adapter shared with other processes the wall clock also
 * counts their time slices; the CPU figure does not).
 */
export async function shapeGflops(
  M: number,
  K: number,
  N: number,
  transposeA: boolean,
  transposeB: boolean,
  reps = Math.max(1, Math.min(500, Math.round(2e9 / (2 * M * N * K)))),
): Promise<{ wall: number; cpu: number }> {
  const a = randomNormal(transposeA ? [K, M] : [M, K], 0, 1, 1);
  const b = randomNormal(transposeB ? [N, K] : [K, N], 0, 1, 2);
  // Warm up: tune (under "auto"), compile the winner's pipeline and fill the pool.
  tidy(() => matMul(a, b, transposeA, transposeB)).dispose();
  await tune();
  await tidy(() => matMul(a, b, transposeA, transposeB)).data();
  const cpu0 = cpuSeconds();
  const start = performance.now();
  const outs = [];
  for (let i = 0; i < reps; i++) outs.push(matMul(a, b, transposeA, transposeB));
  await outs[reps - 1].data(); // one submit, waits for all
  const seconds = (performance.now() - start) / 1000;
  const cpu = (cpuSeconds() - cpu0) / navigator.hardwareConcurrency;
  for (const t of [a, b, ...outs]) t.dispose();
  const flops = 2 * M * N * K * reps;
  return { wall: flops / seconds / 1e9, cpu: flops / cpu / 1e9 };
}

if (import.meta.main) {
  const rt = await ready();
  const info = rt.ctx.adapterInfo;
  console.log(
    `adapter: ${info.description || info.vendor}, fallback: ${rt.ctx.isFallbackAdapter}, ` +
      `shader-f16: ${rt.ctx.features.has("shader-f16")}, backend: ${
        Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default"
      }`,
  );
  const row = async (label: string, M: number, K: number, N: number, tA = false, tB = false) => {
    const { wall, cpu } = await shapeGflops(M, K, N, tA, tB);
    const byCpu = Number.isFinite(cpu) ? ` (by CPU time: ${cpu.toFixed(1)})` : "";
    console.log(`${label.padEnd(38)} ${wall.toFixed(1).padStart(5)} GFLOP/s${byCpu}`);
  };
  const paths = Deno.args.includes("--paths") ? GEMM_PLANS : ["auto"] as const;
  for (const path of paths) {
    gemmConfig.path = path;
    if (paths.length > 1) console.log(`-- path: ${path}`);
    for (const n of [256, 512, 1024]) await row(`matMul ${n}`, n, n, n);
    await row("matMul 1024, transposeA", 1024, 1024, 1024, true);
    await row("matMul 1024, transposeB", 1024, 1024, 1024, false, true);
    // The 784-128-10 MLP at batch 128: forward, then the backward products.
    await row("MLP fwd [128,784]·[784,128]", 128, 784, 128);
    await row("MLP fwd [128,128]·[128,10]", 128, 128, 10);
    await row("MLP dW1 = Xᵀ·dH [784,128]ᵀ·[128,128]", 784, 128, 128, true);
    await row("MLP dW2 = Hᵀ·dY [128,128]ᵀ·[128,10]", 128, 128, 10, true);
    await row("MLP dH = dY·W2ᵀ [128,10]·[128,10]ᵀ", 128, 10, 128, false, true);
    // The Keras MNIST CNN's logits layer (1600 → 10): few tiles, a long K (split K on textures).
    await row("CNN fwd [128,1600]·[1600,10]", 128, 1600, 10);
    await row("CNN dW = Xᵀ·dY [128,1600]ᵀ·[128,10]", 1600, 128, 10, true);
    await row("CNN dX = dY·Wᵀ [128,10]·[1600,10]ᵀ", 128, 10, 1600, false, true);
  }
  if (paths.length === 1) {
    console.log("autotuned:", JSON.stringify(tuningTable()));
    for (const path of GEMM_PLANS) {
      gemmConfig.path = path;
      await row(`matMul 1024, path ${path}`, 1024, 1024, 1024);
    }
  }
  gemmConfig.path = "auto";
}
