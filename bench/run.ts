/**
 * `deno task bench`: the adapter, matMul GFLOP/s at 256/512/1024, and one
 * 784-128-10 MLP training step at batch 128; conv2d forward/backward on
 * the Keras MNIST CNN's layers and one training step of that CNN (Adam).
 */
import { ready } from "../src/gpu/runtime.ts";
import { matMulGflops } from "./matmul_bench.ts";
import { mlpStep } from "./mlp_bench.ts";
import { cnnStepLine, convTable } from "./conv_bench.ts";

const rt = await ready();
const info = rt.ctx.adapterInfo;
console.log(
  `adapter: ${info.description || info.vendor} (${info.architecture || "?"}), ` +
    `fallback: ${rt.ctx.isFallbackAdapter}, shader-f16: ${rt.ctx.features.has("shader-f16")}, ` +
    `backend: ${Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default"}`,
);
for (const n of [256, 512, 1024]) {
  console.log(`matMul ${n}x${n}x${n}: ${(await matMulGflops(n)).toFixed(1)} GFLOP/s`);
}
const t = await mlpStep();
console.log(
  `MLP 784-128-10 training step, batch 128, SGD: ${t.msPerStep.toFixed(2)} ms/step, ` +
    `${Math.round(t.samplesPerSecond)} samples/s, ${t.submitsPerStep} submit(s)/step`,
);
for (const line of await convTable()) console.log(line);
console.log(await cnnStepLine());
