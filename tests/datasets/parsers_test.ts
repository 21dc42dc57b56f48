/**
 * The file parsers: IDX (MNIST), CIFAR-10 batches, gzip, tar and the
 * fashion-mnist package's JSON. Good files parse to the right values; every
 * truncation and corruption throws a DatasetFormatError naming the file and
 * a byte offset, and never returns a partial result.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import fc from "fast-check";
import { gunzip, readTar } from "../../datasets/archive.ts";
import { CIFAR_RECORD_BYTES, parseCifarBatch } from "../../datasets/cifar.ts";
import { parseClothesJson } from "../../datasets/fashion_mnist.ts";
import { parseIdx } from "../../datasets/idx.ts";
import { DatasetFormatError } from "../../datasets/mod.ts";
import { cifarFile, gzip, idxFile, tarFile } from "./_fixtures.ts";

/** Asserts `fn` throws a DatasetFormatError naming `file` and byte `offset` (if given), and returns its message. */
function assertFormatError(fn: () => unknown, file: string, offset?: number, fragment?: string): string {
  const error = assertThrows(fn, DatasetFormatError);
  const at = offset === undefined ? `${file} at byte ` : `${file} at byte ${offset}:`;
  assert(error.message.startsWith(at), `expected "${at}..." in: ${error.message}`);
  if (fragment) assert(error.message.includes(fragment), `'${fragment}' not in: ${error.message}`);
  return error.message;
}

/** The byte offset an error message names. */
function offsetOf(message: string): number {
  return Number(/ at byte (\d+):/.exec(message)![1]);
}

Deno.test("idx: a good file parses to its dims and data, without copying", () => {
  const file = idxFile([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const { dims, data, dataOffset } = parseIdx(file, "x", [null, 2, 3]);
  assertEquals(dims, [2, 2, 3]);
  assertEquals([...data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assertEquals(dataOffset, 16);
  assertEquals(data.buffer, file.buffer);
  assertEquals(parseIdx(idxFile([0], []), "empty").dims, [0]);
});

Deno.test("idx: bad magic, type, rank, dims, truncation and trailing bytes name the byte", () => {
  const good = idxFile([3, 2], [1, 2, 3, 4, 5, 6]);
  const with_ = (at: number, value: number) => good.slice().fill(value, at, at + 1);
  assertFormatError(() => parseIdx(with_(0, 1), "f"), "f", 0, "bad magic number 0x01000802");
  assertFormatError(() => parseIdx(with_(2, 0x0d), "f"), "f", 2, "element type 0x0d");
  assertFormatError(() => parseIdx(with_(3, 0), "f"), "f", 3, "rank 0");
  assertFormatError(() => parseIdx(good, "f", [null]), "f", 3, "rank 2, expected 1");
  assertFormatError(() => parseIdx(good, "f", [null, 28]), "f", 8, "dimension 1 is 2, expected 28");
  assertFormatError(() => parseIdx(good.subarray(0, 2), "f"), "f", 2, "magic number");
  assertFormatError(() => parseIdx(good.subarray(0, 9), "f"), "f", 9, "truncated header");
  assertFormatError(() => parseIdx(good.subarray(0, 15), "f"), "f", 15, "need 6 data bytes");
  const longer = new Uint8Array([...good, 0, 0]);
  assertFormatError(() => parseIdx(longer, "f"), "f", 18, "2 unexpected bytes");
});

Deno.test("idx: every truncation of a valid file throws, at an offset inside the file", () => {
  const file = idxFile([5, 4, 3], Array.from({ length: 60 }, (_, i) => i));
  fc.assert(fc.property(fc.integer({ min: 0, max: file.length - 1 }), (length) => {
    const message = assertFormatError(
      () => parseIdx(file.subarray(0, length), "train-images"),
      "train-images",
    );
    assert(offsetOf(message) <= length);
  }));
});

Deno.test("idx: any corrupted header byte is caught when the dims are known", () => {
  const file = idxFile([5, 4, 3], Array.from({ length: 60 }, (_, i) => i));
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 15 }),
    fc.integer({ min: 1, max: 255 }),
    (at, flip) => {
      const bad = file.slice();
      bad[at] ^= flip;
      assertFormatError(() => parseIdx(bad, "f", [5, 4, 3]), "f");
    },
  ));
});

Deno.test("cifar: records become NHWC images and labels", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }), (labels) => {
      const file = cifarFile(labels, 11);
      const { count, images, labels: got } = parseCifarBatch(file, "b");
      assertEquals(count, labels.length);
      assertEquals([...got], labels);
      for (let n = 0; n < count; n++) {
        for (const p of [0, 1, 500, 1023]) {
          for (let c = 0; c < 3; c++) {
            // HWC: pixel p, channel c is at p*3 + c; the file had it in plane c.
            assertEquals(images[n * 3072 + p * 3 + c], file[n * CIFAR_RECORD_BYTES + 1 + c * 1024 + p]);
          }
        }
      }
    }),
  );
});

