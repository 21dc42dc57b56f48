/**
 * The WebGPU runtime: one device per process, a pipeline cache keyed by kernel
 * variant, the buffer pool, and command batching. Every op records its
 * dispatch into one open compute pass; nothing is submitted until a readback,
 * an explicit `flush()` (the end of a training step), or a full uniform arena.
 */
import { DeviceError, GPUAssertionError } from "../errors.ts";
import { acquireDevice, type GPUContext } from "./device.ts";
import { BufferPool } from "./buffer_pool.ts";
import { TexturePool } from "./texture_pool.ts";
import {
  encodeUniforms,
  type Kernel,
  kernelKey,
  kernelSource,
  uniformLayout,
  type UniformValues,
} from "./kernel.ts";

/** Bytes of uniform data recorded between two submits before we submit anyway. */
const UNIFORM_ARENA_BYTES = 1 << 20;
/** Released bytes awaiting a submit before we submit anyway (a loop that never reads back). */
const PENDING_RELEASE_BYTES = 256 << 20;
/** Bind groups kept for reuse before the cache starts over (shapes that keep changing would grow it). */
const BIND_GROUP_CACHE_SIZE = 4096;
/** Words of the GPU assertion buffer: [code, detail0, detail1, detail2]. */
const STATUS_WORDS = 4;

/** Formats a failed GPU check; registered by the op that binds the status buffer. */
export type AssertionMessage = (details: Uint32Array) => string;
const assertionMessages = new Map<number, AssertionMessage>();

/** Registers the message of GPU assertion `code` (a kernel writes it to the status buffer). */
export function defineAssertion(code: number, message: AssertionMessage): void {
  assertionMessages.set(code, message);
}

interface CachedPipeline {
  key: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  hasUniforms: boolean;
  /** Positions, in a dispatch's `buffers`, of the bindings the kernel may write. */
  writes: number[];
}

export class Runtime {
  readonly ctx: GPUContext;
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly textures: TexturePool;
  /** A storage buffer that checking kernels write a failure code into; read with every readback. */
  readonly statusBuffer: GPUBuffer;

  readonly #pipelines = new Map<string, CachedPipeline>();
  /**
   * Bind groups by (pipeline, uniform offset, bound buffers and windows). A
   * training step binds the same pool buffers at the same uniform offsets
   * every step, so after the first step each dispatch reuses its bind group
   * (creating one costs ~0.1 ms of JS on llvmpipe). Cleared when the pool
   * destroys buffers (`trim()`).
   */
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  #bindGroupsGeneration = 0;
  readonly #bufferIds = new WeakMap<GPUBuffer | GPUTextureView, number>();
  #nextBufferId = 0;
  readonly #uniformAlign: number;
  readonly #uniformBuffer: GPUBuffer;
  readonly #uniformStaging = new ArrayBuffer(UNIFORM_ARENA_BYTES);
  readonly #uniformView = new DataView(this.#uniformStaging);
  #uniformUsed = 0;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #lost: string | null = null;
  #validationErrors: string[] = [];
  /** Submits so far; a training step should add exactly one. */
  submits = 0;
  dispatches = 0;
  /** Tensors copied into textures (Runtime.texture; a copy reused within a submit counts once). */
  textureCopies = 0;
  /**
   * This submit's texture copies by source buffer, until the buffer is written: a step reads the input
   * batch and the weights through textures twice each (forward and backward, forward and the update), and
   * on llvmpipe a copy of 400 KB costs ~0.2 ms.
   */
  readonly #textureOf = new Map<GPUBuffer, { view: GPUTextureView; floats: number }>();
  /** Buffers whose first `floats` floats all equal `value` (`fill`'s outputs), until written. */
  readonly #filled = new WeakMap<GPUBuffer, { value: number; floats: number }>();
  /** Bind groups created (a dispatch that reuses a cached one adds none). */
  bindGroupsCreated = 0;

