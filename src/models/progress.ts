/**
 * Keras's progress output for fit (keras/utils/generic_utils.py Progbar):
 *   verbose 1: `1875/1875 [==============================] - 3s 2ms/step - loss: 0.0643 - accuracy: 0.9799`,
 *              redrawn in place on a terminal (at most ~10 times a second), one line per epoch otherwise;
 *   verbose 2: `1875/1875 - 3s - loss: 0.0643 - accuracy: 0.9799 - 3s/epoch - 2ms/step`.
 * Everything is printed through a ProgressWriter, so tests capture it and a
 * browser gets console lines; Deno's stdout is used only when present.
 */
import type { Logs } from "./callbacks.ts";

/** Where progress text goes; `isTTY` allows redrawing a line with a carriage return. */
export interface ProgressWriter {
  /** Writes text as it is (lines end with "\n"; a terminal redraw starts with "\r"). */
  write(text: string): void;
  /** True on a terminal: the bar is redrawn in place. */
  readonly isTTY: boolean;
}

/** Deno's stdout (a TTY there), or console lines where Deno is absent (a browser). */
export function defaultWriter(): ProgressWriter {
  if (typeof Deno !== "undefined" && Deno.stdout) {
    const encoder = new TextEncoder();
    let isTTY = false;
    try {
      isTTY = Deno.stdout.isTerminal();
    } catch { /* not available: plain lines */ }
    return {
      isTTY,
      write(text) {
        const bytes = encoder.encode(text);
        for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
      },
    };
  }
  let pending = "";
  return {
    isTTY: false,
    write(text) {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) console.log(line);
    },
  };
}

/** A value as Keras prints it: 4 decimals, or scientific notation below 1e-3. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Math.abs(value) > 1e-3) return value.toFixed(4);
  // Python's %.4e: a signed exponent of at least two digits.
  return value.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
}

/** Keras's time per step: " 2ms/step", " 1s/step", " 350us/step". */
export function formatTimePerUnit(seconds: number, unit: string): string {
  if (seconds >= 1 || seconds === 0) return ` ${seconds.toFixed(0)}s/${unit}`;
  if (seconds >= 1e-3) return ` ${(seconds * 1e3).toFixed(0)}ms/${unit}`;
  return ` ${(seconds * 1e6).toFixed(0)}us/${unit}`;
}

function formatEta(seconds: number): string {
  const s = Math.floor(seconds);
  if (seconds > 3600) {
    return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${
      String(s % 60).padStart(2, "0")
    }`;
  }
  if (seconds > 60) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  return `${s}s`;
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs).map(([key, value]) => ` - ${key}: ${formatValue(value)}`).join("");
}

/** The progress of one fit: epoch headers, the bar, the epoch's final line. */
export class Progress {
  readonly #writer: ProgressWriter;
  readonly #verbose: number;
  readonly #steps: number;
  readonly #epochs: number;
  readonly #width = 30;
  #start = 0;
  #lastWidth = 0;

  constructor(writer: ProgressWriter, verbose: number, epochs: number, steps: number) {
    this.#writer = writer;
    this.#verbose = verbose;
    this.#epochs = epochs;
    this.#steps = steps;
  }

  /** Whether fit should read metrics back during the epoch for the bar. */
  get wantsLiveUpdates(): boolean {
    return this.#verbose === 1 && this.#writer.isTTY;
  }

  epochBegin(epoch: number): void {
    this.#start = performance.now();
    this.#lastWidth = 0;
    if (this.#verbose > 0 && this.#epochs > 1) this.#writer.write(`Epoch ${epoch + 1}/${this.#epochs}\n`);
  }

  /** Redraws the bar after `step` steps with the running means in `logs` (TTY, verbose 1 only). */
  update(step: number, logs: Logs): void {
    if (!this.wantsLiveUpdates) return;
    const seconds = (performance.now() - this.#start) / 1000;
    const eta = (seconds / Math.max(step, 1)) * (this.#steps - step);
    this.#draw(`${this.#bar(step)} - ETA: ${formatEta(eta)}${formatLogs(logs)}`, false);
  }

  /** The epoch's final line, with validation metrics. */
  epochEnd(logs: Logs): void {
    if (this.#verbose === 0) return;
    const seconds = (performance.now() - this.#start) / 1000;
    const perStep = seconds / Math.max(this.#steps, 1);
    const steps = `${String(this.#steps).padStart(String(this.#steps).length)}/${this.#steps}`;
    if (this.#verbose === 2) {
      this.#writer.write(
        `${steps} - ${seconds.toFixed(0)}s${formatLogs(logs)} -${formatTimePerUnit(seconds, "epoch")} -` +
          `${formatTimePerUnit(perStep, "step")}\n`,
      );
      return;
    }
    this.#draw(
      `${this.#bar(this.#steps)} - ${seconds.toFixed(0)}s${formatTimePerUnit(perStep, "step")}${
        formatLogs(logs)
      }`,
      true,
    );
  }

  /** `  32/1875 [>.............................]`. */
  #bar(step: number): string {
    const digits = String(this.#steps).length;
    let bar = `${String(step).padStart(digits)}/${this.#steps} [`;
    const filled = Math.floor((this.#width * step) / Math.max(this.#steps, 1));
    if (filled > 0) bar += "=".repeat(filled - 1) + (step < this.#steps ? ">" : "=");
    return bar + ".".repeat(this.#width - filled) + "]";
  }

  #draw(line: string, final: boolean): void {
    if (this.#writer.isTTY) {
      const pad = " ".repeat(Math.max(0, this.#lastWidth - line.length));
      this.#writer.write(`\r${line}${pad}${final ? "\n" : ""}`);
      this.#lastWidth = line.length;
    } else if (final) this.#writer.write(`${line}\n`);
  }
}
