/**
 * Gradient functions with TensorFlow.js semantics: grad, grads,
 * valueAndGrad, valueAndGrads, variableGrads. Each runs f with a tape, then
 * the backward pass, inside one tidy: only the value and the gradients
 * survive, and the activations the tape saved are freed.
 */
import { ShapeError } from "../errors.ts";
import { add } from "../ops/elementwise.ts";
import { onesLike } from "../ops/creation.ts";
import { formatShape, shapesEqual } from "../shape.ts";
import { registeredVariables, type Tensor, tidy, type Variable } from "../tensor.ts";
import { backprop, Tape, withTape } from "./tape.ts";

/** Runs f(xs) on a tape and returns y and dy/dx for each x (null where x does not reach y). */
function gradients(
  f: () => Tensor,
  xs: readonly Tensor[],
  dy: Tensor | undefined,
): { value: Tensor; grads: (Tensor | null)[] } {
  const tape = new Tape();
  tape.watch(xs);
  try {
    return tidy(() => {
      const value = withTape(tape, f);
      if (dy !== undefined && !shapesEqual(dy.shape, value.shape)) {
        throw new ShapeError(
          `gradients: dy ${formatShape(dy.shape)} must have the shape of f's result ${
            formatShape(value.shape)
          }`,
        );
      }
      const seed = dy ?? onesLike(value);
      const all = backprop(tape, value, seed, add);
      // NOTE: a rule may pass dy through unchanged (add, a same-shape sumTo), so two
      // inputs can get one Tensor object, or the caller's dy can come back as a
      // gradient. Each gets its own view, so disposing one leaves the others alive.
      const handedOut = new Set<Tensor>(dy === undefined ? [] : [dy]);
      const grads = xs.map((x) => {
        const g = all.get(x.id);
        if (g === undefined) return null;
        if (handedOut.has(g)) return g.view(g.shape);
        handedOut.add(g);
        return g;
      });
      return { value, grads: grads as Tensor[] };
    });
  } finally {
    tape.release();
  }
}

function requireAll(grads: (Tensor | null)[]): Tensor[] {
  if (grads.some((g) => g === null)) {
    throw new Error(
      "Cannot compute the gradient of y = f(x) with respect to x: make sure f encloses " +
        "all operations that lead from x to y",
    );
  }
  return grads as Tensor[];
}

// NOTE: each function below runs in a tidy, as in TensorFlow.js: what it does
// not return (the value for grad/grads; everything when requireAll throws) is
// disposed if it was created here, and left alone if f returned a tensor from
// outside (its input, a constant).

/**
 * Returns x ↦ df/dx for f of one tensor (dy defaults to ones).
 *
 * @param f A function of one tensor, returning a tensor (a scalar for a plain gradient; otherwise `dy` weights the outputs).
 * @returns A function `(x, dy?) => df/dx`, of x's shape; `dy` defaults to ones.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const dx = wg.grad((x) => wg.sum(wg.square(x)))(wg.tensor([1, 2, 3])); // d/dx Σx² = 2x
 * assertEquals(Array.from(await dx.data()), [2, 4, 6]);
 * ```
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  return (x, dy) => tidy(() => requireAll(gradients(() => f(x), [x], dy).grads)[0]);
}

/**
 * Returns xs ↦ [df/dx₀, df/dx₁, ...] for f of several tensors.
 *
 * @param f A function of several tensors, returning a tensor.
 * @returns A function `(xs, dy?) => [df/dx₀, df/dx₁, ...]`.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const [da, db] = wg.grads((a, b) => wg.sum(wg.mul(a, b)))([wg.tensor([2, 3]), wg.tensor([5, 7])]);
 * assertEquals(Array.from(await da.data()), [5, 7]); // d(a·b)/da = b
 * assertEquals(Array.from(await db.data()), [2, 3]);
 * ```
 */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: Tensor[], dy?: Tensor) => Tensor[] {
  return (xs, dy) => tidy(() => requireAll(gradients(() => f(...xs), xs, dy).grads));
}

