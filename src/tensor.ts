/**
 * Tensor: a shape, a dtype and a reference-counted GPU buffer; plus the
 * lifetime rules around it (dispose, tidy scopes, keep) and memory accounting.
 */
import { DisposedTensorError, DTypeError, ShapeError } from "./errors.ts";
import { runtime } from "./gpu/runtime.ts";
import { formatShape, type Shape, shapesEqual, sizeOf } from "./shape.ts";

/** Element types. Booleans are float32 0/1, as in most of the lessons. */
export type DType = "float32" | "int32";

/** Typed array of a dtype. */
export type DataOf<D extends DType> = D extends "int32" ? Int32Array : Float32Array;

/** Nested number arrays, as `array()` returns them. */
export type NestedArray = number | NestedArray[];

/** A GPU buffer shared by the tensors that view it (reshape, saved activations). */
/** @internal */
export class Storage {
  refs = 1;
  constructor(readonly buffer: GPUBuffer, readonly bytes: number) {
    live.bytes += bytes;
  }
  release(): void {
    if (--this.refs > 0) return;
    live.bytes -= this.bytes;
    runtime().pool.release(this.buffer);
  }
}

const live = { tensors: 0, bytes: 0 };
let nextId = 0;

/**
 * A multi-dimensional array on the GPU. Create one with `wg.tensor()`; free it with `dispose()` or `wg.tidy()`.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const t = wg.tensor([[1, 2], [3, 4]]);
 * assertEquals([t.shape, t.dtype, t.size, t.rank], [[2, 2], "float32", 4, 2]);
 * assertEquals(await t.array(), [[1, 2], [3, 4]]); // reading back is async
 * t.dispose();
 * ```
 */
export class Tensor {
  /** Unique id, for debugging and the gradient tape. */
  readonly id = nextId++;
  /** Dimensions, outermost first. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  #storage: Storage | null;
  /** Set by `wg.keep()` and for variables: an enclosing `tidy` does not dispose it. */
  kept = false;

  /** @internal Use `wg.tensor()` and the ops to create tensors. */
  constructor(shape: Shape, dtype: DType, storage: Storage, tracked = true) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.#storage = storage;
    live.tensors++;
    if (tracked) scopes.at(-1)?.add(this);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether `dispose()` has run (the tensor can no longer be used). */
  get isDisposed(): boolean {
    return this.#storage === null;
  }

  /** @internal The GPU buffer; throws if the tensor was disposed. */
  get buffer(): GPUBuffer {
    return this.#live().buffer;
  }

  /** Reads the values back: Float32Array for float32, Int32Array for int32. */
  async data(): Promise<Float32Array | Int32Array> {
    const storage = this.#live();
    const bytes = await runtime().read(storage.buffer, this.size * 4);
    return this.dtype === "int32" ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** Reads the values back as nested arrays (a number for a scalar). */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** Frees the GPU memory (once no other view shares it). Safe to call twice. */
  dispose(): void {
    if (this.#storage === null) return;
    this.#storage.release();
    this.#storage = null;
    live.tensors--;
  }

  /** @internal A new tensor of another shape over the same buffer (reshape, saved activations). */
  view(shape: Shape, tracked = true): Tensor {
    return new Tensor(shape, this.dtype, this.retainStorage(), tracked);
  }

  /** @internal Adds a reference to the buffer, for a new tensor that shares it. */
  retainStorage(): Storage {
    const storage = this.#live();
    storage.refs++;
    return storage;
  }

  /**
   * @internal The buffer, made exclusive to this tensor first (copied if a
   * view or another variable shares it), so a kernel may update it in place.
   * `keepContents: false` skips the copy when the caller overwrites it all.
   */
  exclusiveBuffer(keepContents = true): GPUBuffer {
    const storage = this.#live();
    if (storage.refs === 1) return storage.buffer;
    const copy = new Storage(runtime().pool.acquire(storage.bytes), storage.bytes);
    if (keepContents) runtime().copy(storage.buffer, 0, copy.buffer, 0, storage.bytes);
    storage.release();
    this.#storage = copy;
    return copy.buffer;
  }

  /** @internal Makes this tensor hold `source`'s buffer (for `Variable.assign`). */
  protected adopt(source: Tensor): void {
    const storage = source.retainStorage();
    this.#storage?.release();
    this.#storage = storage;
  }

  /** `Tensor([2,3], float32)`. */
  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.isDisposed ? ", disposed" : ""})`;
  }

  #live(): Storage {
    if (this.#storage === null) {
      throw new DisposedTensorError(
        `${this} was used after it was disposed (by dispose() or the end of a tidy); ` +
          "return it from the tidy or wg.keep() it to use it later",
      );
    }
    return this.#storage;
  }
}

/** Trainable and other variables by name, as `variableGrads` finds them. */
const variables = new Map<string, Variable>();

/**
 * A mutable tensor holding model state; `tidy` never disposes it.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const v = wg.variable(wg.zeros([2]), true, "v_doc");
 * v.assign(wg.add(v, 1)); // in place: the same variable, new values
 * assertEquals(Array.from(await v.data()), [1, 1]);
 * assertEquals(v.name, "v_doc");
 * v.dispose();
 * ```
 */
export class Variable extends Tensor {
  /** Unique among live variables; the key of its gradient in `variableGrads`. */
  readonly name: string;
  /** Whether `variableGrads` (and optimizers) update it by default. */
  trainable: boolean;

