/**
 * The WebGPU runtime: how a missing WebGPU or adapter is reported, the
 * pipeline cache, command batching (one submit per readback), and device loss.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { rt } from "./_helpers/gpu.ts";
import * as wg from "../mod.ts";
import { acquireDevice } from "../src/gpu/device.ts";
import { Runtime } from "../src/gpu/runtime.ts";
import { fillKernel } from "../shaders/elementwise.ts";

Deno.test("acquireDevice(undefined): DeviceError says navigator.gpu is missing and how to get an adapter", async () => {
  const error = await assertRejects(() => acquireDevice(undefined), wg.DeviceError);
  assert(error.message.includes("navigator.gpu is undefined"), error.message);
  assert(error.message.includes("llvmpipe"), error.message); // the Linux-without-GPU recipe
  assert(error.message.includes("apt-get install"), error.message);
});

Deno.test("acquireDevice: a GPU without adapters gives the 'no adapter found' DeviceError", async () => {
  let asked = 0;
  const fakeGPU = {
    requestAdapter: () => {
      asked++;
      return Promise.resolve(null);
    },
  } as unknown as GPU;
  const error = await assertRejects(() => acquireDevice(fakeGPU), wg.DeviceError);
  assertEquals(asked, 1);
  assert(error.message.includes("no adapter was found"), error.message);
  assert(error.message.includes("requestAdapter() returned null"), error.message);
  assert(error.message.includes("mesa-vulkan-drivers"), error.message);
});

Deno.test("pipeline cache: the same op twice compiles one pipeline, a new variant one more", async () => {
  const x = wg.tensor([[1.5, -2], [3, 4]]);
  // An op variant no other test in this file uses, so its first call compiles.
  const first = wg.leakyRelu(x, 0.1);
  const afterFirst = rt.pipelineCount;
  const second = wg.leakyRelu(x, 0.3); // alpha is a uniform, not a variant
  const third = wg.leakyRelu(wg.reshape(x, [4]), 0.1); // shapes are uniforms too
  assertEquals(rt.pipelineCount, afterFirst);
  assertEquals(await second.data(), new Float32Array([1.5, -0.6, 3, 4]));
  assertEquals(await first.data(), new Float32Array([1.5, -0.2, 3, 4]));
  assertEquals(await third.data(), new Float32Array([1.5, -0.2, 3, 4]));
  const other = wg.elu(x); // another row of the unary table: one more pipeline
  assertEquals(rt.pipelineCount, afterFirst + 1);
  for (const t of [x, first, second, third, other]) t.dispose();
});

Deno.test("command batching: a chain of 20 ops and one readback is one submit", async () => {
  const x = wg.tensor([1, 2, 3, 4]);
  wg.flush(); // submit whatever earlier code left recorded
  const submits = rt.submits;
  const dispatches = rt.dispatches;
  const y = wg.tidy(() => {
    let t = x;
    for (let i = 0; i < 20; i++) t = wg.add(t, 1);
    return t;
  });
  assertEquals(rt.dispatches - dispatches, 20);
  assertEquals(rt.submits, submits, "recording ops submits nothing");
  assertEquals(await y.data(), new Float32Array([21, 22, 23, 24]));
  assertEquals(rt.submits, submits + 1);
  x.dispose();
  y.dispose();
});

Deno.test("bind groups: a repeated step reuses them; trim() (destroying free buffers) starts over", async () => {
  const x = wg.tensor([1, 2, 3, 4]);
  const step = () => wg.tidy(() => wg.add(wg.mul(wg.sub(x, 1), 2), 1));
  const run = async () => {
    const y = step();
    wg.flush();
    const data = await y.data();
    y.dispose();
    return data;
  };
  const want = new Float32Array([1, 3, 5, 7]);
  assertEquals(await run(), want);
  assertEquals(await run(), want); // buffers and uniform offsets now repeat step to step
  const created = rt.bindGroupsCreated;
  assertEquals(await run(), want);
  assertEquals(rt.bindGroupsCreated, created, "a repeated step creates no bind group");
  rt.pool.trim(); // destroys the free buffers that cached bind groups name
  assertEquals(await run(), want);
  assert(rt.bindGroupsCreated > created, "after trim() the bind groups are made again");
  x.dispose();
});

Deno.test("device loss: the next dispatch throws a DeviceError that names the loss", async () => {
  // A runtime of its own, so the shared one (used by every other test) lives on.
  const ctx = await acquireDevice(navigator.gpu);
  const own = new Runtime(ctx);
  const n = 4;
  const buffer = own.pool.acquire(n * 4);
  const fill = () => own.dispatch(fillKernel, undefined, [buffer], { n, bits: 0x40400000 }, [1]); // 3.0
  fill();
  assertEquals(new Float32Array(await own.read(buffer, n * 4)), new Float32Array([3, 3, 3, 3]));

  ctx.device.destroy();
  // NOTE: Deno resolves `device.lost` (reason "destroyed") on a later turn of
  // the event loop, not inside destroy(); a dispatch in the same synchronous
  // run would still be recorded. We wait for it as an application would.
  const info = await ctx.device.lost;
  assertEquals(info.reason, "destroyed");
  const error = assertThrows(fill, wg.DeviceError);
  assert(error.message.includes("device was lost"), error.message);
  assert(error.message.includes("Restart the process"), error.message);
  // Readback and submit fail the same way, rather than hanging on a dead device.
  await assertRejects(() => own.read(buffer, n * 4), wg.DeviceError);
  assertThrows(() => own.flush(), wg.DeviceError);

  // The shared runtime is unaffected.
  await assertSharedRuntimeWorks();
});

Deno.test("device loss with a readback in flight: the readback rejects with a DeviceError", async () => {
  const ctx = await acquireDevice(navigator.gpu);
  const own = new Runtime(ctx);
  const buffer = own.pool.acquire(16);
  const fill = () => own.dispatch(fillKernel, undefined, [buffer], { n: 4, bits: 0x40400000 }, [1]);
  fill();
  ctx.device.destroy();
  fill(); // same synchronous run: the loss is not known yet, so this still records
  // mapAsync fails with a bare OperationError; the runtime waits for `lost` and says what happened.
  const error = await assertRejects(() => own.read(buffer, 16), wg.DeviceError);
  assert(error.message.includes("device was lost"), error.message);
  await assertSharedRuntimeWorks();
});

async function assertSharedRuntimeWorks(): Promise<void> {
  const t = wg.tidy(() => wg.add(wg.tensor([1, 2]), 1));
  assertEquals(await t.data(), new Float32Array([2, 3]));
  assertInstanceOf(rt, Runtime);
  t.dispose();
}

Deno.test("a texture copy is reused within a submit until its buffer is written", async () => {
  const t = wg.tensor([1, 2, 3, 4, 5]);
  const copies = rt.textureCopies;
  const first = rt.texture(t.buffer, 5);
  assert(rt.texture(t.buffer, 4) === first, "the same buffer, not written since: the same texture");
  assertEquals(rt.textureCopies, copies + 1);
  rt.texture(t.buffer, 8); // more floats than the copy holds: copied again
  assertEquals(rt.textureCopies, copies + 2);
  // A kernel writes the buffer: the next read copies again.
  rt.dispatch(fillKernel, undefined, [t.buffer], { n: 5, bits: 0 }, [1]);
  rt.texture(t.buffer, 5);
  assertEquals(rt.textureCopies, copies + 3);
  // So does a copy into it; and a submit ends every reuse.
  const other = wg.tensor([9, 9, 9, 9, 9]);
  rt.copy(other.buffer, 0, t.buffer, 0, 20);
  rt.texture(t.buffer, 5);
  rt.flush();
  rt.texture(t.buffer, 5);
  assertEquals(rt.textureCopies, copies + 5);
  rt.flush();
  assertEquals([...await t.data()], [9, 9, 9, 9, 9]);
  t.dispose();
  other.dispose();
});
