/**
 * The safetensors checkpoint format (Hugging Face), portable (no Deno.*): an
 * 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to `{dtype, shape, data_offsets}` (plus an optional
 * `__metadata__` string map), then the data buffer that the offsets index.
 *
 * Decoding treats the file as hostile: every number in the header is checked
 * before it is used, and any problem is a CheckpointFormatError that names the
 * file, what is wrong and where (byte offsets count from the start of the
 * file; "data bytes" from the start of the data buffer), never a partial load.
 * @module
 */
import { CheckpointFormatError, DTypeError, ShapeError } from "../errors.ts";

/** Element types a checkpoint holds (safetensors' `F32` and `I32`). */
export type SafetensorsDType = "float32" | "int32";

/** One tensor as it is stored: dtype, shape and row-major values. */
export interface SafetensorsTensor {
  /** Element type. */
  dtype: SafetensorsDType;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** Row-major values: Float32Array for float32, Int32Array for int32. */
  data: Float32Array | Int32Array;
}

/** A tensor to encode: a name plus what {@link SafetensorsTensor} holds. */
export interface NamedSafetensorsTensor {
  /** Unique name (the header key); `__metadata__` is reserved. */
  name: string;
  /** Element type; must match `data`'s array type. */
  dtype: SafetensorsDType;
  /** Dimensions; their product must equal `data.length`. */
  shape: readonly number[];
  /** Row-major values. */
  data: Float32Array | Int32Array;
}

/** What {@link decodeSafetensors} returns. */
export interface DecodedSafetensors {
  /** The `__metadata__` string map (empty if the file has none). */
  metadata: Record<string, string>;
  /** The tensors by name, in the order their data lies in the file. */
  tensors: Map<string, SafetensorsTensor>;
}

/**
 * Largest header accepted, checked before anything is allocated or parsed;
 * the reference implementation uses the same bound against JSON bombs.
 */
export const MAX_HEADER_BYTES = 100_000_000;