/**
 * Like `grad`, but also returns f(x).
 *
 * @param f A function of one tensor, returning a tensor (a scalar for a plain gradient; otherwise `dy` weights the outputs).
 * @returns A function `(x, dy?) => { value, grad }`: f(x) and df/dx.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const { value, grad } = wg.valueAndGrad((x) => wg.sum(wg.square(x)))(wg.tensor([3, 4]));
 * assertEquals(Array.from(await value.data()), [25]);
 * assertEquals(Array.from(await grad.data()), [6, 8]);
 * ```
 */
export function valueAndGrad(
  f: (x: Tensor) => Tensor,
): (x: Tensor, dy?: Tensor) => { value: Tensor; grad: Tensor } {
  return (x, dy) =>
    tidy(() => {
      const { value, grads } = gradients(() => f(x), [x], dy);
      return { value, grad: requireAll(grads)[0] };
    });
}

/**
 * Like `grads`, but also returns f(xs).
 *
 * @param f A function of several tensors, returning a tensor.
 * @returns A function `(xs, dy?) => { value, grads }`: f(...xs) and its gradient for each input.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const f = (a: wg.Tensor, n: wg.Tensor) => wg.mul(a, n); // the price of n apples at a each
 * const { value, grads } = wg.valueAndGrads(f)([wg.scalar(100), wg.scalar(2)]);
 * assertEquals(Array.from(await value.data()), [200]);
 * assertEquals(Array.from(await grads[0].data()), [2]); // d/da = n
 * assertEquals(Array.from(await grads[1].data()), [100]); // d/dn = a
 * ```
 */
export function valueAndGrads(
  f: (...xs: Tensor[]) => Tensor,
): (xs: Tensor[], dy?: Tensor) => { value: Tensor; grads: Tensor[] } {
  return (xs, dy) =>
    tidy(() => {
      const { value, grads } = gradients(() => f(...xs), xs, dy);
      return { value, grads: requireAll(grads) };
    });
}

/**
 * Gradients of the scalar f() with respect to variables (all live ones by
 * default), keyed by variable name. As in TensorFlow.js, non-trainable
 * variables are skipped even when listed (so freezing a layer holds), and
 * variables f does not use are left out.
 *
 * @param f A function of no arguments that returns a scalar loss computed from variables.
 * @param variables The variables to differentiate by (default: every live one; non-trainable ones are skipped).
 * @returns `{ value, grads }`: the loss and, keyed by variable name, its gradient for each variable f used.
 *
 * @example
 * ```ts
 * import * as wg from "../../mod.ts";
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 *
 * const w = wg.variable(wg.tensor([1, -1]), true, "w_vg");
 * const { value, grads } = wg.variableGrads(() => wg.sum(wg.square(w)));
 * assertEquals(Array.from(await value.data()), [2]);
 * assertEquals(Array.from(await grads.w_vg.data()), [2, -2]);
 * w.dispose();
 * ```
 */
export function variableGrads(
  f: () => Tensor,
  variables: readonly Variable[] = registeredVariables(),
): { value: Tensor; grads: Record<string, Tensor> } {
  const varList = variables.filter((v) => v.trainable);
  return tidy(() => {
    const { value, grads } = gradients(
      () => {
        const y = f();
        if (y.rank !== 0) {
          throw new ShapeError(`variableGrads: f must return a scalar, got ${formatShape(y.shape)}`);
        }
        return y;
      },
      varList,
      undefined,
    );
    const named: Record<string, Tensor> = {};
    varList.forEach((v, i) => {
      if (grads[i] !== null) named[v.name] = grads[i]!;
    });
    if (Object.keys(named).length === 0) {
      throw new Error("variableGrads: no variable in the list is connected to the result of f");
    }
    return { value, grads: named };
  });
}
