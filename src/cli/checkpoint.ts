/**
 * Checkpoints of a run, for --resume: after each completed epoch,
 * `<run>/checkpoints/epoch-NNNN/` holds the model with its optimizer state
 * (model.json + weights.safetensors) and state.json (the options, the epochs
 * done, the history so far). A checkpoint is written into a temporary
 * directory and renamed into place when complete, so the newest
 * `epoch-NNNN` directory is always whole: a crash or kill at any moment
 * leaves the previous one. Older checkpoints are removed after the rename.
 */
import { loadLayersModel, type Sequential } from "../../mod.ts";
import { writeFileAtomic } from "../io/files.ts";
import type { TrainOptions } from "./args.ts";

/** Where a run stands: what state.json holds. */
export interface RunState {
  /** The format of this file. */
  version: 1;
  /** The options the run started with (--epochs may be raised on resume). */
  options: TrainOptions;
  /** Completed epochs: a resumed run starts at this epoch index. */
  epochsDone: number;
  /** Values per completed epoch: loss, accuracy, val_loss, val_accuracy. */
  history: Record<string, number[]>;
  /** Wall seconds of each completed epoch (training and validation). */
  epochSeconds: number[];
  /** When the run started (ISO 8601). */
  started: string;
}

const DIR = "checkpoints";
const STATE = "state.json";

/** `epoch-0003`: zero-padded so that names sort as numbers. */
function checkpointName(epochsDone: number): string {
  return `epoch-${String(epochsDone).padStart(4, "0")}`;
}

/** The complete checkpoints of a run, newest last ([] if none). */
async function listCheckpoints(runDir: string): Promise<{ name: string; epochs: number }[]> {
  const found: { name: string; epochs: number }[] = [];
  try {
    for await (const entry of Deno.readDir(`${runDir}/${DIR}`)) {
      const match = /^epoch-(\d+)$/.exec(entry.name);
      if (entry.isDirectory && match) found.push({ name: entry.name, epochs: Number(match[1]) });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return found.sort((a, b) => a.epochs - b.epochs);
}

/** Whether a directory already holds a run's checkpoints. */
export async function hasCheckpoint(runDir: string): Promise<boolean> {
  return (await listCheckpoints(runDir)).length > 0;
}

/** fsyncs a directory so that a rename in it survives a crash (best effort, as src/io/files.ts does). */
async function syncDir(path: string): Promise<void> {
  try {
    using dir = await Deno.open(path, { read: true });
    await dir.sync();
  } catch { /* not possible on every platform; the checkpoint is complete either way */ }
}

/**
 * Writes the model (weights and optimizer state) and the run's state as the checkpoint of
 * `state.epochsDone` completed epochs, atomically; removes older checkpoints.
 *
 * @returns The checkpoint's directory.
 */
export async function writeCheckpoint(runDir: string, model: Sequential, state: RunState): Promise<string> {
  const root = `${runDir}/${DIR}`;
  const name = checkpointName(state.epochsDone);
  const final = `${root}/${name}`;
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const temp = `${root}/.${name}.${random}.tmp`;
  await Deno.mkdir(temp, { recursive: true });
  try {
    await model.save(temp, { includeOptimizer: true });
    await writeFileAtomic(`${temp}/${STATE}`, JSON.stringify(state, null, 1) + "\n");
    // A directory of that name can only be left over from a run resumed at an earlier epoch.
    await Deno.remove(final, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    await Deno.rename(temp, final);
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
  await syncDir(root);
  for await (const entry of Deno.readDir(root)) {
    if (entry.name !== name) await Deno.remove(`${root}/${entry.name}`, { recursive: true }).catch(() => {});
  }
  return final;
}

/** The newest checkpoint of a run: its directory and state. */
export interface Checkpoint {
  dir: string;
  state: RunState;
}

/**
 * Reads the newest checkpoint of a run.
 *
 * @throws {Error} The directory has no checkpoint, or its state.json is not one of ours.
 */
export async function readCheckpoint(runDir: string): Promise<Checkpoint> {
  const all = await listCheckpoints(runDir);
  if (all.length === 0) {
    let what = "no such directory";
    try {
      if ((await Deno.stat(runDir)).isDirectory) what = `no ${DIR}/epoch-NNNN directory in it`;
    } catch { /* keep "no such directory" */ }
    throw new Error(`--resume ${runDir}: not a run directory of deno task train (${what})`);
  }
  const { name, epochs } = all.at(-1)!;
  const dir = `${runDir}/${DIR}/${name}`;
  let state: RunState;
  try {
    state = JSON.parse(await Deno.readTextFile(`${dir}/${STATE}`));
  } catch (error) {
    throw new Error(`--resume ${runDir}: cannot read ${dir}/${STATE}: ${(error as Error).message}`);
  }
  if (state?.version !== 1 || state.epochsDone !== epochs || typeof state.options?.dataset !== "string") {
    throw new Error(`--resume ${runDir}: ${dir}/${STATE} is not a state file of this version of the CLI`);
  }
  return { dir, state };
}

/** Loads a checkpoint's model, compiled, with its optimizer state. */
export async function loadCheckpointModel(checkpoint: Checkpoint): Promise<Sequential> {
  return await loadLayersModel(`${checkpoint.dir}/model.json`);
}
