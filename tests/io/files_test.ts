/**
 * Checkpoint file access: atomic writes (old or new content, never torn, no
 * stray temporary files after success or failure), reads that name a missing
 * file, and how model URLs map to paths. Writes only under Deno.makeTempDir.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { ensureDir, joinPath, readFileChecked, resolveUrl, writeFileAtomic } from "../../src/io/files.ts";

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wg_files_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeFileAtomic: creates, overwrites, writes strings as UTF-8, and leaves no temporary file", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, "weights.safetensors");
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assertEquals(await Deno.readFile(path), new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, '{"κ": 1}');
    assertEquals(await Deno.readTextFile(path), '{"κ": 1}');
    await writeFileAtomic(path, new Uint8Array(0));
    assertEquals((await Deno.stat(path)).size, 0);
    assertEquals(await names(dir), ["weights.safetensors"]);
  });
});

Deno.test("writeFileAtomic: a reader racing the writer sees the old or the new content, never a mix", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, "model.json");
    // Big enough (1 MiB) that a plain write would be seen half done.
    const size = 1 << 20;
    const contents = [new Uint8Array(size).fill(0x61), new Uint8Array(size).fill(0x62)];
    await writeFileAtomic(path, contents[0]);
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 12; i++) await writeFileAtomic(path, contents[i % 2]);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const got = await Deno.readFile(path);
      assertEquals(got.length, size, "a torn or empty file was visible");
      assert(got.indexOf(got[0] === 0x61 ? 0x62 : 0x61) === -1, "a file of mixed content");
      reads++;
    }
    await writer;
    assert(reads > 0);
    assertEquals(await names(dir), ["model.json"]);
  });
});

Deno.test("writeFileAtomic: a failed write rejects, keeps the old target, and removes its temporary file", async () => {
  await withTempDir(async (dir) => {
    // The directory does not exist: the temporary file cannot even be created.
    await assertRejects(
      () => writeFileAtomic(joinPath(dir, "missing/model.json"), "{}"),
      Deno.errors.NotFound,
    );
    assertEquals(await names(dir), []);
    // The target is a directory: the temporary file is written, then the rename fails.
    await Deno.mkdir(joinPath(dir, "model.json"));
    await Deno.writeTextFile(joinPath(dir, "model.json/keep"), "old");
    await assertRejects(() => writeFileAtomic(joinPath(dir, "model.json"), "{}"));
    assertEquals(await names(dir), ["model.json"], "no stray temporary file");
    assertEquals(await Deno.readTextFile(joinPath(dir, "model.json/keep")), "old");
  });
});

Deno.test("readFileChecked: reads a file; a missing one is NotFound naming the path", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, "weights.safetensors");
    await Deno.writeFile(path, new Uint8Array([9, 8]));
    assertEquals(await readFileChecked(path), new Uint8Array([9, 8]));
    const missing = joinPath(dir, "nope/model.json");
    const error = await assertRejects(() => readFileChecked(missing), Deno.errors.NotFound);
    assert(error.message.includes(missing), error.message);
  });
});

Deno.test("ensureDir: creates missing parents and accepts an existing directory", async () => {
  await withTempDir(async (dir) => {
    await ensureDir(joinPath(dir, "out/xor"));
    await ensureDir(joinPath(dir, "out/xor"));
    assert((await Deno.stat(joinPath(dir, "out/xor"))).isDirectory);
  });
});

Deno.test("resolveUrl: file:// URLs (absolute, and tfjs's relative form), plain paths, http(s) and the rest", () => {
  assertEquals(resolveUrl("file://out/xor"), "out/xor");
  assertEquals(resolveUrl("file://out/xor/model.json"), "out/xor/model.json");
  assertEquals(resolveUrl("file:///tmp/out/xor/model.json"), "/tmp/out/xor/model.json");
  assertEquals(resolveUrl("file:///tmp/a%20b/m.json"), "/tmp/a b/m.json");
  assertEquals(resolveUrl("FILE:///tmp/x"), "/tmp/x");
  assertEquals(resolveUrl("file:///C:/models/m.json"), "C:/models/m.json");
  assertEquals(resolveUrl("out/xor/model.json"), "out/xor/model.json");
  assertEquals(resolveUrl("/abs/model.json"), "/abs/model.json");
  assertEquals(resolveUrl("C:\\models\\m.json"), "C:\\models\\m.json");
  assertEquals(resolveUrl("http://localhost:8000/model.json"), null);
  assertEquals(resolveUrl("https://example.com/m/model.json"), null);
  assertThrows(() => resolveUrl("indexeddb://my-model"), Error, "unsupported URL scheme");
  assertThrows(() => resolveUrl("file:///bad%zz"), Error, "malformed file URL");
});

Deno.test("joinPath: one separator between directory and name", () => {
  assertEquals(joinPath("out/xor", "model.json"), "out/xor/model.json");
  assertEquals(joinPath("out/xor/", "model.json"), "out/xor/model.json");
  assertEquals(joinPath(".", "model.json"), "model.json");
  assertEquals(joinPath("/", "model.json"), "/model.json");
});
