/**
 * Ctrl-C (SIGINT) and SIGTERM during training: the first asks training to stop
 * after the current step (the run then keeps its last checkpoint and says how
 * to resume); a second (a second or more later) quits at once with status 130.
 */

/** Signals this soon after the first are the same Ctrl-C, delivered twice (see #request). */
const ECHO_MS = 1000;

/** A stop asked for by a signal or an AbortSignal. */
export class StopRequest {
  /** Whether a stop was asked for. */
  requested = false;
  /** Called on the first request (e.g. to set model.stopTraining). */
  onStop: (() => void) | null = null;
  readonly #say: (text: string) => void;
  readonly #listeners: [Deno.Signal, () => void][] = [];
  readonly #abort: AbortSignal | undefined;
  #firstAt = 0;
  readonly #onAbort = () => this.#request("Stop requested");

  /**
   * @param say Prints a line.
   * @param abort Aborting it requests a stop (tests use it in place of a signal).
   * @param signals Listen for SIGINT and SIGTERM.
   */
  constructor(say: (text: string) => void, abort: AbortSignal | undefined, signals: boolean) {
    this.#say = say;
    this.#abort = abort;
    abort?.addEventListener("abort", this.#onAbort);
    if (abort?.aborted) this.#onAbort();
    if (!signals) return;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const listener = () => this.#request(signal === "SIGINT" ? "Ctrl-C" : "SIGTERM");
      try {
        Deno.addSignalListener(signal, listener);
        this.#listeners.push([signal, listener]);
      } catch { /* SIGTERM cannot be listened for on Windows */ }
    }
  }

  #request(what: string): void {
    // NOTE: under `deno task` one Ctrl-C arrives twice: the terminal signals the whole process group, and
    // the task runner forwards its own copy. A repeat within a second is that echo, not a second press.
    const now = performance.now();
    if (this.requested && now - this.#firstAt < ECHO_MS) return;
    if (this.requested) {
      this.#say(`\n${what} again: quitting now; the last checkpoint is kept.`);
      Deno.exit(130);
    }
    this.requested = true;
    this.#firstAt = now;
    this.#say(`\n${what}: stopping after the current step (press Ctrl-C again to quit at once)...`);
    this.onStop?.();
  }

  /** Removes the listeners. */
  dispose(): void {
    for (const [signal, listener] of this.#listeners) Deno.removeSignalListener(signal, listener);
    this.#abort?.removeEventListener("abort", this.#onAbort);
  }
}
