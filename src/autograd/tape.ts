/**
 * The gradient tape. While a gradient is being asked for, every op whose
 * inputs depend on a watched tensor records a node: its inputs, its output and
 * a backward closure over views of the tensors it saved. `backprop` replays
 * the nodes in reverse, accumulating gradients by tensor id.
 */
import type { Tensor } from "../tensor.ts";

/** dx for each input of a node (null where the input gets no gradient). */
export type Backward = (dy: Tensor, saved: readonly Tensor[]) => readonly (Tensor | null)[];

interface TapeNode {
  inputIds: readonly number[];
  outputId: number;
  backward: Backward;
  /** Views of the saved tensors, alive until the backward pass has run. */
  saved: readonly Tensor[];
}

/** One gradient computation's record of ops. */
export class Tape {
  readonly nodes: TapeNode[] = [];
  readonly watched = new Set<number>();

  /** Marks tensors whose gradients are wanted. */
  watch(tensors: readonly Tensor[]): void {
    for (const t of tensors) this.watched.add(t.id);
  }

  /** Frees the saved views of every node (after backward, or when f threw). */
  release(): void {
    for (const node of this.nodes) for (const t of node.saved) t.dispose();
    this.nodes.length = 0;
  }
}

let active: Tape | null = null;

/** Runs `fn` with `tape` recording (and no tape while backward rules run). */
export function withTape<T>(tape: Tape | null, fn: () => T): T {
  const outer = active;
  active = tape;
  try {
    return fn();
  } finally {
    active = outer;
  }
}

/**
 * Whether the active tape will want a gradient through `t`. An op asks at
 * forward time, so its backward rule can skip an input nothing differentiates
 * (e.g. conv2d's input image: no col2im for the first layer).
 */
export function isWatched(t: Tensor): boolean {
  return active !== null && active.watched.has(t.id);
}

/**
 * Records `output = op(inputs)` if a tape is active and an input is watched.
 * `save` lists the tensors the backward rule reads; they are kept alive (as
 * views) until the backward pass, even if the caller disposes them. Returns
 * `output`, so an op can end with `return record(...)`.
 */
export function record(
  output: Tensor,
  inputs: readonly Tensor[],
  backward: Backward,
  save: readonly Tensor[] = inputs,
): Tensor {
  const tape = active;
  if (tape === null || output.dtype !== "float32") return output;
  if (!inputs.some((t) => tape.watched.has(t.id))) return output;
  tape.watched.add(output.id);
  tape.nodes.push({
    inputIds: inputs.map((t) => t.id),
    outputId: output.id,
    backward,
    saved: save.map((t) => t.view(t.shape, false)),
  });
  return output;
}

/**
 * Runs the backward pass from `dy` (the gradient of the result `y`) and
 * returns the accumulated gradient of every tensor id reached. `add` sums two
 * gradients of one tensor (used twice in the forward pass).
 */
export function backprop(
  tape: Tape,
  y: Tensor,
  dy: Tensor,
  add: (a: Tensor, b: Tensor) => Tensor,
): Map<number, Tensor> {
  const grads = new Map<number, Tensor>([[y.id, dy]]);
  withTape(null, () => {
    for (let n = tape.nodes.length - 1; n >= 0; n--) {
      const node = tape.nodes[n];
      const dOut = grads.get(node.outputId);
      if (dOut === undefined) continue;
      const dInputs = node.backward(dOut, node.saved);
      node.inputIds.forEach((id, i) => {
        const d = dInputs[i];
        if (d === null || d === undefined || !tape.watched.has(id)) return;
        const prev = grads.get(id);
        grads.set(id, prev === undefined ? d : add(prev, d));
      });
    }
  });
  return grads;
}