Deno.test("cifar: truncation, a bad label and an empty file name the byte", () => {
  const file = cifarFile([1, 2, 3]);
  fc.assert(fc.property(fc.integer({ min: 1, max: file.length - 1 }), (length) => {
    fc.pre(length % CIFAR_RECORD_BYTES !== 0);
    const record = Math.floor(length / CIFAR_RECORD_BYTES);
    assertFormatError(
      () => parseCifarBatch(file.subarray(0, length), "data_batch_1.bin"),
      "data_batch_1.bin",
      record * CIFAR_RECORD_BYTES,
      `truncated record ${record}`,
    );
  }));
  const bad = file.slice();
  bad[2 * CIFAR_RECORD_BYTES] = 10;
  assertFormatError(() => parseCifarBatch(bad, "t"), "t", 6146, "label 10 of record 2");
  assertFormatError(() => parseCifarBatch(new Uint8Array(0), "t"), "t", 0, "empty file");
});

Deno.test("gunzip: round trip; truncated, corrupt and non-gzip input throw naming the file", async () => {
  const data = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
  const gz = await gzip(data);
  assertEquals(await gunzip(gz, "a.gz"), data);
  for (const length of [0, 10, 40, gz.length - 4, gz.length - 1]) {
    const error = await assertRejects(() => gunzip(gz.subarray(0, length), "a.gz"), DatasetFormatError);
    assert(error.message.startsWith("a.gz at byte "), error.message);
  }
  const corrupt = gz.slice();
  corrupt[30] ^= 0xff;
  await assertRejects(() => gunzip(corrupt, "a.gz"), DatasetFormatError, "corrupt");
  const plain = new Uint8Array(100);
  await assertRejects(() => gunzip(plain, "a.gz"), DatasetFormatError, "a.gz at byte 0: not a gzip file");
});

Deno.test("tar: files, directories, long names and pax paths; checksums and truncation checked", () => {
  const a = new Uint8Array(700).fill(1);
  const b = new TextEncoder().encode("hello");
  const long = `dir/${"x".repeat(150)}.bin`;
  const archive = tarFile([
    { name: "dir/", type: "5" },
    { name: "dir/a.bin", data: a },
    { name: "././@LongLink", type: "L", data: new TextEncoder().encode(long + "\0") },
    { name: "truncated-name", data: b },
    { name: "PaxHeader", type: "x", data: new TextEncoder().encode(`23 path=dir/from-pax.t\n`) },
    { name: "short", data: b },
  ]);
  const files = readTar(archive, "t.tar");
  assertEquals([...files.keys()], ["dir/a.bin", long, "dir/from-pax.t"]);
  assertEquals(files.get("dir/a.bin"), a);
  assertEquals(files.get(long), b);

  const corrupt = archive.slice();
  corrupt[512 + 10] ^= 1; // a name byte of the second header
  assertFormatError(() => readTar(corrupt, "t.tar"), "t.tar", 512 + 148, "checksum");
  fc.assert(fc.property(fc.integer({ min: 0, max: archive.length - 513 }), (length) => {
    assertFormatError(() => readTar(archive.subarray(0, length), "t.tar"), "t.tar");
  }));
  assertFormatError(
    () => readTar(tarFile([{ name: "a", data: b }], 0), "t.tar"),
    "t.tar",
    1024,
    "end-of-archive",
  );
});

Deno.test("fashion json: rows of 784 pixels; empty rows skipped; bad input names the byte", () => {
  const row = (v: number) => `[${Array(784).fill(v).join(",")}]`;
  const text = `{"data":[${row(1)}, ${row(255)},[]\n, ${row(0)}]}\n`;
  const { rows, pixels } = parseClothesJson(new TextEncoder().encode(text), "0.json");
  assertEquals(rows, 3);
  assertEquals([pixels[0], pixels[784], pixels[784 * 2 + 783]], [1, 255, 0]);
  assertEquals(pixels.length, 3 * 784);

  const parse = (s: string) => () => parseClothesJson(new TextEncoder().encode(s), "0.json");
  assertFormatError(parse(`{"data":[${row(256)}]}`), "0.json", 10, "out of range");
  assertFormatError(parse(`{"data":[[1,2,3]]}`), "0.json", 10, "an image of 3 pixels");
  assertFormatError(parse(`{"data":[[1,-2]]}`), "0.json", 12, "a pixel value");
  assertFormatError(parse(`{"pixels":[]}`), "0.json", 2, 'the key "data"');
  const good = new TextEncoder().encode(`{"data":[${row(7)},${row(8)}]}`);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: good.length - 1 }), (length) => {
      assertFormatError(() => parseClothesJson(good.subarray(0, length), "0.json"), "0.json");
    }),
    { numRuns: 50 },
  );
});
