/**
 * model.save / loadLayersModel: a directory with model.json (tfjs's
 * layers-model format: Keras topology, training config, weights manifest)
 * and weights.safetensors. Both files are written atomically (temp + rename),
 * weights first; model.json records the weights file's size and SHA-256, so
 * a truncated or tampered file, or a weights file from another save, is a
 * CheckpointFormatError naming the file and what is wrong, never a silent
 * partial load.
 */
import { CheckpointFormatError } from "../errors.ts";
import { ensureDir, joinPath, readFileChecked, resolveUrl, writeFileAtomic } from "../io/files.ts";
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor } from "../io/safetensors.ts";
import { deserializeLayer } from "../layers/serialization.ts";
import type { NamedTensor } from "../optimizers/optimizer.ts";
import { formatShape, shapesEqual } from "../shape.ts";
import { fromData, type Tensor, writeData } from "../tensor.ts";
import { optimizerFromJSON, type OptimizerJSON } from "./optimizers.ts";
import { Sequential, type TrainingConfig } from "./sequential.ts";

const GENERATED_BY = "webgpu-deep-learning 0.1.0";
const WEIGHTS_FILE = "weights.safetensors";
/** Prefix of the optimizer's state in the weights file (`optimizer/dense/kernel/m`). */
const OPTIMIZER_PREFIX = "optimizer/";

/** Options of `model.save`. */
export interface SaveOptions {
  /** Also save the optimizer's state (its step count and slots), as tfjs's `includeOptimizer` (default false). */
  includeOptimizer?: boolean;
}

/** What `model.save` wrote, as tfjs's SaveResult. */
export interface SaveResult {
  /** When and how much was written. */
  modelArtifactsInfo: {
    dateSaved: Date;
    modelTopologyType: "JSON";
    modelTopologyBytes: number;
    weightSpecsBytes: number;
    weightDataBytes: number;
  };
}

/** A weights manifest entry: the file and what it holds. */
interface WeightsGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: "float32" | "int32" }[];
  format?: string;
  byteLength?: number;
  sha256?: string;
}

/** The directory's model.json. */
interface ModelJSON {
  format: string;
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: string;
    config: { name?: string; layers: { class_name: string; config: unknown }[] };
  };
  trainingConfig: TrainingConfig | null;
  weightsManifest: WeightsGroup[];
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The directory a save URL names (tfjs: `file://dir`; a trailing model.json is allowed). */
function saveDirectory(url: string): string {
  const path = resolveUrl(url);
  if (path === null) {
    throw new Error(`model.save: cannot save to ${url}: only file:// URLs and paths are writable`);
  }
  return path.endsWith("model.json") ? path.slice(0, -"model.json".length) || "." : path;
}

/** Writes model.json and weights.safetensors into the directory `url` names. */
export async function saveModel(
  model: Sequential,
  url: string,
  options: SaveOptions = {},
): Promise<SaveResult> {
  const dir = saveDirectory(url);
  if (!model.built) {
    throw new Error(`${model.name}.save: the model is not built yet: it has no weights to save`);
  }
  const named = model.layers.flatMap((l) =>
    l.namedWeights.map((w) => ({ name: w.name, tensor: w.variable as Tensor }))
  );
  const extra: NamedTensor[] = [];
  if (options.includeOptimizer && model.optimizer) {
    // Slots are keyed by variable name; store them under the weights' checkpoint names.
    const checkpointName = new Map(
      model.layers.flatMap((l) => l.namedWeights.map((w) => [w.variable.name, w.name] as const)),
    );
    for (const { name, tensor } of model.optimizer.getWeights()) {
      const cut = name.lastIndexOf("/");
      const owner = name === "iter"
        ? "iter"
        : `${checkpointName.get(name.slice(0, cut)) ?? name.slice(0, cut)}${name.slice(cut)}`;
      extra.push({ name: OPTIMIZER_PREFIX + owner, tensor });
    }
  }
  const all = [...named, ...extra];
  // One readback each, all in flight together.
  const data = await Promise.all(all.map((w) => w.tensor.data()));
  extra.find((w) => w.name === `${OPTIMIZER_PREFIX}iter`)?.tensor.dispose();
  const tensors: NamedSafetensorsTensor[] = all.map((w, i) => ({
    name: w.name,
    dtype: w.tensor.dtype,
    shape: [...w.tensor.shape],
    data: data[i],
  }));
  const weightBytes = encodeSafetensors(tensors, { format: "pt", generated_by: GENERATED_BY });
  const manifest: WeightsGroup = {
    paths: [WEIGHTS_FILE],
    weights: named.map((w) => ({ name: w.name, shape: [...w.tensor.shape], dtype: w.tensor.dtype })),
    format: "safetensors",
    byteLength: weightBytes.length,
    sha256: await sha256(weightBytes),
  };
  const json: ModelJSON = {
    format: "layers-model",
    generatedBy: GENERATED_BY,
    convertedBy: null,
    modelTopology: { class_name: "Sequential", config: model.getConfig() },
    trainingConfig: model.trainingConfig(),
    weightsManifest: [manifest],
  };
  const text = JSON.stringify(json, null, 1);
  await ensureDir(dir);
  // Weights first: model.json, written last, is what makes the new save the current one.
  await writeFileAtomic(joinPath(dir, WEIGHTS_FILE), weightBytes);
  await writeFileAtomic(joinPath(dir, "model.json"), text);
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: "JSON",
      modelTopologyBytes: JSON.stringify(json.modelTopology).length,
      weightSpecsBytes: JSON.stringify(manifest.weights).length,
      weightDataBytes: weightBytes.length,
    },
  };
}

