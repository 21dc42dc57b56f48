/**
 * CIFAR-10 binary batches (`data_batch_1.bin` ... `test_batch.bin`): records
 * of 1 label byte then 3072 pixel bytes, the pixels as three 32x32 planes
 * (red, green, blue: CHW). The parser converts them to HWC so that a batch
 * is an NHWC tensor, the layout the engine's convolutions use.
 * Shapes: N = records, H = W = 32, C = 3.
 * @module
 */
import { formatError } from "./errors.ts";

/** Image side in pixels. */
export const CIFAR_SIZE = 32;
/** Pixels per image plane. */
const PLANE = CIFAR_SIZE * CIFAR_SIZE;
/** Bytes per record: 1 label + 3 planes. */
export const CIFAR_RECORD_BYTES: number = 1 + 3 * PLANE;

/** One parsed CIFAR-10 batch file. */
export interface CifarBatch {
  /** Number of records. */
  count: number;
  /** Pixels 0-255, `[N, 32, 32, 3]` row-major (NHWC). */
  images: Uint8Array;
  /** Class indices 0-9, `[N]`. */
  labels: Uint8Array;
}

/**
 * Parses a CIFAR-10 binary batch: checks that the file is a whole, non-zero
 * number of 3073-byte records and that every label is below `numClasses`,
 * then converts the CHW pixel planes to HWC. Errors are DatasetFormatErrors
 * naming `fileName` and the byte offset; nothing partial is returned.
 *
 * @param bytes The whole file.
 * @param fileName Used in error messages.
 * @param numClasses Labels must be below this (10 for CIFAR-10).
 * @returns The records as NHWC pixels and labels.
 *
 * @example
 * ```ts
 * import { CIFAR_RECORD_BYTES, parseCifarBatch } from "./cifar.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const record = new Uint8Array(CIFAR_RECORD_BYTES);
 * record[0] = 6; // frog
 * record[1] = 255; // red plane, pixel (0, 0)
 * record[1 + 2 * 1024] = 9; // blue plane, pixel (0, 0)
 * const { count, images, labels } = parseCifarBatch(record, "data_batch_1.bin");
 * assertEquals(count, 1);
 * assertEquals(labels[0], 6);
 * assertEquals([...images.subarray(0, 3)], [255, 0, 9]); // pixel (0, 0) as R, G, B
 * ```
 */
export function parseCifarBatch(bytes: Uint8Array, fileName: string, numClasses = 10): CifarBatch {
  if (bytes.length === 0) {
    throw formatError(fileName, 0, "empty file: a CIFAR batch holds at least one record");
  }
  const count = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
  const rest = bytes.length % CIFAR_RECORD_BYTES;
  if (rest !== 0) {
    throw formatError(
      fileName,
      count * CIFAR_RECORD_BYTES,
      `truncated record ${count}: it needs ${CIFAR_RECORD_BYTES} bytes (1 label + 3072 pixels), ` +
        `only ${rest} remain`,
    );
  }
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const label = bytes[n * CIFAR_RECORD_BYTES];
    if (label >= numClasses) {
      throw formatError(
        fileName,
        n * CIFAR_RECORD_BYTES,
        `label ${label} of record ${n} is not a class index (0-${numClasses - 1})`,
      );
    }
    labels[n] = label;
  }
  const images = new Uint8Array(count * 3 * PLANE);
  for (let n = 0; n < count; n++) {
    const src = n * CIFAR_RECORD_BYTES + 1;
    const dst = n * 3 * PLANE;
    // CHW → HWC: plane c, pixel p goes to p * 3 + c.
    for (let p = 0; p < PLANE; p++) {
      images[dst + 3 * p] = bytes[src + p];
      images[dst + 3 * p + 1] = bytes[src + PLANE + p];
      images[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p];
    }
  }
  return { count, images, labels };
}
