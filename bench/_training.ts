/**
 * The training workloads the benches share: the 784-128-10 MLP and the Keras
 * MNIST CNN (conv32 3x3 relu - maxPool 2 - conv64 3x3 relu - maxPool 2 -
 * flatten - dropout 0.5 - dense10, softmax cross-entropy), on a random batch,
 * trained with Adam (lr 0.001). Each conv layer and its pool run as one op,
 * as a Sequential model runs them (src/ops/conv_pool.ts).
 */
import { variableGrads } from "../src/autograd/gradients.ts";
import { tune } from "../src/gpu/autotune.ts";
import { randomUniform, tensor, variable, zeros } from "../src/ops/creation.ts";
import { fusedConv2dMaxPool } from "../src/ops/conv_pool.ts";
import { dropout } from "../src/ops/dropout.ts";
import { softmaxCrossEntropy } from "../src/ops/losses.ts";
import { fusedMatMul } from "../src/ops/matmul.ts";
import { oneHot, reshape } from "../src/ops/transform.ts";
import { adam } from "../src/optimizers/train.ts";
import { Random } from "../src/random.ts";
import { type Tensor, tidy, type Variable } from "../src/tensor.ts";

/** The models of the training rows. */
export type PeerModel = "mlp" | "cnn";

const glorot = (shape: number[], fanIn: number, fanOut: number, seed: number) =>
  randomUniform(shape, -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), seed);

/** Parameters and loss of one batch of the MLP (784-128 relu-10) or the Keras MNIST CNN . */
export function build(
  model: PeerModel,
  batch: number,
): { params: Variable[]; loss: (x: Tensor, y: Tensor) => Tensor } {
  const name = `peer_${model}_${batch}_`;
  if (model === "mlp") {
    const params = [
      variable(glorot([784, 128], 784, 128, 2), true, `${name}w1`),
      variable(zeros([128]), true, `${name}b1`),
      variable(glorot([128, 10], 128, 10, 3), true, `${name}w2`),
      variable(zeros([10]), true, `${name}b2`),
    ];
    const [w1, b1, w2, b2] = params;
    return {
      params,
      loss: (x, y) => {
        const h = fusedMatMul({ a: x, b: w1, bias: b1, activation: "relu" });
        return softmaxCrossEntropy(y, fusedMatMul({ a: h, b: w2, bias: b2 }));
      },
    };
  }
  const params = [
    variable(glorot([3, 3, 1, 32], 9, 288, 2), true, `${name}w1`),
    variable(zeros([32]), true, `${name}b1`),
    variable(glorot([3, 3, 32, 64], 288, 576, 3), true, `${name}w2`),
    variable(zeros([64]), true, `${name}b2`),
    variable(glorot([1600, 10], 1600, 10, 4), true, `${name}w3`),
    variable(zeros([10]), true, `${name}b3`),
  ];
  const [w1, b1, w2, b2, w3, b3] = params;
  return {
    params,
    loss: (x, y) => {
      const p1 = fusedConv2dMaxPool({
        x,
        filter: w1,
        strides: 1,
        pad: "valid",
        bias: b1,
        activation: "relu",
        poolSize: 2,
      });
      const p2 = fusedConv2dMaxPool({
        x: p1,
        filter: w2,
        strides: 1,
        pad: "valid",
        bias: b2,
        activation: "relu",
        poolSize: 2,
      });
      const flat = dropout(reshape(p2, [batch, 5 * 5 * 64]), 0.5);
      return softmaxCrossEntropy(y, fusedMatMul({ a: flat, b: w3, bias: b3 }));
    },
  };
}

/** A model on a random batch and its Adam step, ready to time (see `adamTraining`). */
export interface AdamTraining {
  /** Forward, backward and the Adam update: records one submit, returns the loss (not read back). */
  step: () => Tensor;
  /** Frees the batch, the parameters and the optimizer. */
  dispose: () => void;
}

/**
 * The model's Adam step on a random batch of `batch` examples, after one step
 * and `tune()` (as `fit` does: the first step names the products to tune) and
 * `warmup - 1` more steps.
 */
export async function adamTraining(model: PeerModel, batch: number, warmup: number): Promise<AdamTraining> {
  const random = new Random(7);
  const x = randomUniform(model === "mlp" ? [batch, 784] : [batch, 28, 28, 1], 0, 1, 1);
  const labels = tensor(Int32Array.from({ length: batch }, () => random.int(10)), [batch], "int32");
  const y = oneHot(labels, 10);
  const { params, loss } = build(model, batch);
  const optimizer = adam(0.001);
  const step = () =>
    tidy(() => {
      const { value, grads } = variableGrads(() => loss(x, y), params);
      optimizer.applyGradients(grads); // the step's one submit
      return value;
    });
  step().dispose();
  await tune();
  for (let i = 1; i < warmup; i++) step().dispose();
  return {
    step,
    dispose: () => {
      for (const t of [x, labels, y, ...params]) t.dispose();
      optimizer.dispose();
    },
  };
}
