/**
 * safetensors: round trips, files assembled by hand exactly per the format
 * (as the reference writer lays them out), every kind of corruption, and
 * fuzzing: a decode either succeeds with the original bytes or throws
 * CheckpointFormatError naming the file, never anything else.
 */
import { assert, assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import fc from "fast-check";
import { CheckpointFormatError } from "../../src/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  type NamedSafetensorsTensor,
} from "../../src/io/safetensors.ts";

const utf8 = new TextEncoder();

/** A file from its parts, built without the encoder: u64 LE length, header text (padded to 8 if asked), data. */
function assemble(header: string, data: Uint8Array = new Uint8Array(), pad = true): Uint8Array {
  let json = utf8.encode(header);
  if (pad && json.length % 8 !== 0) json = utf8.encode(header + " ".repeat(8 - (json.length % 8)));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of float32 values (written value by value, independent of the platform). */
function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setFloat32(4 * i, v, true));
  return out;
}

function i32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setInt32(4 * i, v, true));
  return out;
}

function rawBytes(data: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Asserts decoding fails with CheckpointFormatError whose message names the file and contains `part`. */
function assertCorrupt(bytes: Uint8Array, part: string): void {
  const error = assertThrows(() => decodeSafetensors(bytes, "bad.safetensors"), CheckpointFormatError);
  assert(error.message.startsWith("bad.safetensors: "), error.message);
  assert(error.message.includes(part), `expected "${part}" in: ${error.message}`);
}

Deno.test("safetensors: round trip of float32 and int32 tensors, a scalar, an empty tensor and metadata", () => {
  const tensors: NamedSafetensorsTensor[] = [
    {
      name: "dense/kernel",
      dtype: "float32",
      shape: [2, 3],
      data: new Float32Array([1, -2, 3.5, 0, -0, 1e-30]),
    },
    { name: "0", dtype: "int32", shape: [3], data: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]) },
    { name: "step", dtype: "float32", shape: [], data: new Float32Array([42]) },
    { name: "empty", dtype: "float32", shape: [0, 3], data: new Float32Array(0) },
    { name: "__proto__", dtype: "int32", shape: [1], data: new Int32Array([5]) },
    {
      name: 'κ "quoted" \\ name',
      dtype: "float32",
      shape: [1, 1, 2],
      data: new Float32Array([NaN, Infinity]),
    },
  ];
  const metadata = Object.fromEntries([["format", "wg"], ["epochs", "3"], ["ünïcode", "✓"], [
    "__proto__",
    "x",
  ]]);
  const bytes = encodeSafetensors(tensors, metadata);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assertEquals(n % 8, 0, "header padded to a multiple of 8");
  const decoded = decodeSafetensors(bytes, "round.safetensors");
  assertEquals(decoded.metadata, metadata);
  assertEquals([...decoded.tensors.keys()], tensors.map((t) => t.name), "file order = the order given");
  for (const t of tensors) {
    const got = decoded.tensors.get(t.name)!;
    assertEquals(got.dtype, t.dtype);
    assertEquals(got.shape, [...t.shape]);
    assertInstanceOf(got.data, t.dtype === "int32" ? Int32Array : Float32Array);
    assertEquals(rawBytes(got.data), rawBytes(t.data), `${t.name}: bit-exact (NaN, -0 included)`);
  }
  // Empty tensors share an offset: their order is the header's, though JSON.parse puts "0" first.
  const empties = encodeSafetensors([
    { name: "", dtype: "float32", shape: [0], data: new Float32Array(0) },
    { name: "0", dtype: "int32", shape: [2, 0], data: new Int32Array(0) },
  ]);
  assertEquals([...decodeSafetensors(empties, "empties").tensors.keys()], ["", "0"]);
  // No metadata given: no __metadata__ key; an empty file list is valid.
  assertEquals(decodeSafetensors(encodeSafetensors([]), "none").metadata, {});
  assertEquals(decodeSafetensors(encodeSafetensors([]), "none").tensors.size, 0);
});