  constructor(ctx: GPUContext) {
    this.ctx = ctx;
    this.device = ctx.device;
    this.pool = new BufferPool(ctx.device);
    this.textures = new TexturePool(ctx.device);
    this.#uniformAlign = ctx.device.limits.minUniformBufferOffsetAlignment;
    this.#uniformBuffer = ctx.device.createBuffer({
      size: UNIFORM_ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.statusBuffer = ctx.device.createBuffer({
      size: STATUS_WORDS * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    ctx.device.lost.then((info) => {
      this.#lost = info.message || info.reason || "unknown reason";
    });
    ctx.device.addEventListener("uncapturederror", (event) => {
      this.#validationErrors.push((event as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Pipelines compiled so far (one per kernel variant), for the pipeline-cache test. */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** Throws if the device is gone, so the failure surfaces at the call that needs it. */
  check(): void {
    if (this.#lost !== null) {
      throw new DeviceError(
        `the WebGPU device was lost (${this.#lost}); tensors on it are gone. ` +
          "Restart the process to get a new device.",
      );
    }
  }

  /**
   * Records one dispatch of `kernel` (variant `variant`) into the open compute
   * pass. A buffer binds whole; a `{ buffer, offset, size }` binds a window
   * (uniform bindings, which are limited to 64 KiB); a texture binding takes
   * the view that `texture()` returned.
   */
  dispatch<V>(
    kernel: Kernel<V>,
    variant: V,
    buffers: readonly (GPUBuffer | GPUBufferBinding | GPUTextureView)[],
    uniforms: UniformValues,
    workgroups: readonly [number, number?, number?],
  ): void {
    this.check();
    if (this.pool.pendingBytes > PENDING_RELEASE_BYTES) this.flush();
    const cached = this.#pipeline(kernel, variant);
    const layout = uniformLayout(kernel as Kernel<unknown>);
    let offset = -1;
    if (cached.hasUniforms) {
      if (this.#uniformUsed + layout.byteSize > UNIFORM_ARENA_BYTES) this.flush();
      offset = this.#uniformUsed;
      encodeUniforms(kernel.name, layout, uniforms, this.#uniformView, offset);
      this.#uniformUsed = Math.ceil((offset + layout.byteSize) / this.#uniformAlign) *
        this.#uniformAlign;
    }
    if (
      this.#bindGroupsGeneration !== this.pool.generation || this.#bindGroups.size >= BIND_GROUP_CACHE_SIZE
    ) {
      this.#bindGroups.clear();
      this.#bindGroupsGeneration = this.pool.generation;
    }
    let key = `${cached.key}|${offset}`;
    for (const b of buffers) {
      key += "buffer" in b
        ? `|${this.#bufferId(b.buffer)}@${b.offset ?? 0}+${b.size ?? ""}`
        : `|${this.#bufferId(b)}`;
    }
    let bindGroup = this.#bindGroups.get(key);
    if (bindGroup === undefined) {
      const entries: GPUBindGroupEntry[] = [];
      if (cached.hasUniforms) {
        entries.push({
          binding: 0,
          resource: { buffer: this.#uniformBuffer, offset, size: layout.byteSize },
        });
      }
      const first = entries.length;
      buffers.forEach((b, i) =>
        entries.push({
          binding: first + i,
          resource: "buffer" in b || b instanceof GPUTextureView ? b : { buffer: b },
        })
      );
      bindGroup = this.device.createBindGroup({ layout: cached.layout, entries });
      this.#bindGroups.set(key, bindGroup);
      this.bindGroupsCreated++;
    }
    for (const i of cached.writes) {
      const b = buffers[i];
      if (!(b instanceof GPUTextureView)) this.#written("buffer" in b ? b.buffer : b);
    }
    const pass = this.#openPass();
    pass.setPipeline(cached.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.dispatches++;
  }

  /** Records a buffer-to-buffer copy, in order with the dispatches around it. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number) {
    this.check();
    this.#closePass();
    this.#written(dst);
    this.#openEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Records a copy of the first `floats` floats of `buffer` (rounded up to a
   * whole texel) into a pooled texture, in order with the dispatches around it, and
   * returns its view for a "texture" binding of this submit's dispatches.
   */
  texture(buffer: GPUBuffer, floats: number): GPUTextureView {
    this.check();
    const copied = this.#textureOf.get(buffer);
    if (copied !== undefined && copied.floats >= floats) return copied.view;
    this.#closePass();
    this.textureCopies++;
    const view = this.textures.copyIn(this.#openEncoder(), buffer, floats);
    this.#textureOf.set(buffer, { view, floats });
    return view;
  }

  /** Whether commands are recorded and not yet submitted. */
  get hasPendingWork(): boolean {
    return this.#encoder !== null;
  }

  /** Uploads CPU data into a buffer (before any command still unsubmitted; see BufferPool.release). */
  upload(buffer: GPUBuffer, data: ArrayBufferView): void {
    this.check();
    this.#written(buffer);
    this.device.queue.writeBuffer(
      buffer,
      0,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      Math.ceil(data.byteLength / 4) * 4,
    );
  }

  /** Submits everything recorded so far as one command buffer. */
  flush(): void {
    this.check();
    if (this.#encoder === null) {
      this.pool.recycle();
      return;
    }
    this.#closePass();
    if (this.#uniformUsed > 0) {
      this.device.queue.writeBuffer(this.#uniformBuffer, 0, this.#uniformStaging, 0, this.#uniformUsed);
    }
    this.device.queue.submit([this.#encoder.finish()]);
    this.submits++;
    this.#encoder = null;
    this.#uniformUsed = 0;
    this.pool.recycle();
    this.textures.recycle();
    this.#textureOf.clear();
  }

  /**
   * Reads `bytes` bytes of `buffer` back to the CPU, together with the GPU
   * status words, and throws the first failed GPU assertion or WebGPU
   * validation error, so neither goes unnoticed.
   */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const padded = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({
      size: padded + STATUS_WORDS * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      if (padded > 0) this.copy(buffer, 0, staging, 0, padded);
      this.copy(this.statusBuffer, 0, staging, padded, STATUS_WORDS * 4);
      this.flush();
      // NOTE: a device lost while a readback is in flight fails mapAsync with a bare
      // OperationError ("validation error occurred"), and Deno resolves `device.lost`
      // only 10-20 ms later: wait for it briefly so that the caller gets the DeviceError.
      await staging.mapAsync(GPUMapMode.READ).catch(async (error) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([this.device.lost, new Promise((r) => timer = setTimeout(r, 200))]);
        clearTimeout(timer);
        this.check();
        throw error;
      });
      this.check();
      const mapped = staging.getMappedRange();
      const data = mapped.slice(0, bytes);
      const status = new Uint32Array(mapped.slice(padded, padded + STATUS_WORDS * 4));
      staging.unmap();
      this.#throwPendingErrors(status);
      return data;
    } finally {
      staging.destroy();
    }
  }

  #throwPendingErrors(status: Uint32Array): void {
    if (this.#validationErrors.length > 0) {
      const errors = this.#validationErrors.splice(0);
      throw new Error(`WebGPU validation error (an engine bug): ${errors.join("; ")}`);
    }
    if (status[0] !== 0) {
      this.device.queue.writeBuffer(this.statusBuffer, 0, new Uint32Array(STATUS_WORDS));
      const message = assertionMessages.get(status[0]);
      throw new GPUAssertionError(
        message ? message(status.subarray(1)) : `GPU check ${status[0]} failed`,
      );
    }
  }

  /**
   * Records that the first `floats` floats of `buffer` now all equal `value`
   * (float32), until a dispatch, copy or upload writes the buffer.
   */
  markFilled(buffer: GPUBuffer, value: number, floats: number): void {
    this.#filled.set(buffer, { value, floats });
  }

  /** The value every one of the first `floats` floats of `buffer` holds, if `markFilled` said so and nothing wrote it since. */
  filledValue(buffer: GPUBuffer, floats: number): number | undefined {
    const filled = this.#filled.get(buffer);
    return filled !== undefined && filled.floats >= floats ? filled.value : undefined;
  }

  /** What the runtime knows of a buffer's contents (its texture copy, a fill) is stale once it is written. */
  #written(buffer: GPUBuffer): void {
    this.#textureOf.delete(buffer);
    this.#filled.delete(buffer);
  }

  #bufferId(resource: GPUBuffer | GPUTextureView): number {
    let id = this.#bufferIds.get(resource);
    if (id === undefined) this.#bufferIds.set(resource, id = this.#nextBufferId++);
    return id;
  }

  #openEncoder(): GPUCommandEncoder {
    return this.#encoder ??= this.device.createCommandEncoder();
  }

  #openPass(): GPUComputePassEncoder {
    return this.#pass ??= this.#openEncoder().beginComputePass();
  }

  #closePass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  #pipeline<V>(kernel: Kernel<V>, variant: V): CachedPipeline {
    const key = kernelKey(kernel, variant);
    let cached = this.#pipelines.get(key);
    if (cached) return cached;
    const hasUniforms = kernel.uniforms.length > 0;
    const layoutEntries: GPUBindGroupLayoutEntry[] = [];
    if (hasUniforms) {
      layoutEntries.push({
        binding: 0,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: "uniform" },
      });
    }
    for (const b of kernel.bindings(variant)) {
      const binding = layoutEntries.length, visibility = GPUShaderStage.COMPUTE;
      layoutEntries.push(
        b.access === "texture" ? { binding, visibility, texture: { sampleType: "unfilterable-float" } } : {
          binding,
          visibility,
          buffer: {
            type: b.access === "uniform" ? "uniform" : b.access === "read" ? "read-only-storage" : "storage",
          },
        },
      );
    }
    const layout = this.device.createBindGroupLayout({ entries: layoutEntries });
    const module = this.device.createShaderModule({
      label: key,
      code: kernelSource(kernel, variant),
    });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
    });
    const writes = kernel.bindings(variant).flatMap((b, i) => (b.access === "read_write" ? [i] : []));
    cached = { key, pipeline, layout, hasUniforms, writes };
    this.#pipelines.set(key, cached);
    return cached;
  }
}

let current: Runtime | null = null;
let failure: DeviceError | null = null;
let pending: Promise<Runtime> | null = null;

/**
 * Acquires the device once per process. Resolves to the runtime, or rejects
 * with a DeviceError saying what is missing and how to get it.
 */
export function ready(): Promise<Runtime> {
  pending ??= acquireDevice((globalThis.navigator as Navigator | undefined)?.gpu).then(
    (ctx) => (current = new Runtime(ctx)),
    (error) => {
      failure = error instanceof DeviceError
        ? error
        : new DeviceError(`could not create a WebGPU device: ${error}`);
      throw failure;
    },
  );
  return pending;
}

/** The runtime, for synchronous ops; throws the acquisition error if there is no device. */
export function runtime(): Runtime {
  if (current) return current;
  if (failure) throw failure;
  throw new DeviceError(
    "the WebGPU device is not ready yet: `await wg.ready()` before the first op " +
      "(importing mod.ts does this for you).",
  );
}

/**
 * Submits the ops recorded so far. Call it at the end of a training step
 * that reads nothing back: the step then costs one submit, and the buffers
 * it released become reusable. (`Optimizer.applyGradients` and `data()` do
 * it for you.)
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.variable(wg.tensor([1, 2]), true, "flush_example_w");
 * for (let step = 0; step < 3; step++) {
 *   wg.tidy(() => w.assign(wg.mul(w, 2)));
 *   wg.flush(); // one submit per step, no await
 * }
 * assertEquals([...await w.data()], [8, 16]);
 * w.dispose();
 * ```
 */
export function flush(): void {
  runtime().flush();
}
