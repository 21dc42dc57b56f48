/**
 * The IDX file format of MNIST and Fashion-MNIST: a 4-byte magic number
 * (0, 0, element type, rank), `rank` big-endian uint32 dimension sizes, then
 * the elements row-major. Only unsigned bytes (type 0x08) occur in these
 * datasets, so only those are read. Pure: bytes in, validated array out.
 * @module
 */
import { formatError } from "./errors.ts";

/** IDX element type 0x08: unsigned byte. */
const UBYTE = 0x08;

/** A parsed IDX file: its dimensions and a view of its bytes (no copy). */
export interface IdxArray {
  /** Dimension sizes, outermost first, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** The elements, row-major: a view into the bytes that were parsed. */
  data: Uint8Array;
  /** Where `data` starts in the file (`4 + 4 * rank`), for error offsets. */
  dataOffset: number;
}

/**
 * Parses an IDX file of unsigned bytes, checking the magic number, the rank,
 * each dimension against `expectedDims` (`null` = any size) and that the
 * data is exactly as long as the dimensions say. Anything else throws a
 * DatasetFormatError naming `fileName` and the byte offset; nothing partial
 * is ever returned.
 *
 * @param bytes The whole file (already gunzipped).
 * @param fileName Used in error messages.
 * @param expectedDims One entry per dimension; `null` accepts any size.
 * @returns The dimensions and a view of the data.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * // Two labels, 7 and 3: magic 0x00000801, one dimension of size 2.
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
 * const { dims, data } = parseIdx(bytes, "labels", [null]);
 * assertEquals(dims, [2]);
 * assertEquals([...data], [7, 3]);
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  fileName: string,
  expectedDims?: readonly (number | null)[],
): IdxArray {
  if (bytes.length < 4) {
    throw formatError(
      fileName,
      bytes.length,
      `truncated: the file ends before its 4-byte magic number (${bytes.length} bytes)`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
    throw formatError(fileName, 0, `bad magic number 0x${magic}: an IDX file starts with two zero bytes`);
  }
  if (bytes[2] !== UBYTE) {
    throw formatError(
      fileName,
      2,
      `element type 0x${bytes[2].toString(16).padStart(2, "0")} is not supported (only 0x08, unsigned byte)`,
    );
  }
  const rank = bytes[3];
  if (rank === 0) throw formatError(fileName, 3, "rank 0: an IDX file has at least one dimension");
  if (expectedDims && rank !== expectedDims.length) {
    throw formatError(fileName, 3, `rank ${rank}, expected ${expectedDims.length}`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw formatError(
      fileName,
      bytes.length,
      `truncated header: ${rank} dimension sizes need ${headerBytes} bytes, the file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i); // big-endian, as IDX specifies
    const want = expectedDims?.[i];
    if (want !== undefined && want !== null && d !== want) {
      throw formatError(fileName, 4 + 4 * i, `dimension ${i} is ${d}, expected ${want}`);
    }
    dims.push(d);
    size *= d;
  }
  const end = headerBytes + size;
  if (bytes.length < end) {
    throw formatError(
      fileName,
      bytes.length,
      `truncated: dimensions [${dims}] need ${size} data bytes after the ${headerBytes}-byte header ` +
        `(${end} bytes in all), the file ends after ${bytes.length}`,
    );
  }
  if (bytes.length > end) {
    throw formatError(
      fileName,
      end,
      `${
        bytes.length - end
      } unexpected bytes after the data of dimensions [${dims}] (the file should end here)`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes, end), dataOffset: headerBytes };
}
