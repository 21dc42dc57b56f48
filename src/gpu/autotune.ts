/**
 * Autotuning: an op with several implementations (kernel variants, paths)
 * names a problem class (e.g. a GEMM's transposes and size bucket) and its
 * candidates. The first time a class is seen the op runs its default and the
 * class waits; `tune()` then times every candidate on that class's shape and
 * keeps the fastest for this adapter, in memory and, where a store is set
 * (the CLI sets a file in the cache dir, src/io/tuning_store.ts), on disk.
 * Ops stay synchronous: only `tune()` awaits the GPU, and `fit()` calls it
 * after its first step. Why tune rather than pick by adapter: on llvmpipe a
 * storage load costs ~30 cycles and texture and uniform loads a few, so the
 * winners there are the opposite of a real GPU's (bench/gemm_variants.md).
 */
import { runtime } from "./runtime.ts";

/** Bump when kernels change, so that stored winners of old kernels are not trusted. */
const TUNING_VERSION = 6;

/** What `tune()` times for one problem class. */
export interface TuningProblem {
  readonly candidates: readonly string[];
  /** Allocates inputs once; `run` records one run of a candidate (no submit), `dispose` frees them. */
  setup(): { run(candidate: string): void; dispose(): void };
  /** Runs per timing, so that one timing is long against the ~11 ms a wait costs here. */
  readonly reps: number;
}

/** Where winners persist between processes: one table per adapter. */
export interface TuningStore {
  /** The winners stored for an adapter (`{}` if none), by problem class. */
  load(adapter: string): Promise<Record<string, string>>;
  /** Replaces the adapter's stored winners. */
  save(adapter: string, winners: Record<string, string>): Promise<void>;
}

/** Timings of each candidate, the best counting. */
const TUNING_ROUNDS = 3;

const winners = new Map<string, string>();
const waiting = new Map<string, TuningProblem>();
let store: TuningStore | null = null;

/**
 * The tuned candidate of class `key`, or `fallback` while it is untuned (the
 * class then waits for `tune()`; `problem` is called only the first time).
 */
export function tunedChoice(key: string, fallback: string, problem: () => TuningProblem): string {
  const winner = winners.get(key);
  if (winner !== undefined) return winner;
  if (!waiting.has(key)) waiting.set(key, problem());
  return fallback;
}

/** Whether some class waits for `tune()`. */
export function tuningPending(): boolean {
  return waiting.size > 0;
}

/** This adapter's key in a store: its identity and the kernels' version. */
export function adapterKey(): string {
  const { vendor, architecture, device, description } = runtime().ctx.adapterInfo;
  return `v${TUNING_VERSION}|${vendor}|${architecture}|${device}|${description}`;
}

/**
 * Persists autotuning winners in `s` from now on, after taking the ones it
 * already holds for this adapter (so a later process skips their tuning).
 * `deno task train` uses a file in the dataset cache; the library alone keeps
 * winners in memory only.
 *
 * @param s A store ({@linkcode fileTuningStore}), or null for memory only.
 * @returns Resolves once the stored winners are loaded.
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * await wg.useTuningStore(wg.fileTuningStore(`${await Deno.makeTempDir()}/tuning.json`));
 * assert(typeof wg.tuningTable() === "object");
 * await wg.useTuningStore(null);
 * ```
 */
export async function useTuningStore(s: TuningStore | null): Promise<void> {
  store = s;
  if (s === null) return;
  for (const [key, winner] of Object.entries(await s.load(adapterKey()))) {
    winners.set(key, winner);
    waiting.delete(key);
  }
}

/** Forgets every winner (tests, benches that compare paths). */
export function resetTuning(): void {
  winners.clear();
  waiting.clear();
}

/**
 * The autotuning winners so far, by problem class (e.g.
 * `"gemm/nn/1/128x128x1024": "texture16x32"`: a GEMM of that size bucket
 * reads its operands from textures with 16x32 outputs per invocation).
 *
 * @returns A copy of the table.
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const before = Object.keys(wg.tuningTable()).length;
 * wg.matMul(wg.zeros([32, 32]), wg.zeros([32, 32])).dispose(); // too small to tune
 * await wg.tune();
 * assertEquals(Object.keys(wg.tuningTable()).length, before);
 * ```
 */
export function tuningTable(): Record<string, string> {
  return Object.fromEntries(winners);
}

/**
 * Times every implementation of each op class seen since the last call and
 * not yet tuned (large GEMMs: storage, uniform-window and texture kernels with
 * several tiles), and keeps the fastest for this adapter. Ops run a default
 * until then; `model.fit()` calls this after its first step, so only loops
 * written by hand need it. Each candidate first runs once alone (its compile,
 * checked for validation errors: a pipeline that failed is skipped silently
 * by WebGPU and would look fastest), then `reps` runs in each of
 * TUNING_ROUNDS rounds over the candidates; the best round counts.
 *
 * @returns The number of classes tuned.
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const x = wg.randomNormal([8, 8]);
 * wg.matMul(x, x).dispose(); // small: runs the default, nothing waits
 * assertEquals(await wg.tune(), 0);
 * x.dispose();
 * ```
 */
export async function tune(): Promise<number> {
  const gpu = runtime();
  const classes = [...waiting];
  waiting.clear();
  gpu.flush();
  await gpu.device.queue.onSubmittedWorkDone();
  for (const [key, problem] of classes) {
    const { run, dispose } = problem.setup();
    const times = new Map<string, number>();
    try {
      for (const candidate of problem.candidates) {
        gpu.device.pushErrorScope("validation");
        run(candidate);
        gpu.flush();
        const error = await gpu.device.popErrorScope();
        await gpu.device.queue.onSubmittedWorkDone();
        if (!error) times.set(candidate, Infinity);
      }
      // Rounds over all candidates, not trials of one then the next: a shared machine's speed drifts
      // over seconds, which would favour whichever candidate ran in a fast stretch.
      for (let round = 0; round < TUNING_ROUNDS; round++) {
        for (const [candidate, best] of times) {
          const start = performance.now();
          for (let i = 0; i < problem.reps; i++) run(candidate);
          gpu.flush();
          await gpu.device.queue.onSubmittedWorkDone();
          times.set(candidate, Math.min(best, performance.now() - start));
        }
      }
    } finally {
      dispose();
    }
    const [best] = [...times].reduce((a, b) => (b[1] < a[1] ? b : a), ["", Infinity]);
    if (best !== "") winners.set(key, best);
  }
  if (store && classes.length > 0) await store.save(adapterKey(), tuningTable());
  return classes.length;
}
