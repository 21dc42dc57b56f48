/**
 * The CLI's progress output, Keras-style:
 *   Epoch 3/12
 *   211/422 [==============>...............] - 21s 99ms/step - ETA: 21s - loss: 0.0712 - accuracy: 0.9781
 * redrawn in place on a terminal as fit reads its GPU-side sums back (~10 times a second), then one
 * summary line per epoch with the validation metrics:
 *   422/422 [==============================] - 42s 99ms/step - loss: 0.0698 - accuracy: 0.9785 - val_loss: ...
 * Off a terminal (a log file, CI) only the summary lines are printed, and nothing is read back mid-epoch.
 */
import type { Logs, ProgressWriter } from "../../mod.ts";
import { formatTimePerUnit, formatValue } from "../models/progress.ts";

/** Minimum time between redraws of the bar, ms. */
const REDRAW_MS = 100;
const BAR_WIDTH = 30;

/** Keras's duration: "42s", "3:07", "1:02:03". */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const mm = String(Math.floor((s % 3600) / 60)), ss = String(s % 60).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}:${mm.padStart(2, "0")}:${ss}`;
  return s >= 60 ? `${mm}:${ss}` : `${s}s`;
}

/** ` - loss: 0.0712 - accuracy: 0.9781` for the given keys, in order, that the logs have. */
export function formatLogs(logs: Logs, keys: readonly string[]): string {
  return keys.filter((k) => logs[k] !== undefined).map((k) => ` - ${k}: ${formatValue(logs[k])}`).join("");
}

/** One fit's progress: epoch headers, the live bar, the epoch summary lines. */
export class EpochProgress {
  readonly #writer: ProgressWriter;
  readonly #epochs: number;
  readonly #steps: number;
  readonly #every: number;
  #start = 0;
  #lastDraw = 0;
  #lastWidth = 0;
  #shown = true;

  /**
   * @param writer Where the text goes (redraws only when `isTTY`).
   * @param epochs The epoch count trained to (for "Epoch i/n").
   * @param steps Steps per epoch.
   * @param every Print only every `every`-th epoch (and the first and last): for hundreds of one-step epochs.
   */
  constructor(writer: ProgressWriter, epochs: number, steps: number, every = 1) {
    this.#writer = writer;
    this.#epochs = epochs;
    this.#steps = steps;
    this.#every = every;
  }

  /** Whether the bar is drawn during the epoch (a terminal): fit then reads its sums back a few times a second. */
  get live(): boolean {
    return this.#writer.isTTY;
  }

  /** Prints "Epoch i/n" (if the epoch is shown) and starts the epoch's clock. */
  epochBegin(epoch: number): void {
    this.#start = performance.now();
    this.#lastDraw = 0;
    this.#lastWidth = 0;
    this.#shown = epoch === 0 || (epoch + 1) % this.#every === 0 || epoch + 1 === this.#epochs;
    if (this.#shown) this.#writer.write(`Epoch ${epoch + 1}/${this.#epochs}\n`);
  }

  /** Redraws the bar after `step` steps (terminal only, at most every 100 ms). */
  update(step: number, logs: Logs): void {
    const now = performance.now();
    if (!this.live || !this.#shown || now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    const seconds = (now - this.#start) / 1000;
    const perStep = seconds / Math.max(step, 1);
    const eta = perStep * (this.#steps - step);
    this.#draw(
      `${this.#bar(step)} - ${formatDuration(seconds)}${formatTimePerUnit(perStep, "step")} - ETA: ${
        formatDuration(eta)
      }${formatLogs(logs, ["loss", "accuracy"])}`,
      false,
    );
  }

  /**
   * The epoch's summary line: steps, time, time per step, the training and
   * validation metrics. Returns the epoch's duration in seconds.
   */
  epochEnd(logs: Logs, steps = this.#steps): number {
    const seconds = (performance.now() - this.#start) / 1000;
    const perStep = seconds / Math.max(steps, 1);
    const keys = ["loss", "accuracy", "val_loss", "val_accuracy"];
    if (!this.#shown) return seconds;
    this.#draw(
      `${this.#bar(steps)} - ${formatDuration(seconds)}${formatTimePerUnit(perStep, "step")}${
        formatLogs(logs, keys)
      }`,
      true,
    );
    return seconds;
  }

  /** Ends a bar left half drawn (an interrupted epoch) with its step count. */
  interrupted(steps: number): void {
    if (this.live && this.#lastWidth > 0) this.#writer.write("\n");
    this.#writer.write(`(epoch stopped after ${steps}/${this.#steps} steps)\n`);
  }

  /** `211/422 [==============>...............]`. */
  #bar(step: number): string {
    const digits = String(this.#steps).length;
    const filled = Math.floor((BAR_WIDTH * step) / Math.max(this.#steps, 1));
    const arrow = filled > 0 ? "=".repeat(filled - 1) + (step < this.#steps ? ">" : "=") : "";
    return `${String(step).padStart(digits)}/${this.#steps} [${arrow}${".".repeat(BAR_WIDTH - filled)}]`;
  }

  #draw(line: string, final: boolean): void {
    if (this.live) {
      const pad = " ".repeat(Math.max(0, this.#lastWidth - line.length));
      this.#writer.write(`\r${line}${pad}${final ? "\n" : ""}`);
      this.#lastWidth = final ? 0 : line.length;
    } else if (final) this.#writer.write(`${line}\n`);
  }
}
