/** The `wg.callbacks` namespace: Keras's earlyStopping and modelCheckpoint, and the callback types. */
export {
  Callback,
  type CustomCallbackArgs,
  EarlyStopping,
  earlyStopping,
  type EarlyStoppingArgs,
  History,
  type Logs,
  ModelCheckpoint,
  modelCheckpoint,
  type ModelCheckpointArgs,
  type TrainingParams,
} from "./callbacks.ts";
