/**
 * Test fixtures for the dataset tests: small IDX, CIFAR, gzip and tar files
 * built byte by byte here (independently of the code under test), temporary
 * directories, and a local HTTP server on 127.0.0.1.
 */

/** An IDX file of unsigned bytes: magic 0x0000 08 <rank>, big-endian dims, then `data`. */
export function idxFile(dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = 0x08;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(Array.from(data), header);
  return bytes;
}

/** MNIST-like images `[n, 28, 28]` where image i is filled with `(i * 37 + p) % 256`, and labels `i % 10`. */
export function mnistLike(
  n: number,
  labelOf = (i: number) => i % 10,
): { images: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) pixels[i * 784 + p] = (i * 37 + p) % 256;
  const labels = Array.from({ length: n }, (_, i) => labelOf(i));
  return { images: idxFile([n, 28, 28], pixels), labels: idxFile([n], labels) };
}

/** The four MNIST file names, in the order train images, train labels, test images, test labels. */
export const MNIST_NAMES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
] as const;

/** Small MNIST-format files by name: `train` and `test` examples. */
export function mnistFiles(
  train: number,
  test: number,
  labelOf?: (i: number) => number,
): Map<string, Uint8Array> {
  const a = mnistLike(train, labelOf);
  const b = mnistLike(test, labelOf);
  return new Map([
    [MNIST_NAMES[0], a.images],
    [MNIST_NAMES[1], a.labels],
    [MNIST_NAMES[2], b.images],
    [MNIST_NAMES[3], b.labels],
  ]);
}

/** One CIFAR record: label, then R, G, B planes of 1024 bytes (CHW). Pixel (p, c) = `(seed + 3p + c) % 256`. */
export function cifarRecord(label: number, seed: number): Uint8Array {
  const record = new Uint8Array(3073);
  record[0] = label;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 1024; p++) record[1 + c * 1024 + p] = (seed + 3 * p + c) % 256;
  }
  return record;
}

/** A CIFAR batch file of records with labels `labels[i]` and seeds `seed0 + i`. */
export function cifarFile(labels: readonly number[], seed0 = 0): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((l, i) => out.set(cifarRecord(l, seed0 + i), i * 3073));
  return out;
}

/** Gzips with the platform's CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A tar entry: a regular file, a directory ("5"), a GNU long name ("L") or a pax header ("x"). */
export interface TarEntry {
  name: string;
  data?: Uint8Array;
  type?: "0" | "5" | "L" | "x";
}

/** A ustar archive of `entries`, ending with two zero blocks (as tar and npm write it). */
export function tarFile(entries: readonly TarEntry[], endBlocks = 2): Uint8Array {
  const blocks: Uint8Array[] = [];
  const ascii = (s: string) => new TextEncoder().encode(s);
  for (const entry of entries) {
    const data = entry.data ?? new Uint8Array(0);
    const header = new Uint8Array(512);
    header.set(ascii(entry.name).subarray(0, 100), 0);
    header.set(ascii("0000644\0"), 100);
    header.set(ascii("0000000\0"), 108);
    header.set(ascii("0000000\0"), 116);
    header.set(ascii(data.length.toString(8).padStart(11, "0") + "\0"), 124);
    header.set(ascii("00000000000\0"), 136);
    header.set(ascii("        "), 148);
    header[156] = (entry.type ?? "0").charCodeAt(0);
    header.set(ascii("ustar\0"), 257);
    header.set(ascii("00"), 263);
    const sum = header.reduce((a, b) => a + b, 0);
    header.set(ascii(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    blocks.push(header);
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    blocks.push(padded);
  }
  for (let i = 0; i < endBlocks; i++) blocks.push(new Uint8Array(512));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** An npm-style tarball (`package/<path>` entries, gzipped) and its `sha512-<base64>` integrity. */
export async function npmTarball(
  files: ReadonlyMap<string, Uint8Array>,
): Promise<{ tgz: Uint8Array; integrity: string }> {
  const entries = [...files].map(([path, data]) => ({ name: `package/${path}`, data }));
  const tgz = await gzip(tarFile(entries));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-512", tgz as Uint8Array<ArrayBuffer>));
  return { tgz, integrity: `sha512-${btoa(String.fromCharCode(...hash))}` };
}

/** SHA-256 of `bytes`, lowercase hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Writes `files` (name → bytes; names may contain "/") under `dir`. */
export async function writeFiles(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  for (const [name, bytes] of files) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, bytes);
  }
}

/** Every file under `dir`, as paths relative to it, sorted. */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const rel = prefix + entry.name;
      if (entry.isDirectory) out.push(...await listFiles(`${dir}/${entry.name}`, `${rel}/`));
      else out.push(rel);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "wg-datasets-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A route's answer: bytes (200), a status code, or a body that breaks off after some bytes. */
export type Route = Uint8Array | number | { truncate: Uint8Array; after: number };

/** A local HTTP server on 127.0.0.1 (an OS-chosen port) serving `routes` by path; others get 404. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a {@linkcode TestServer}. */
export function serve(routes: ReadonlyMap<string, Route>): TestServer {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    const route = routes.get(path);
    if (route === undefined) return new Response("not found", { status: 404 });
    if (typeof route === "number") return new Response(null, { status: route });
    if (route instanceof Uint8Array) return new Response(route as Uint8Array<ArrayBuffer>);
    // Announce the full length, send part of it, then end: the client sees the connection drop.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(route.truncate.slice(0, route.after));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-length": String(route.truncate.length) } });
  });
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => server.shutdown() };
}
