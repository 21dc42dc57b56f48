/**
 * matMul throughput. `matMulGflops(n)` times n x n x n products on the
 * current adapter; run this file directly for a table.
 */
import { ready } from "../src/gpu/runtime.ts";
import { matMul } from "../src/ops/matmul.ts";
import { randomNormal } from "../src/ops/creation.ts";
import { tidy } from "../src/tensor.ts";

/** GFLOP/s of an n x n x n matMul: 2n³ flops per product, timed over `reps` products in one submit. */
export async function matMulGflops(n: number, reps = n >= 1024 ? 4 : 16): Promise<number> {
  const a = randomNormal([n, n], 0, 1, 1);
  const b = randomNormal([n, n], 0, 1, 2);
  // Warm up: compile the pipeline and fill the pool.
  await tidy(() => matMul(a, b)).data();
  const start = performance.now();
  const outs = [];
  for (let i = 0; i < reps; i++) outs.push(matMul(a, b));
  await outs[reps - 1].data(); // one submit, waits for all
  const seconds = (performance.now() - start) / 1000;
  for (const t of [a, b, ...outs]) t.dispose();
  return (2 * n ** 3 * reps) / seconds / 1e9;
}

if (import.meta.main) {
  const rt = await ready();
  console.log(`adapter: ${rt.ctx.adapterInfo.description}`);
  for (const n of [256, 512, 1024]) console.log(`matMul ${n}: ${(await matMulGflops(n)).toFixed(1)} GFLOP/s`);
}
