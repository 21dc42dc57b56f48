/**
 * The adapter's arithmetic ceiling: GFLOP/s of a kernel that does nothing but
 * FMAs on registers (no loads; one store per invocation), so no GEMM on this
 * adapter can beat it. On llvmpipe it measures what LLVM's SoA code gets out
 * of the CPU's vector units; bench/gemm_variants.md compares GEMMs with it,
 * and the peer benchmark prints it next to its matMul rows. Raw WebGPU
 * pipelines, not the engine's kernels: only the adapter is measured.
 *
 * `deno run --allow-env bench/fma_ceiling.ts [iterations]`
 */
const WORKGROUPS = 64, INVOCATIONS = WORKGROUPS * 64;
/** FMAs per chain per loop trip: 8 measured ~10-20% above 1 (the loop's own work amortized). */
const UNROLL = 8;

/** WGSL: each invocation updates `accumulators` independent vec4 chains UNROLL times per loop trip. */
function source(accumulators: number): string {
  const names = Array.from({ length: accumulators }, (_, i) => `a${i}`);
  return `
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> iterations: vec4<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${names.map((a, i) => `var ${a} = vec4<f32>(f32(gid.x) * ${i + 1}e-9);`).join("\n  ")}
  let m = vec4<f32>(0.999);
  let c = vec4<f32>(1e-3);
  for (var i = 0u; i < iterations.x; i++) {
    ${
    Array.from({ length: UNROLL }, () => names.map((a) => `${a} = fma(${a}, m, c);`).join("\n    ")).join(
      "\n    ",
    )
  }
  }
  out[gid.x] = ${names.join(" + ")};
}`;
}

/**
 * Best GFLOP/s of 3 timed submits of `accumulators` FMA chains per invocation, each of `iterations`
 * loop trips (the first submit compiles and warms). The default takes ~1 s a submit on llvmpipe here;
 * a GPU finishes it in milliseconds (raise `iterations` there).
 */
export async function fmaGflops(device: GPUDevice, accumulators = 8, iterations = 2048): Promise<number> {
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code: source(accumulators) }), entryPoint: "main" },
  });
  const out = device.createBuffer({ size: INVOCATIONS * 16, usage: GPUBufferUsage.STORAGE });
  const uniform = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, new Uint32Array([iterations, 0, 0, 0]));
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: uniform } }],
  });
  let best = Infinity;
  for (let run = 0; run < 4; run++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(WORKGROUPS);
    pass.end();
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    // Deno settles this ~11 ms late (it polls the device every 10 ms): < 1% of a run of a second or more.
    await device.queue.onSubmittedWorkDone();
    if (run > 0) best = Math.min(best, performance.now() - start);
  }
  out.destroy();
  uniform.destroy();
  return (INVOCATIONS * iterations * UNROLL * accumulators * 8) / best / 1e6;
}

if (import.meta.main) {
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter === null) throw new Error("no WebGPU adapter (see README.md: Getting an adapter)");
  const device = await adapter.requestDevice();
  console.log(
    `adapter: ${
      adapter.info.description || adapter.info.vendor
    }, ${navigator.hardwareConcurrency} CPU threads`,
  );
  const iterations = Number(Deno.args[0] ?? 2048);
  for (const accumulators of [8, 16, 32]) {
    const value = await fmaGflops(device, accumulators, Math.round(iterations * 8 / accumulators));
    console.log(`${accumulators} vec4 FMA chains per invocation: ${value.toFixed(1)} GFLOP/s`);
  }
}