  /** @internal Use `wg.variable()`. */
  constructor(initial: Tensor, trainable: boolean, name: string) {
    if (variables.has(name)) {
      throw new Error(`variable: the name '${name}' is already taken by a live variable`);
    }
    super(initial.shape, initial.dtype, initial.retainStorage(), false);
    this.kept = true;
    this.trainable = trainable;
    this.name = name;
    variables.set(name, this);
  }

  /** Replaces the value with `value`'s (same shape and dtype), sharing its buffer. */
  assign(value: Tensor): void {
    if (value.dtype !== this.dtype) {
      throw new DTypeError(
        `assign to variable '${this.name}': it is ${this.dtype}, the value ${value.dtype}`,
      );
    }
    if (!shapesEqual(value.shape, this.shape)) {
      throw new ShapeError(
        `assign to variable '${this.name}': its shape is ${formatShape(this.shape)}, ` +
          `the value's ${formatShape(value.shape)}`,
      );
    }
    this.adopt(value);
  }

  /** Frees the value and the name. */
  override dispose(): void {
    if (variables.get(this.name) === this) variables.delete(this.name);
    super.dispose();
  }
}

/** The live variable called `name`, if any. */
export function variableByName(name: string): Variable | undefined {
  return variables.get(name);
}

/** Live variables, in creation order. */
export function registeredVariables(): Variable[] {
  return [...variables.values()];
}

/** @internal Allocates an uninitialized tensor (outputs of kernels). */
export function empty(shape: Shape, dtype: DType = "float32"): Tensor {
  const bytes = sizeOf(shape) * 4;
  return new Tensor(shape, dtype, new Storage(runtime().pool.acquire(bytes), bytes));
}

/** @internal Creates a tensor holding `data`. */
export function fromData(data: Float32Array | Int32Array, shape: Shape): Tensor {
  const t = empty(shape, data instanceof Int32Array ? "int32" : "float32");
  if (data.length > 0) runtime().upload(t.buffer, data);
  return t;
}

/**
 * @internal Overwrites a tensor's values from the CPU, in place (batch
 * inputs reused across training steps). Submits pending commands first:
 * `queue.writeBuffer` would otherwise land before commands that still read
 * the old values.
 */
export function writeData(t: Tensor, data: Float32Array | Int32Array): void {
  if (data.length !== t.size) {
    throw new ShapeError(`writeData: ${data.length} values for ${t}`);
  }
  const rt = runtime();
  if (rt.hasPendingWork) rt.flush();
  rt.upload(t.exclusiveBuffer(false), data);
}

// ---- lifetime scopes ----

const scopes: Set<Tensor>[] = [];

/** Values `tidy` can return: tensors nested in arrays and plain objects are kept. */
export type TensorContainer =
  | void
  | number
  | string
  | boolean
  | Tensor
  | TensorContainer[]
  | { [key: string]: TensorContainer };

/**
 * Runs `fn` and disposes every tensor it created, except those it returns
 * (found inside arrays and plain objects) and those kept with `keep`.
 *
 * @param fn The function to run; synchronous (an async function would end the scope at its first await).
 * @returns What `fn` returns, its tensors kept alive.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const before = wg.memory().numTensors;
 * const y = wg.tidy(() => wg.add(wg.mul(wg.tensor([1, 2]), 2), 1)); // the intermediates are freed
 * assertEquals(wg.memory().numTensors, before + 1);
 * assertEquals(Array.from(await y.data()), [3, 5]);
 * y.dispose();
 * ```
 */
export function tidy<T extends TensorContainer>(fn: () => T): T {
  scopes.push(new Set());
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new TypeError("tidy(fn): fn returned a Promise; tidy only takes synchronous functions");
    }
  } catch (error) {
    disposeScope(scopes.pop()!, new Set());
    throw error;
  }
  const scope = scopes.pop()!;
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  disposeScope(scope, returned);
  const parent = scopes.at(-1);
  if (parent) { for (const t of returned) if (scope.has(t)) parent.add(t); }
  return result;
}

