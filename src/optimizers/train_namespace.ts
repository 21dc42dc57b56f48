/** What `wg.train` holds: the optimizer factories and the Optimizer class. */
export { adagrad, adam, momentum, rmsprop, sgd } from "./train.ts";
export { type NamedTensor, Optimizer, type OptimizerConfig } from "./optimizer.ts";