const CODE = { float32: "F32", int32: "I32" } as const;
const DTYPE_OF: Record<string, SafetensorsDType> = { F32: "float32", I32: "int32" };
// Valid safetensors dtypes that this engine cannot hold: named as such, not as "unknown".
const UNSUPPORTED = new Set(
  "BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 BF16 U32 F64 I64 U64".split(" "),
);
const ENTRY_KEYS = ["dtype", "shape", "data_offsets"];
const ITEM_BYTES = 4; // both dtypes are 4 bytes wide
const METADATA = "__metadata__";
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Encodes tensors as a safetensors file. Tensors are laid out in the order
 * given; the header is compact JSON padded with spaces to a multiple of 8
 * bytes, so every tensor's data is aligned in the file, as the reference
 * writer does.
 *
 * @param tensors The tensors to store; names must be unique.
 * @param metadata Optional free-form string map, stored as `__metadata__`.
 * @returns The file's bytes.
 * @throws {CheckpointFormatError} A duplicate or reserved name, or a non-string metadata value.
 * @throws {ShapeError} A shape that is not a list of non-negative integers or does not fit the data.
 * @throws {DTypeError} A dtype other than float32/int32, or one that does not match the data's array type.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const bytes = encodeSafetensors(
 *   [{ name: "dense/kernel", dtype: "float32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
 *   { format: "wg" },
 * );
 * const { metadata, tensors } = decodeSafetensors(bytes, "model.safetensors");
 * assertEquals(metadata, { format: "wg" });
 * assertEquals(tensors.get("dense/kernel")?.shape, [2, 2]);
 * assertEquals(tensors.get("dense/kernel")?.data, new Float32Array([1, 2, 3, 4]));
 * ```
 */
export function encodeSafetensors(
  tensors: readonly NamedSafetensorsTensor[],
  metadata?: Record<string, string>,
): Uint8Array {
  // Build the JSON text by hand: a JS object would move integer-like names ("0") to the front.
  const fields: string[] = [];
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new CheckpointFormatError(
          `encodeSafetensors: metadata value of ${show(key)} is a ${typeof value}, not a string`,
        );
      }
    }
    fields.push(`${JSON.stringify(METADATA)}:${JSON.stringify(metadata)}`);
  }
  const names = new Set<string>();
  let offset = 0;
  for (const { name, dtype, shape, data } of tensors) {
    const where = `encodeSafetensors: tensor ${show(name)}`;
    if (name === METADATA) throw new CheckpointFormatError(`${where}: the name is reserved for metadata`);
    if (names.has(name)) throw new CheckpointFormatError(`${where}: the name appears twice`);
    names.add(name);
    if (!Object.hasOwn(CODE, dtype)) throw new DTypeError(`${where}: dtype ${dtype} is not float32 or int32`);
    if (!(dtype === "int32" ? data instanceof Int32Array : data instanceof Float32Array)) {
      throw new DTypeError(`${where}: dtype ${dtype} but the data is a ${data?.constructor?.name}`);
    }
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError(`${where}: shape [${shape.join(",")}] is not a list of non-negative integers`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new ShapeError(
        `${where}: shape [${shape.join(",")}] holds ${size} values, the data ${data.length}`,
      );
    }
    const end = offset + data.length * ITEM_BYTES;
    const info = { dtype: CODE[dtype], shape: [...shape], data_offsets: [offset, end] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // space padding, still valid JSON
  let at = 8 + headerLength;
  for (const { data } of tensors) {
    writeLittleEndian(out, at, data);
    at += data.byteLength;
  }
  return out;
}

/**
 * Decodes a safetensors file, validating all of it first: the header length
 * (against the file and {@link MAX_HEADER_BYTES}, before allocating), UTF-8,
 * JSON, duplicate keys, each entry's dtype, shape and offsets, and that the
 * tensors tile the data buffer exactly (no overlap, gap or trailing bytes).
 * Tensor data are aligned typed arrays that view `bytes` where the file is
 * aligned (it is when written by {@link encodeSafetensors}), else copies.
 *
 * @param bytes The whole file.
 * @param fileName The file's name or URL, used in error messages.
 * @returns The metadata and the tensors, in file order.
 * @throws {CheckpointFormatError} Anything wrong with the file; the message names `fileName` and the byte offset.
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from "./safetensors.ts";
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CheckpointFormatError } from "../errors.ts";
 *
 * // {} padded to 8 bytes: a valid file with no tensors.
 * const empty = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
 * assertEquals(decodeSafetensors(empty, "empty.safetensors").tensors.size, 0);
 * assertThrows(() => decodeSafetensors(empty.subarray(0, 12), "cut.safetensors"), CheckpointFormatError, "cut.safetensors");
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, fileName: string): DecodedSafetensors {
  const fail: (detail: string) => never = (detail) => {
    throw new CheckpointFormatError(`${fileName}: ${detail}`);
  };
  if (bytes.length < 8) {
    fail(
      `the file is ${bytes.length} bytes, shorter than the 8-byte header length that opens a safetensors file`,
    );
  }
  // Bounds first, on the bigint: nothing is allocated or parsed for an absurd length.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${declared} (bytes 0-7) exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(declared);
  if (8 + n > bytes.length) {
    fail(`header length ${n} (bytes 0-7) runs past the end of the ${bytes.length}-byte file`);
  }
  const headerBytes = bytes.subarray(8, 8 + n);
  let text = "";
  try {
    // ignoreBOM keeps a byte-order mark in the text, so JSON.parse rejects it as the reference does.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail(`the header (bytes 8-${8 + n}) is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header (bytes 8-${8 + n}) is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail(`the header (bytes 8-${8 + n}) is JSON but not an object`);
  }
  // JSON.parse keeps the last of duplicate keys silently; the scan finds them and where each key is.
  const keyAt = scanKeys(headerBytes, 8, fail);

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] =
    [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    const where = `${name === METADATA ? METADATA : `tensor ${show(name)}`} (byte ${keyAt.get(name)})`;
    if (name === METADATA) {
      metadata = checkMetadata(info, (detail) => fail(`${where}: ${detail}`));
      continue;
    }
    if (typeof info !== "object" || info === null || Array.isArray(info)) fail(`${where}: is not an object`);
    const fields = info as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!ENTRY_KEYS.includes(key)) fail(`${where}: unexpected field ${show(key)}`);
    }
    for (const key of ENTRY_KEYS) if (!Object.hasOwn(fields, key)) fail(`${where}: missing field "${key}"`);
    const { dtype: code, shape, data_offsets: offsets } = fields;
    if (typeof code !== "string") fail(`${where}: dtype ${show(code)} is not a string`);
    const dtype = Object.hasOwn(DTYPE_OF, code as string) ? DTYPE_OF[code as string] : undefined; // not "constructor"
    if (dtype === undefined) {
      fail(
        UNSUPPORTED.has(code as string)
          ? `${where}: dtype ${code} is not supported (this engine reads F32 and I32)`
          : `${where}: unknown dtype ${show(code)} (expected F32 or I32)`,
      );
    }
    if (!isCountList(shape)) {
      fail(`${where}: shape ${show(shape)} is not a list of non-negative integers`);
    }
    if (!isCountList(offsets) || offsets.length !== 2) {
      fail(`${where}: data_offsets ${show(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) fail(`${where}: data_offsets [${begin},${end}] end before they begin`);
    if (end > dataLength) {
      fail(
        `${where}: data_offsets [${begin},${end}] run past the ${dataLength}-byte data buffer ` +
          `(file bytes ${dataStart}-${bytes.length})`,
      );
    }
    // A zero dimension makes the size 0 even if the other dimensions would overflow.
    const size = (shape as number[]).includes(0) ? 0 : (shape as number[]).reduce((a, b) => a * b, 1);
    if (size * ITEM_BYTES !== end - begin) {
      fail(
        `${where}: shape ${show(shape)} of ${code} needs ${size * ITEM_BYTES} bytes, ` +
          `data_offsets [${begin},${end}] hold ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  // The tensors must tile the data buffer: each starts where the previous one ended.
  // Ties (empty tensors at one offset) keep header order, which JSON.parse loses for names like "0".
  const at = (name: string) => keyAt.get(name) ?? 0;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || at(a.name) - at(b.name));
  let expected = 0;
  let previous = "";
  for (const { name, begin, end } of entries) {
    if (begin < expected) {
      fail(
        `tensor ${show(name)} (byte ${keyAt.get(name)}): data_offsets [${begin},${end}] ` +
          `overlap tensor ${show(previous)}, which ends at ${expected}`,
      );
    }
    if (begin > expected) {
      fail(
        `data bytes ${expected}-${begin} (file bytes ${dataStart + expected}-${dataStart + begin}) ` +
          `belong to no tensor; tensor ${show(name)} begins at ${begin}`,
      );
    }
    expected = end;
    previous = name;
  }
  if (expected !== dataLength) {
    fail(
      `${dataLength - expected} trailing bytes (file bytes ${dataStart + expected}-${bytes.length}) ` +
        `belong to no tensor`,
    );
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const data = readLittleEndian(bytes, dataStart + begin, (end - begin) / ITEM_BYTES, dtype);
    tensors.set(name, { dtype, shape, data });
  }
  return { metadata, tensors };
}

