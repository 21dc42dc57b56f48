/**
 * A TuningStore in a JSON file: `{ "<adapter key>": { "<problem class>": "<winner>" } }`,
 * so that autotuning (src/gpu/autotune.ts) runs once per adapter and machine,
 * not once per process. It is a cache: a missing, unreadable or corrupt file
 * reads as empty, and a failed write (no permission) only means tuning again
 * next time, so neither stops training.
 * @module
 */
import type { TuningStore } from "../gpu/autotune.ts";
import { ensureDir, writeFileAtomic } from "./files.ts";

type Tables = Record<string, Record<string, string>>;

async function readTables(path: string): Promise<Tables> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * A store of autotuning winners in the file `path` (its directory is created
 * when first written; writes are atomic).
 *
 * @param path E.g. `~/.cache/webgpu-deep-learning/tuning.json`.
 * @returns The store, for {@linkcode useTuningStore}.
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const path = `${await Deno.makeTempDir()}/tuning.json`;
 * const store = wg.fileTuningStore(path);
 * await store.save("adapter", { "gemm/nn/1/128x128x1024": "texture16x32" });
 * assertEquals(await store.load("adapter"), { "gemm/nn/1/128x128x1024": "texture16x32" });
 * assertEquals(await store.load("another adapter"), {});
 * ```
 */
export function fileTuningStore(path: string): TuningStore {
  return {
    load: async (adapter) => {
      const table = (await readTables(path))[adapter];
      return table !== null && typeof table === "object" ? { ...table } : {};
    },
    save: async (adapter, winners) => {
      try {
        const tables = await readTables(path);
        tables[adapter] = winners;
        const cut = path.lastIndexOf("/");
        if (cut > 0) await ensureDir(path.slice(0, cut));
        await writeFileAtomic(path, JSON.stringify(tables, null, 2) + "\n");
      } catch {
        // A cache that cannot be written costs a re-tune next time, nothing more.
      }
    },
  };
}