Deno.test("safetensors: files laid out by the reference writer decode, and the encoder writes the same bytes", () => {
  // One tensor, no metadata: 65 bytes of JSON padded with 7 spaces to 72, then 6 float32s.
  const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  const file = assemble(header, f32Bytes([0, 1, 2, 3, 4, 5]));
  assertEquals(file.slice(0, 8), new Uint8Array([72, 0, 0, 0, 0, 0, 0, 0]));
  const { tensors } = decodeSafetensors(file, "attn.safetensors");
  assertEquals(tensors.get("attn0"), {
    dtype: "float32",
    shape: [1, 1, 2, 3],
    data: new Float32Array([0, 1, 2, 3, 4, 5]),
  });
  const written = encodeSafetensors([{
    name: "attn0",
    dtype: "float32",
    shape: [1, 1, 2, 3],
    data: new Float32Array([0, 1, 2, 3, 4, 5]),
  }]);
  assertEquals(written, file);

  // No tensors: "{}" plus six spaces; with metadata: __metadata__ first, then padding.
  const empty = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
  assertEquals(encodeSafetensors([]), empty);
  assertEquals(decodeSafetensors(empty, "empty").tensors.size, 0);
  const withMeta = assemble('{"__metadata__":{"framework":"pt"}}');
  assertEquals(withMeta.length, 48);
  assertEquals(encodeSafetensors([], { framework: "pt" }), withMeta);
  assertEquals(decodeSafetensors(withMeta, "meta").metadata, { framework: "pt" });
});

Deno.test("safetensors: another writer's file: unpadded header, entries out of order, whitespace, null metadata", () => {
  // 3-byte-misaligned data (no padding) forces the copy path; the keys are not in offset order.
  const header = '{ "b": {"shape": [2], "dtype": "I32", "data_offsets": [8, 16]},\n' +
    ' "a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "__metadata__": null }';
  const file = assemble(header, new Uint8Array([...f32Bytes([1.5, -2]), ...i32Bytes([7, -9])]), false);
  assert((8 + utf8.encode(header).length) % 4 !== 0, "the data really is misaligned");
  const { metadata, tensors } = decodeSafetensors(file, "other.safetensors");
  assertEquals(metadata, {});
  assertEquals([...tensors.keys()], ["a", "b"], "file (offset) order");
  assertEquals(tensors.get("a")!.data, new Float32Array([1.5, -2]));
  assertEquals(tensors.get("b")!.data, new Int32Array([7, -9]));
  // The same file at an odd offset of a larger buffer.
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  assertEquals(
    decodeSafetensors(shifted.subarray(1), "other").tensors.get("b")!.data,
    new Int32Array([7, -9]),
  );
  // An aligned file gives views into its bytes (no copy).
  const aligned = encodeSafetensors([{
    name: "w",
    dtype: "float32",
    shape: [2],
    data: new Float32Array([1, 2]),
  }]);
  assertEquals(decodeSafetensors(aligned, "w").tensors.get("w")!.data.buffer, aligned.buffer);
});