/** Reads a file by path (Deno) or URL (fetch). */
async function readBytes(location: string): Promise<Uint8Array> {
  const path = resolveUrl(location);
  if (path !== null) return await readFileChecked(path);
  const response = await fetch(location);
  if (!response.ok) {
    throw new Error(`loadLayersModel: ${location}: HTTP ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** The location of `name` next to model.json. */
function sibling(modelUrl: string, name: string): string {
  if (resolveUrl(modelUrl) === null) return new URL(name, modelUrl).href;
  const cut = Math.max(modelUrl.lastIndexOf("/"), modelUrl.lastIndexOf("\\"));
  return cut < 0 ? name : modelUrl.slice(0, cut + 1) + name;
}

function parseModelJSON(bytes: Uint8Array, file: string): ModelJSON {
  let json: ModelJSON;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CheckpointFormatError(
      `${file}: not valid JSON (${(error as Error).message}); truncated or not a model.json?`,
    );
  }
  const topology = json?.modelTopology;
  if (topology?.class_name !== "Sequential" || !Array.isArray(topology.config?.layers)) {
    throw new CheckpointFormatError(
      `${file}: modelTopology must be a Sequential model ({ class_name: "Sequential", config: { layers: [...] } }), ` +
        `got ${JSON.stringify(topology?.class_name ?? null)}`,
    );
  }
  const group = json.weightsManifest?.[0];
  if (!Array.isArray(group?.paths) || typeof group.paths[0] !== "string" || !Array.isArray(group.weights)) {
    throw new CheckpointFormatError(
      `${file}: weightsManifest[0] must list the weights file in 'paths' and its 'weights'`,
    );
  }
  return json;
}

/**
 * Loads a model saved with `model.save` (or a model.json of the same
 * layers-model format with a safetensors weights file): the topology, the
 * weights, and, if recorded, the training config (the model comes back compiled).
 *
 * @param url `file://dir/model.json`, a path, or an http(s) URL (fetched).
 * @returns The model, with the saved weights.
 * @throws {CheckpointFormatError} A missing, truncated, tampered or mismatched file, naming it and the problem.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const model = wg.sequential({ layers: [wg.layers.dense({ units: 2, inputShape: [3] })] });
 * const dir = await Deno.makeTempDir();
 * await model.save(`file://${dir}`); // model.json + weights.safetensors
 * const again = await wg.loadLayersModel(`${dir}/model.json`);
 * const input = wg.ones([1, 3]);
 * const [a, b] = [model, again].map((m) => m.predict(input) as wg.Tensor);
 * assertEquals(await b.data(), await a.data()); // the same weights
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadLayersModel(url: string): Promise<Sequential> {
  const modelUrl = url.endsWith(".json") ? url : sibling(url.endsWith("/") ? url : `${url}/`, "model.json");
  const json = parseModelJSON(await readBytes(modelUrl), modelUrl);
  const group = json.weightsManifest[0];
  const weightsUrl = sibling(modelUrl, group.paths[0]);
  if (
    group.paths.length !== 1 || !(group.format === "safetensors" || group.paths[0].endsWith(".safetensors"))
  ) {
    throw new CheckpointFormatError(
      `${modelUrl}: weights must be one safetensors file; got ${JSON.stringify(group.paths)} ` +
        "(tfjs's binary weight shards are not supported)",
    );
  }
  const bytes = await readBytes(weightsUrl);
  if (group.byteLength !== undefined && bytes.length !== group.byteLength) {
    throw new CheckpointFormatError(
      `${weightsUrl}: ${bytes.length} bytes, but ${modelUrl} records ${group.byteLength}: ` +
        `the file is ${
          bytes.length < group.byteLength ? "truncated" : "longer than saved"
        } or from another save`,
    );
  }
  const { tensors } = decodeSafetensors(bytes, weightsUrl);
  if (group.sha256 !== undefined && await sha256(bytes) !== group.sha256) {
    throw new CheckpointFormatError(
      `${weightsUrl}: its SHA-256 differs from the one ${modelUrl} records: the file was modified or comes from another save`,
    );
  }

  let model: Sequential;
  try {
    const layers = buildLayers(json.modelTopology.config.layers);
    model = new Sequential({ name: json.modelTopology.config.name, layers });
    if (!model.built) throw new Error("the first layer has no batch_input_shape");
  } catch (error) {
    if (error instanceof CheckpointFormatError) throw error;
    throw new CheckpointFormatError(`${modelUrl}: cannot rebuild the model: ${(error as Error).message}`);
  }
  try {
    const expected = new Set<string>();
    for (const layer of model.layers) {
      for (const { name, variable } of layer.namedWeights) {
        expected.add(name);
        const stored = tensors.get(name);
        if (stored === undefined) {
          throw new CheckpointFormatError(
            `${weightsUrl}: no tensor '${name}', which layer '${layer.name}' needs`,
          );
        }
        if (stored.dtype !== variable.dtype || !shapesEqual(stored.shape, variable.shape)) {
          throw new CheckpointFormatError(
            `${weightsUrl}: tensor '${name}' is ${stored.dtype} ${formatShape(stored.shape)}, ` +
              `layer '${layer.name}' needs ${variable.dtype} ${formatShape(variable.shape)}`,
          );
        }
      }
    }
    const unknown = [...tensors.keys()].filter((n) => !expected.has(n) && !n.startsWith(OPTIMIZER_PREFIX));
    if (unknown.length > 0) {
      throw new CheckpointFormatError(
        `${weightsUrl}: tensors the model does not have: ${unknown.join(", ")}`,
      );
    }
    // Checked everything first: now copy the values in (writeData orders them after the initializers).
    for (const layer of model.layers) {
      for (const { name, variable } of layer.namedWeights) writeData(variable, tensors.get(name)!.data);
    }
    if (json.trainingConfig) await restoreTraining(model, json.trainingConfig, tensors, weightsUrl);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** Layers from the topology; a Keras InputLayer's shape moves to the first real layer. */
function buildLayers(configs: { class_name: string; config: unknown }[]) {
  let inputShape: unknown = undefined;
  const layers = [];
  for (const entry of configs) {
    if (entry?.class_name === "InputLayer") {
      const c = entry.config as Record<string, unknown>;
      inputShape = c.batch_input_shape ?? c.batch_shape;
      continue;
    }
    const config = { ...(entry?.config as Record<string, unknown>) };
    if (layers.length === 0 && inputShape !== undefined && config.batch_input_shape === undefined) {
      config.batch_input_shape = inputShape;
    }
    layers.push(deserializeLayer({ class_name: entry?.class_name, config }));
  }
  return layers;
}

/** Compiles the model as saved; restores the optimizer's state if the weights file has it. */
async function restoreTraining(
  model: Sequential,
  config: TrainingConfig,
  tensors: ReturnType<typeof decodeSafetensors>["tensors"],
  weightsUrl: string,
): Promise<void> {
  try {
    model.compile({
      optimizer: optimizerFromJSON(config.optimizer_config as OptimizerJSON),
      loss: config.loss,
      metrics: config.metrics ?? [],
    });
  } catch (error) {
    // A custom loss or metric function cannot come back from JSON: load uncompiled, as Keras does.
    console.warn(`loadLayersModel: the model is not compiled: ${(error as Error).message}`);
    return;
  }
  const variableName = new Map(
    model.layers.flatMap((l) => l.namedWeights.map((w) => [w.name, w.variable.name] as const)),
  );
  const state: NamedTensor[] = [];
  for (const [name, stored] of tensors) {
    if (!name.startsWith(OPTIMIZER_PREFIX)) continue;
    const rest = name.slice(OPTIMIZER_PREFIX.length);
    const cut = rest.lastIndexOf("/");
    const owner = rest === "iter"
      ? "iter"
      : `${variableName.get(rest.slice(0, cut)) ?? rest.slice(0, cut)}${rest.slice(cut)}`;
    state.push({ name: owner, tensor: fromData(stored.data, stored.shape) });
  }
  try {
    if (state.length > 0) await model.optimizer!.setWeights(state);
  } catch (error) {
    throw new CheckpointFormatError(
      `${weightsUrl}: the optimizer state does not fit the model: ${(error as Error).message}`,
    );
  } finally {
    for (const { tensor } of state) tensor.dispose();
  }
}
