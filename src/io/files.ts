/**
 * File access for checkpoints: the one module in src/io that touches Deno.*,
 * guarded so that importing it in a browser works (models load over http(s)
 * there; only the file functions need Deno, and they say so if it is absent).
 * @module
 */

/** The Deno namespace, or a clear error where there is none (a browser). */
function deno(fn: string): typeof Deno {
  if (typeof Deno === "undefined") {
    throw new Error(`${fn}: file access needs Deno; in a browser, load models over http(s) instead`);
  }
  return Deno;
}

/** Splits a path at its last separator: `["out/xor", "model.json"]`; the directory is "." for a bare name. */
function splitPath(path: string): [string, string] {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (cut < 0) return [".", path];
  return [cut === 0 ? path[0] : path.slice(0, cut), path.slice(cut + 1)];
}

/**
 * Joins a directory and a file name with one `/` between them.
 *
 * @param dir A directory path ("" or "." for the working directory).
 * @param name A file name or relative path.
 * @returns `dir/name`.
 *
 * @example
 * ```ts
 * import { joinPath } from "./files.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(joinPath("out/xor/", "model.json"), "out/xor/model.json");
 * assertEquals(joinPath("", "model.json"), "model.json");
 * ```
 */
export function joinPath(dir: string, name: string): string {
  if (dir === "" || dir === ".") return name;
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}

/**
 * Writes a file atomically: the data go to a uniquely named temporary file in
 * the same directory (so the rename cannot cross file systems), which is
 * fsynced, closed and then renamed over `path`. A reader, or a crash, sees
 * either the old content or the new one, never a torn file. On failure the
 * temporary file is removed and the error rethrown. Needs `--allow-write` and
 * `--allow-read` for the directory (Deno.rename asks for both).
 *
 * @param path The file to create or replace; its directory must exist.
 * @param data Bytes, or a string written as UTF-8.
 * @returns Resolves once the new content is in place.
 *
 * @example
 * ```ts
 * import { readFileChecked, writeFileAtomic } from "./files.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/model.json`, "{}");
 * assertEquals(new TextDecoder().decode(await readFileChecked(`${dir}/model.json`)), "{}");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const d = deno("writeFileAtomic");
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const [dir, base] = splitPath(path);
  const random = crypto.getRandomValues(new Uint32Array(2)).reduce((s, x) => s + x.toString(36), "");
  const temp = joinPath(dir, `.${base}.${random}.tmp`);
  let file: Deno.FsFile | undefined;
  try {
    // createNew: fail rather than write through a file (or link) that happens to have the name.
    file = await d.open(temp, { write: true, createNew: true });
    for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
    await file.sync(); // the data reach the disk before the rename makes them the file
    file.close();
    file = undefined;
    await d.rename(temp, path);
  } catch (error) {
    file?.close();
    await d.remove(temp).catch(() => {}); // NotFound if open itself failed
    throw error;
  }
  await syncDir(d, dir);
}

/**
 * fsyncs a directory so that a rename in it survives a crash. Best effort:
 * some platforms (Windows) cannot open a directory, and the file is already
 * complete either way.
 */
async function syncDir(d: typeof Deno, dir: string): Promise<void> {
  try {
    // Only with read access already granted: asking would prompt a user who allowed writes alone.
    if (d.permissions.querySync({ name: "read", path: dir }).state !== "granted") return;
    using handle = await d.open(dir, { read: true });
    await handle.sync();
  } catch { /* see above */ }
}

/**
 * Reads a whole file; a missing file gives an error that names the path and
 * the working directory it was resolved against.
 *
 * @param path The file to read.
 * @returns The file's bytes.
 * @throws {Deno.errors.NotFound} The file does not exist (the message names it).
 *
 * @example
 * ```ts
 * import { readFileChecked } from "./files.ts";
 * import { assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await assertRejects(() => readFileChecked("no/such/model.json"), Deno.errors.NotFound, "no/such/model.json");
 * ```
 */
export async function readFileChecked(path: string): Promise<Uint8Array> {
  const d = deno("readFileChecked");
  try {
    return await d.readFile(path);
  } catch (error) {
    if (error instanceof d.errors.NotFound) {
      let cwd = "";
      try {
        cwd = ` (relative paths resolve against ${d.cwd()})`;
      } catch { /* no --allow-read for the cwd: leave it out */ }
      throw new d.errors.NotFound(`readFileChecked: no such file: ${path}${cwd}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Creates a directory and its parents if they are missing (as tfjs-node's
 * `file://` saver does for the model directory).
 *
 * @param path The directory.
 * @returns Resolves once it exists.
 *
 * @example
 * ```ts
 * import { ensureDir } from "./files.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const dir = await Deno.makeTempDir();
 * await ensureDir(`${dir}/out/xor`);
 * assert((await Deno.stat(`${dir}/out/xor`)).isDirectory);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureDir(path: string): Promise<void> {
  await deno("ensureDir").mkdir(path, { recursive: true });
}

/**
 * Turns a model URL into a file-system path, as tfjs does:
 * - `file:///abs/path` (a real file URL, percent-decoded) gives `/abs/path`;
 * - `file://out/xor` (tfjs's relative form) gives `out/xor`, relative to the working directory;
 * - a plain path is returned as it is;
 * - `http://` and `https://` give null: the caller should `fetch` them.
 *
 * Needs no Deno, so a browser can call it to learn that a URL is to be fetched.
 *
 * @param url A `file://` URL, an http(s) URL, or a path.
 * @returns The path, or null for http(s).
 * @throws {Error} Another scheme (e.g. `indexeddb://`), naming the ones supported.
 *
 * @example
 * ```ts
 * import { resolveUrl } from "./files.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * assertEquals(resolveUrl("file://out/xor"), "out/xor");
 * assertEquals(resolveUrl("file:///tmp/my%20model/model.json"), "/tmp/my model/model.json");
 * assertEquals(resolveUrl("out/xor/model.json"), "out/xor/model.json");
 * assertEquals(resolveUrl("https://example.com/model.json"), null);
 * ```
 */
export function resolveUrl(url: string): string | null {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url; // two letters at least: "C:\\x" is a Windows path, not a scheme
  if (scheme === "http" || scheme === "https") return null;
  if (scheme !== "file") {
    throw new Error(`resolveUrl: unsupported URL scheme in ${url}: expected file://, http:// or https://`);
  }
  const rest = url.slice("file://".length);
  if (!rest.startsWith("/")) return rest; // tfjs's file://relative/path, taken literally
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    throw new Error(`resolveUrl: malformed file URL ${url}: check its %-escapes`);
  }
  // file:///C:/x is C:/x on Windows.
  return /^\/[a-zA-Z]:\//.test(path) ? path.slice(1) : path;
}
