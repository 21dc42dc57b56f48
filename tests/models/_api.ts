/**
 * The Layers API as the tests use it: mod.ts plus the layers-API exports
 * (`sequential`, `loadLayersModel`, `layers`, `metrics`, `callbacks`,
 * `initializers`), so the tests read like user code (`wg.layers.dense(...)`).
 * Explicit exports here take precedence over mod.ts's, so this keeps
 * working once mod.ts exports the same names.
 */
import "../_helpers/gpu.ts";

export * from "../../mod.ts";
export { type ModelCompileArgs, Sequential, sequential } from "../../src/models/sequential.ts";
export { loadLayersModel } from "../../src/models/save.ts";
export type { ModelFitArgs } from "../../src/models/fit.ts";
export type { ProgressWriter } from "../../src/models/progress.ts";
export * as layers from "../../src/layers/layers_namespace.ts";
export * as metrics from "../../src/models/metrics_namespace.ts";
export * as callbacks from "../../src/models/callbacks_namespace.ts";
export * as initializers from "../../src/initializers.ts";
