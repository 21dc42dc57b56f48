/**
 * Shared timing for the peer benchmark: wall and CPU milliseconds per unit of
 * work, measured the same way for every engine.
 */
import process from "node:process";

/** Milliseconds per unit of work: wall clock, and this process's CPU time (all threads). */
export interface Millis {
  wall: number;
  cpu: number;
}

/** A training-step measurement; `encode`/`submit` only where the engine exposes them. */
export interface StepMillis extends Millis {
  /** Steps timed. */
  steps: number;
  /** JS time recording the step (forward, backward, optimizer), excluding `queue.submit`, ms/step. */
  encode?: number;
  /** Time inside `queue.submit` + the final wait, ms/step (on GL llvmpipe submit blocks until the GPU is done). */
  submit?: number;
}

/** A failure to run some work (e.g. a missing kernel), reported in the table instead of a number. */
export class Unsupported {
  constructor(readonly reason: string) {}
}

/**
 * Wraps `queue.submit` to report each call's start and its duration (on GL llvmpipe the commands run
 * inside it), for ours.ts and profile_step.ts.
 */
export function timeSubmits(queue: GPUQueue, onSubmit: (start: number, ms: number) => void): void {
  const submit = queue.submit.bind(queue);
  queue.submit = (buffers: GPUCommandBuffer[]) => {
    const start = performance.now();
    submit(buffers);
    onSubmit(start, performance.now() - start);
  };
}

/** Past this many ms for the last warm-up round, a measurement times one call only. */
export const SLOW_MS = 2000;

/**
 * Times `reps` calls of `run` followed by one `finish` (which waits for the
 * GPU), after `warmup` untimed rounds; returns ms per call. Work slower than
 * `SLOW_MS` in its last warm-up round (tfjs webgpu's convolutions here) is
 * timed once, and a first round (shader compiles included) over 5x that ends
 * the warm-up, so that the whole benchmark stays within minutes; the result
 * says how many calls were timed.
 */
export async function timeReps(
  reps: number,
  warmup: number,
  run: () => void,
  finish: () => Promise<void>,
): Promise<Millis & { reps: number }> {
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    run();
    await finish();
    const ms = performance.now() - t0;
    if (i === warmup - 1 && ms > SLOW_MS) reps = 1;
    if (ms > 5 * SLOW_MS) {
      reps = 1;
      break;
    }
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run();
  await finish();
  const wall = (performance.now() - t0) / reps;
  const { user, system } = process.cpuUsage(cpu0);
  return { wall, cpu: (user + system) / 1000 / reps, reps };
}

/** `f` with any exception turned into an `Unsupported`. */
export async function attempt<T>(f: () => Promise<T>): Promise<T | Unsupported> {
  try {
    return await f();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return new Unsupported(message.split("\n")[0].slice(0, 120));
  }
}