/** `__metadata__` is a string-to-string map; null (serde's None) means none. */
function checkMetadata(value: unknown, fail: (detail: string) => never): Record<string, string> {
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) fail("is not an object of strings");
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, v] of entries) {
    if (typeof v !== "string") fail(`value of ${show(key)} is ${show(v)}, not a string`);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data, not a prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A value for an error message: JSON, cut short (a hostile header can hold megabytes in one field). */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isCountList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * Walks header JSON that is already known to be valid, finding duplicate keys
 * in any object and returning each top-level key's file offset. Scanning the
 * bytes is safe: every structural character is ASCII, and UTF-8 multi-byte
 * sequences never contain ASCII bytes.
 */
function scanKeys(json: Uint8Array, base: number, fail: (detail: string) => never): Map<string, number> {
  const decoder = new TextDecoder();
  const keyAt = new Map<string, number>();
  const open: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === 0x22) { // '"': skip to the closing quote, stepping over escapes
      let j = i + 1;
      while (json[j] !== 0x22) j += json[j] === 0x5c ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(decoder.decode(json.subarray(i, j + 1))) as string;
        const keys = open[open.length - 1]!;
        if (keys.has(key)) fail(`duplicate key ${show(key)} at byte ${base + i}`);
        keys.add(key);
        if (open.length === 1) keyAt.set(key, base + i);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b) { // '{'
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) { // '['
      open.push(null);
    } else if (c === 0x7d || c === 0x5d) { // '}' or ']'
      open.pop();
    } else if (c === 0x2c) { // ',': in an object, a key follows
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
  return keyAt;
}

/** Copies `data` into `out` at `at` as little-endian bytes (the format's byte order). */
function writeLittleEndian(out: Uint8Array, at: number, data: Float32Array | Int32Array): void {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Int32Array) view.setInt32(4 * i, data[i], true);
    else view.setFloat32(4 * i, data[i], true);
  }
}

/**
 * `count` values at file offset `at`: a view of `bytes` when 4-aligned
 * (always, for files this module writes), else a copy, since a typed array
 * cannot start at an unaligned offset.
 */
function readLittleEndian(
  bytes: Uint8Array,
  at: number,
  count: number,
  dtype: SafetensorsDType,
): Float32Array | Int32Array {
  const Typed = dtype === "int32" ? Int32Array : Float32Array;
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * ITEM_BYTES);
    const out = new Typed(count);
    for (let i = 0; i < count; i++) {
      out[i] = dtype === "int32" ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
    }
    return out;
  }
  const start = bytes.byteOffset + at;
  if (start % ITEM_BYTES === 0) return new Typed(bytes.buffer as ArrayBuffer, start, count);
  return new Typed(bytes.slice(at, at + count * ITEM_BYTES).buffer);
}
