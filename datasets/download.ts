/**
 * Downloads checked against a pinned hash, and atomic writes into the cache.
 * A download is held in memory, hashed, and only written once it matches, so
 * a truncated or tampered file never touches the disk; the write itself goes
 * to a temporary name, is fsynced, then renamed (the engine's
 * `writeFileAtomic`), so a crash mid-write leaves no file under the real name.
 * @module
 */
import { writeFileAtomic } from "../src/io/files.ts";
import { concat } from "./archive.ts";
import { DatasetFormatError } from "./errors.ts";

/** A pinned hash of a file's bytes. */
export interface Digest {
  /** The hash function, as WebCrypto names it. */
  algorithm: "SHA-256" | "SHA-512";
  /** The hash in lowercase hex. */
  hex: string;
}

/** Progress of one download, reported as chunks arrive. */
export interface DownloadProgress {
  /** What is being fetched. */
  url: string;
  /** Bytes received so far. */
  receivedBytes: number;
  /** The size the server announced (Content-Length), if it did. */
  totalBytes?: number;
}

/** Options of {@linkcode download}. */
export interface DownloadOptions {
  /** Called as chunks arrive (e.g. to draw a progress bar). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Give up when no byte arrives for this long (default 30 s). */
  idleTimeoutMs?: number;
}

/** Hashes `bytes` with `algorithm`, in lowercase hex. */
export async function digestHex(algorithm: Digest["algorithm"], bytes: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest(algorithm, bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The Digest of an npm `integrity` string (`sha512-<base64>`). */
export function fromIntegrity(integrity: string): Digest {
  const match = /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity);
  if (!match) throw new TypeError(`unsupported integrity string: ${integrity}`);
  const raw = atob(match[1]);
  const hex = [...raw].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  return { algorithm: "SHA-512", hex };
}

/**
 * Checks `bytes` against `expected`; a mismatch throws a DatasetFormatError
 * naming `what` (a URL or path), both hashes and the size.
 */
export async function verifyDigest(bytes: Uint8Array, expected: Digest, what: string): Promise<void> {
  const actual = await digestHex(expected.algorithm, bytes);
  if (actual !== expected.hex) {
    throw new DatasetFormatError(
      `${what}: ${expected.algorithm} mismatch: expected ${expected.hex}, got ${actual} ` +
        `(${bytes.length} bytes); the file was discarded`,
    );
  }
}

/**
 * Fetches `url` into memory and checks it against `expected`. Throws an
 * Error on an HTTP error status, a dropped connection or a stall, and a
 * DatasetFormatError (naming the URL, expected and actual hash) on a
 * mismatch. Nothing is written to disk.
 *
 * @param url What to fetch (needs `--allow-net` for its host).
 * @param expected The pinned hash of the file.
 * @param options Progress callback and stall timeout.
 * @returns The verified bytes.
 */
export async function download(
  url: string,
  expected: Digest,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), idleMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), idleMs);
  };
  try {
    const response = await fetch(url, { signal: abort.signal });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    const announced = Number(response.headers.get("content-length") ?? NaN);
    const totalBytes = Number.isFinite(announced) ? announced : undefined;
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      chunks.push(value);
      received += value.length;
      options.onProgress?.({ url, receivedBytes: received, totalBytes });
    }
    if (totalBytes !== undefined && received !== totalBytes) {
      throw new Error(`the connection closed after ${received} of ${totalBytes} bytes`);
    }
    const bytes = concat(chunks, received);
    await verifyDigest(bytes, expected, url);
    return bytes;
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`no data for ${idleMs / 1000} s: gave up`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A unique sibling name for a temporary directory. */
function tempName(path: string): string {
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The directory part of a path ("/" or "\\" separated). */
export function dirname(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut <= 0 ? (cut === 0 ? path.slice(0, 1) : ".") : path.slice(0, cut);
}

/**
 * Writes `bytes` to `path` atomically, creating its directory: the engine's
 * `writeFileAtomic` (temporary sibling, fsync, rename, directory fsync). On
 * failure the temporary file is removed and `path` is untouched.
 *
 * @param path Where the file should appear.
 * @param bytes The contents.
 */
export async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}

/**
 * Creates directory `dir` holding `files` atomically: everything is written
 * and fsynced in a temporary sibling directory that is then renamed to
 * `dir`. If `dir` appeared meanwhile (another process won), the temporary
 * one is dropped and `dir` kept. On failure nothing is left behind.
 *
 * @param dir The directory to create; it must not exist yet.
 * @param files File names (no subdirectories) and contents.
 */
export async function atomicWriteDir(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await Deno.mkdir(dirname(dir), { recursive: true });
  const temp = tempName(dir);
  try {
    await Deno.mkdir(temp);
    for (const [name, bytes] of files) {
      const file = await Deno.open(`${temp}/${name}`, { write: true, createNew: true });
      try {
        for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
        await file.sync();
      } finally {
        file.close();
      }
    }
    try {
      await Deno.rename(temp, dir);
    } catch (error) {
      if (!(await exists(dir))) throw error;
    }
  } finally {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
}

/** Whether `path` exists (a missing permission counts as "no"). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