Deno.test("safetensors: a corrupt file is a CheckpointFormatError naming the file, the problem and where", async (t) => {
  const entry = (fields: string) => `{"w":{${fields}}}`;
  const ok = '"dtype":"F32","shape":[2],"data_offsets":[0,8]';
  const eight = f32Bytes([1, 2]);
  const cases: [string, Uint8Array, string][] = [
    ["shorter than 8 bytes", new Uint8Array([8, 0, 0]), "shorter than the 8-byte header length"],
    [
      "header length past the file",
      assemble(entry(ok), eight).slice(0, 20),
      "runs past the end of the 20-byte file",
    ],
    ["header length over the bound", lengthOnly(BigInt(MAX_HEADER_BYTES) + 1n), "limit"],
    ["header length 2^64 - 1", lengthOnly(2n ** 64n - 1n), "18446744073709551615 (bytes 0-7)"],
    ["invalid UTF-8", withHeaderBytes([0x7b, 0xff, 0x7d]), "not valid UTF-8"],
    ["byte-order mark", assemble("\ufeff{}"), "not valid JSON"],
    ["invalid JSON", assemble('{"w":'), "not valid JSON"],
    ["JSON array", assemble("[]"), "not an object"],
    ["JSON null", assemble("null"), "not an object"],
    ["entry not an object", assemble('{"w":[1]}'), 'tensor "w" (byte 9): is not an object'],
    ["unknown dtype", assemble(entry(ok.replace("F32", "Q7")), eight), 'unknown dtype "Q7"'],
    ["unsupported dtype", assemble(entry(ok.replace("F32", "F16")), eight), "F16 is not supported"],
    ["dtype from the prototype", assemble(entry(ok.replace("F32", "constructor")), eight), "unknown dtype"],
    ["dtype not a string", assemble(entry(ok.replace('"F32"', "4")), eight), "dtype 4 is not a string"],
    ["negative dimension", assemble(entry(ok.replace("[2]", "[-2]")), eight), "shape [-2] is not a list"],
    ["fractional dimension", assemble(entry(ok.replace("[2]", "[2.5]")), eight), "shape [2.5] is not a list"],
    ["shape not a list", assemble(entry(ok.replace("[2]", '"2"')), eight), 'shape "2" is not a list'],
    [
      "size mismatch",
      assemble(entry(ok.replace("[2]", "[3]")), eight),
      "needs 12 bytes, data_offsets [0,8] hold 8",
    ],
    [
      "offsets out of bounds",
      assemble(entry(ok.replace("[0,8]", "[8,16]")), eight),
      "run past the 8-byte data buffer",
    ],
    ["offsets reversed", assemble(entry(ok.replace("[0,8]", "[8,0]")), eight), "end before they begin"],
    ["three offsets", assemble(entry(ok.replace("[0,8]", "[0,8,8]")), eight), "not a pair"],
    ["missing field", assemble(entry('"dtype":"F32","shape":[2]'), eight), 'missing field "data_offsets"'],
    ["unexpected field", assemble(entry(`${ok},"x":1`), eight), 'unexpected field "x"'],
    [
      "duplicate field",
      assemble(entry(`${ok},"dtype":"F32"`), eight),
      'duplicate key "dtype" at byte 61',
    ],
    ["duplicate name", assemble(`{"w":{${ok}},"w":{${ok}}}`, eight), 'duplicate key "w" at byte 62'],
    ["escaped duplicate", assemble(`{"w":{${ok}},"\\u0077":{${ok}}}`, eight), 'duplicate key "w"'],
    ["trailing bytes", assemble(entry(ok), new Uint8Array([...eight, 1, 2, 3, 4])), "4 trailing bytes"],
    ["gap", assemble(entry(ok.replace("[0,8]", "[4,12]")), new Uint8Array(12)), "data bytes 0-4"],
    [
      "overlap",
      assemble(`{"a":{${ok}},"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}`, eight),
      'data_offsets [4,8] overlap tensor "a"',
    ],
    ["metadata not strings", assemble('{"__metadata__":{"epochs":3}}'), 'value of "epochs" is 3'],
    ["metadata a list", assemble('{"__metadata__":["a"]}'), "__metadata__ (byte 9): is not an object"],
  ];
  for (const [name, bytes, part] of cases) await t.step(name, () => assertCorrupt(bytes, part));
});

function lengthOnly(length: bigint): Uint8Array {
  const out = new Uint8Array(16);
  new DataView(out.buffer).setBigUint64(0, length, true);
  return out;
}

function withHeaderBytes(header: number[]): Uint8Array {
  const out = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, ...header]);
  out[0] = header.length;
  return out;
}

Deno.test("safetensors: the encoder refuses what would make a bad file", () => {
  const w = { name: "w", dtype: "float32", shape: [2], data: new Float32Array(2) } as const;
  assertThrows(() => encodeSafetensors([w, w]), CheckpointFormatError, "appears twice");
  assertThrows(() => encodeSafetensors([{ ...w, name: "__metadata__" }]), CheckpointFormatError, "reserved");
  assertThrows(() => encodeSafetensors([{ ...w, shape: [3] }]), Error, "holds 3 values, the data 2");
  assertThrows(() => encodeSafetensors([{ ...w, shape: [-1, -2] }]), Error, "non-negative integers");
  assertThrows(() => encodeSafetensors([{ ...w, dtype: "int32" }]), Error, "Float32Array");
  assertThrows(
    () => encodeSafetensors([{ ...w, dtype: "constructor" as "int32" }]),
    Error,
    "not float32 or int32",
  );
  assertThrows(
    () => encodeSafetensors([], { a: 1 as unknown as string }),
    CheckpointFormatError,
    "not a string",
  );
});

