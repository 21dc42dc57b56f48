/** The `wg.callbacks` namespace: Keras's earlyStopping, learningRateScheduler and modelCheckpoint, and the callback types. */
export {
  Callback,
  type CustomCallbackArgs,
  EarlyStopping,
  earlyStopping,
  type EarlyStoppingArgs,
  History,
  LearningRateScheduler,
  learningRateScheduler,
  type Logs,
  ModelCheckpoint,
  modelCheckpoint,
  type ModelCheckpointArgs,
  type TrainingParams,
} from "./callbacks.ts";