function disposeScope(scope: Set<Tensor>, returned: Set<Tensor>): void {
  for (const t of scope) if (!t.kept && !returned.has(t)) t.dispose();
}

/** Finds the tensors inside a value returned from a tidy. */
export function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) { for (const v of value) collectTensors(v, into); }
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

/**
 * Marks a tensor so that no enclosing `tidy` disposes it; returns it.
 *
 * @param t The tensor to keep.
 * @returns `t` itself.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const saved: wg.Tensor[] = [];
 * wg.tidy(() => {
 *   saved.push(wg.keep(wg.tensor([1, 2]))); // not returned, but kept
 *   wg.neg(saved[0]); // an intermediate: freed when the tidy ends
 * });
 * assertEquals(Array.from(await saved[0].data()), [1, 2]); // still alive
 * saved[0].dispose();
 * ```
 */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

/** Tensor and GPU memory in use, as `tf.memory()` reports it, plus pool counts. */
export interface MemoryInfo {
  /** Live Tensor objects. */
  numTensors: number;
  /** Bytes of tensor data (views of one buffer count once). */
  numBytes: number;
  /** GPU buffers the pool has created and not destroyed, in use or free. */
  numGPUBuffers: number;
  /** Bytes of those buffers. */
  numGPUBytes: number;
  /** Bytes of the textures that kernels read tensor copies from (kept for reuse by later steps). */
  numTextureBytes: number;
}

/**
 * Reports live tensors and GPU buffers.
 *
 * @returns `{ numTensors, numBytes }` of live tensors, as in TensorFlow.js, and the GPU buffer pool's counts.
 *
 * @example
 * ```ts
 * import * as wg from "../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const before = wg.memory();
 * const t = wg.zeros([256]);
 * assertEquals(wg.memory().numTensors, before.numTensors + 1);
 * assertEquals(wg.memory().numBytes, before.numBytes + 1024);
 * t.dispose();
 * assertEquals(wg.memory().numTensors, before.numTensors);
 * ```
 */
export function memory(): MemoryInfo {
  const pool = runtime().pool.stats();
  return {
    numTensors: live.tensors,
    numBytes: live.bytes,
    numGPUBuffers: pool.numBuffers,
    numGPUBytes: pool.numBytes,
    numTextureBytes: runtime().textures.numBytes,
  };
}

function nest(data: Float32Array | Int32Array, shape: Shape): NestedArray {
  if (shape.length === 0) return data[0];
  const build = (offset: number, dim: number): NestedArray[] => {
    const n = shape[dim];
    const stride = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = dim === shape.length - 1 ? data[offset + i] : build(offset + i * stride, dim + 1);
    }
    return out;
  };
  return build(0, 0);
}