// A valid file of random tensors, for the fuzz tests below.
const tensorsArb = fc.uniqueArray(
  fc.record({
    name: fc.string({ minLength: 0, maxLength: 6 }).filter((s) => s !== "__metadata__"),
    dtype: fc.constantFrom("float32" as const, "int32" as const),
    shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    seed: fc.integer(),
  }),
  { selector: (t) => t.name, maxLength: 4 },
).map((specs) =>
  specs.map(({ name, dtype, shape, seed }): NamedSafetensorsTensor => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: size }, (_, i) => ((seed + i * 7919) % 1000) / 7);
    return {
      name,
      dtype,
      shape,
      data: dtype === "int32" ? Int32Array.from(values, Math.trunc) : Float32Array.from(values),
    };
  })
);
const metadataArb = fc.option(
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
  {
    nil: undefined,
  },
);

/** Decodes, returning the result or a CheckpointFormatError; any other exception fails the property. */
function tryDecode(bytes: Uint8Array): ReturnType<typeof decodeSafetensors> | CheckpointFormatError {
  try {
    return decodeSafetensors(bytes, "fuzz.safetensors");
  } catch (error) {
    if (!(error instanceof CheckpointFormatError)) throw error;
    assert(error.message.startsWith("fuzz.safetensors: "), error.message);
    return error;
  }
}

Deno.test("safetensors (fuzz): random files round trip; truncating one anywhere is a CheckpointFormatError", () => {
  fc.assert(
    fc.property(tensorsArb, metadataArb, fc.nat(), (tensors, metadata, cut) => {
      const bytes = encodeSafetensors(tensors, metadata);
      const decoded = decodeSafetensors(bytes, "fuzz.safetensors");
      assertEquals(decoded.metadata, metadata ?? {});
      assertEquals([...decoded.tensors.keys()], tensors.map((t) => t.name));
      for (const t of tensors) assertEquals(rawBytes(decoded.tensors.get(t.name)!.data), rawBytes(t.data));
      // Every strict prefix fails: the header length or the tiling of the data catches it.
      assertInstanceOf(tryDecode(bytes.slice(0, cut % bytes.length)), CheckpointFormatError);
    }),
    { numRuns: 300 },
  );
});

Deno.test("safetensors (fuzz): flipped header bytes give the original data or a CheckpointFormatError", () => {
  fc.assert(
    fc.property(
      tensorsArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }),
      (tensors, flips) => {
        const bytes = encodeSafetensors(tensors, { k: "v" });
        const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
        for (const [at, mask] of flips) bytes[at % headerEnd] ^= mask;
        const result = tryDecode(bytes);
        if (result instanceof CheckpointFormatError) return;
        // A flip can rename a tensor or turn F32 into I32, but the data must be the original bytes in order.
        const got = [...result.tensors.values()];
        assertEquals(got.length, tensors.length);
        got.forEach((t, i) => assertEquals(rawBytes(t.data), rawBytes(tensors[i].data)));
        for (const t of got) assertEquals(t.data.length, t.shape.reduce((a, b) => a * b, 1));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("safetensors (fuzz): arbitrary bytes and arbitrary JSON headers never throw anything else", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void tryDecode(bytes)), {
    numRuns: 500,
  });
  fc.assert(
    fc.property(fc.jsonValue(), fc.nat({ max: 24 }), (header, dataLength) => {
      void tryDecode(assemble(JSON.stringify(header), new Uint8Array(dataLength)));
    }),
    { numRuns: 500 },
  );
  // Headers shaped like real ones, with random field values.
  const value = fc.oneof(fc.jsonValue(), fc.array(fc.integer({ min: -2, max: 16 }), { maxLength: 3 }));
  const entry = fc.record({
    dtype: fc.oneof(fc.constantFrom("F32", "I32", "F16"), value),
    shape: value,
    data_offsets: value,
  });
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 3 }), entry, { maxKeys: 3 }),
      fc.nat({ max: 24 }),
      (h, n) => {
        void tryDecode(assemble(JSON.stringify(h), new Uint8Array(n)));
      },
    ),
    { numRuns: 1000 },
  );
});
