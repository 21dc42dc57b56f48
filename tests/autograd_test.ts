/**
 * Autograd semantics, as in TensorFlow.js: grad, grads, valueAndGrad(s),
 * variableGrads; accumulation, broadcasting undone, custom dy, disconnected
 * inputs; and that the tape frees every activation it saved.
 */
import { assert, assertAlmostEquals, assertEquals, assertNotStrictEquals, assertThrows } from "@std/assert";
import "./_helpers/gpu.ts";
import * as wg from "../mod.ts";

/** Asserts two float arrays agree to `tol` elementwise. */
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  assertEquals(got.length, want.length, "length");
  for (let i = 0; i < want.length; i++) {
    assert(Math.abs(got[i] - want[i]) <= tol, `element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

Deno.test("grad: d/dx Σx² = 2x, in x's shape", async () => {
  const x = wg.tensor([[1, -2], [3, 0.5]]);
  const g = wg.grad((x) => wg.sum(wg.square(x)))(x);
  assertEquals(g.shape, [2, 2]);
  assertClose(await g.data(), [2, -4, 6, 1]);
  x.dispose();
  g.dispose();
});

Deno.test("grads: one gradient per input, of f(a, b) = Σ a·b", async () => {
  const a = wg.tensor([1, 2, 3]);
  const b = wg.tensor([4, 5, 6]);
  const [da, db] = wg.grads((a, b) => wg.sum(wg.mul(a, b)))([a, b]);
  assertClose(await da.data(), [4, 5, 6]);
  assertClose(await db.data(), [1, 2, 3]);
  for (const t of [a, b, da, db]) t.dispose();
});

Deno.test("valueAndGrad / valueAndGrads: f's value and the gradients", async () => {
  const x = wg.tensor([1, 2, 3]);
  const { value, grad } = wg.valueAndGrad((x) => wg.mean(wg.square(x)))(x);
  assertAlmostEquals((await value.array()) as number, 14 / 3, 1e-5);
  assertClose(await grad.data(), [2 / 3, 4 / 3, 2]);

  // f(r, W) = Σ r·W for a row r [1,2] and W [2,3]: dr = W·1 (row sums), dW = rᵀ·1.
  const r = wg.tensor([[1, 2]]);
  const w = wg.tensor([[1, 2, 3], [4, 5, 6]]);
  const both = wg.valueAndGrads((r, w) => wg.sum(wg.matMul(r, w)))([r, w]);
  assertAlmostEquals((await both.value.array()) as number, 9 + 12 + 15, 1e-4);
  assertEquals(both.grads.map((g) => g.shape), [[1, 2], [2, 3]]);
  assertClose(await both.grads[0].data(), [6, 15]);
  assertClose(await both.grads[1].data(), [1, 1, 1, 2, 2, 2]);
  for (const t of [x, value, grad, r, w, both.value, ...both.grads]) t.dispose();
});

Deno.test("gradients accumulate over every use: f(x) = x·x + x gives 2x + 1", async () => {
  const x = wg.tensor([-1, 0, 2.5]);
  const g = wg.grad((x) => wg.sum(wg.add(wg.mul(x, x), x)))(x);
  assertClose(await g.data(), [-1, 1, 6]);
  // The same input passed twice to one op, and reached along two paths of different length.
  const h = wg.grad((x) => wg.sum(wg.mul(wg.exp(x), wg.add(x, x))))(x); // d/dx 2x·eˣ = 2eˣ(1 + x)
  assertClose(await h.data(), [-1, 0, 2.5].map((v) => 2 * Math.exp(v) * (1 + v)), 1e-4);
  for (const t of [x, g, h]) t.dispose();
});

Deno.test("broadcasting is undone in backward: gradients have the operands' shapes", async () => {
  const a = wg.tensor([[1], [2], [3]]); // [3,1]
  const b = wg.tensor([[10, 20, 30, 40]]); // [1,4]
  const [da, db] = wg.grads((a, b) => wg.sum(wg.add(a, b)))([a, b]);
  assertEquals(da.shape, [3, 1]);
  assertEquals(db.shape, [1, 4]);
  assertClose(await da.data(), [4, 4, 4]);
  assertClose(await db.data(), [3, 3, 3, 3]);
  // Σ a·b: da_i = Σ_j b_j, db_j = Σ_i a_i; and a rank-1 operand against a rank-2 one.
  const [ma, mb] = wg.grads((a, b) => wg.sum(wg.mul(a, b)))([a, b]);
  assertClose(await ma.data(), [100, 100, 100]);
  assertClose(await mb.data(), [6, 6, 6, 6]);
  const v = wg.tensor([1, 2, 3, 4]); // [4] against [3,4]
  const m = wg.ones([3, 4]);
  const [dv] = wg.grads((v, m) => wg.sum(wg.sub(m, v)))([v, m]);
  assertEquals(dv.shape, [4]);
  assertClose(await dv.data(), [-3, -3, -3, -3]);
  for (const t of [a, b, da, db, ma, mb, v, m, dv]) t.dispose();
});

Deno.test("a custom dy seeds the backward pass; a misshapen dy is a ShapeError", async () => {
  const x = wg.tensor([1, 2, 3]);
  const dy = wg.tensor([1, 10, 100]);
  const g = wg.grad((x) => wg.mul(wg.square(x), 0.5))(x, dy); // d(x²/2) = x·dy
  assertClose(await g.data(), [1, 20, 300]);
  const { value, grads } = wg.valueAndGrads((x) => wg.exp(x))([x], dy);
  assertClose(await value.data(), [1, 2, 3].map(Math.exp), 1e-4);
  assertClose(await grads[0].data(), [1, 2, 3].map((v, i) => Math.exp(v) * [1, 10, 100][i]), 1e-3);
  const bad = wg.tensor([1, 2]);
  const before = wg.memory().numTensors;
  const error = assertThrows(() => wg.grad((x) => wg.exp(x))(x, bad), wg.ShapeError);
  assert(error.message.includes("[2]") && error.message.includes("[3]"), error.message);
  assertEquals(wg.memory().numTensors, before, "nothing leaks from the failed call");
  assert(!x.isDisposed && !dy.isDisposed && !bad.isDisposed);
  for (const t of [x, dy, g, value, ...grads, bad]) t.dispose();
});

Deno.test("an input that does not reach the result: a clear error, nothing disposed or leaked", () => {
  const a = wg.tensor([1, 2]);
  const b = wg.tensor([3, 4]);
  const c = wg.tensor(5); // a constant f returns as is
  const before = wg.memory();
  const message = "Cannot compute the gradient of y = f(x) with respect to x";
  assertThrows(() => wg.grads((a, _b) => wg.sum(a))([a, b]), Error, message);
  assertThrows(() => wg.grad((_x) => wg.sum(b))(a), Error, message);
  assertThrows(() => wg.grad((_x) => c)(a), Error, message);
  assertThrows(() => wg.valueAndGrad((_x) => c)(a), Error, message);
  assert(!a.isDisposed && !b.isDisposed);
  assert(!c.isDisposed, "grad must not dispose a tensor f returned but did not create");
  assertEquals(wg.memory().numTensors, before.numTensors);
  assertEquals(wg.memory().numBytes, before.numBytes);
  for (const t of [a, b, c]) t.dispose();
});

Deno.test("f returning its input: grad is ones and the input survives", async () => {
  const x = wg.tensor([1, 2]);
  const g = wg.grad((x) => x)(x);
  assert(!x.isDisposed, "grad disposed its own input");
  assertEquals(await g.data(), new Float32Array([1, 1]));
  assertEquals(await x.data(), new Float32Array([1, 2]));
  x.dispose();
  g.dispose();
});

Deno.test("gradients are distinct tensors even when a rule passes dy through", async () => {
  // add's rule hands dy to both inputs unchanged; the caller must still own two tensors.
  const a = wg.tensor([1, 2]);
  const b = wg.tensor([3, 4]);
  const before = wg.memory().numTensors;
  const [da, db] = wg.grads((a, b) => wg.add(a, b))([a, b]);
  assertNotStrictEquals(da, db);
  assertEquals(wg.memory().numTensors, before + 2);
  da.dispose();
  assertEquals(await db.data(), new Float32Array([1, 1]), "disposing da leaves db alive");
  db.dispose();
  // A custom dy passed straight through is not handed back as the gradient itself.
  const dy = wg.tensor([5, 6]);
  const g = wg.grad((x) => wg.reshape(x, [2]))(a, dy);
  assertEquals(await g.data(), new Float32Array([5, 6]));
  g.dispose();
  assert(!dy.isDisposed, "disposing the gradient left the caller's dy alone");
  assertEquals(await dy.data(), new Float32Array([5, 6]));
  assertEquals(wg.memory().numTensors, before + 1);
  for (const t of [a, b, dy]) t.dispose();
});

Deno.test("variableGrads: all trainable variables by default, keyed by name", async () => {
  const w = wg.tidy(() => wg.variable(wg.tensor([1, 2]), true, "ag/w"));
  const s = wg.tidy(() => wg.variable(wg.tensor([3, 4]), true, "ag/s"));
  const frozen = wg.tidy(() => wg.variable(wg.tensor([5, 6]), false, "ag/frozen"));
  const unused = wg.tidy(() => wg.variable(wg.tensor([7]), true, "ag/unused"));
  // f = Σ w·s·frozen: dw = s·frozen, ds = w·frozen; frozen and unused get none.
  const f = () => wg.sum(wg.mul(wg.mul(w, s), frozen));
  const { value, grads } = wg.variableGrads(f);
  assertAlmostEquals((await value.array()) as number, 15 + 48, 1e-4);
  assertEquals(Object.keys(grads).sort(), ["ag/s", "ag/w"]);
  assertClose(await grads["ag/w"].data(), [15, 24]);
  assertClose(await grads["ag/s"].data(), [5, 12]);

  // An explicit list: only those.
  const only = wg.variableGrads(f, [s]);
  assertEquals(Object.keys(only.grads), ["ag/s"]);
  assertClose(await only.grads["ag/s"].data(), [5, 12]);

  for (const t of [value, ...Object.values(grads), only.value, ...Object.values(only.grads)]) t.dispose();
  for (const v of [w, s, frozen, unused]) v.dispose();
});

Deno.test("variableGrads: f must return a scalar; some variable must be connected", () => {
  const w = wg.tidy(() => wg.variable(wg.tensor([1, 2]), true, "ag/w2"));
  const before = wg.memory();
  const error = assertThrows(() => wg.variableGrads(() => wg.mul(w, 2)), wg.ShapeError);
  assert(error.message.includes("scalar") && error.message.includes("[2]"), error.message);
  const other = wg.tensor([1]);
  assertThrows(() => wg.variableGrads(() => wg.sum(other), [w]), Error, "no variable");
  assertEquals(wg.memory().numTensors, before.numTensors + 1); // just `other`
  other.dispose();
  assertEquals(wg.memory().numBytes, before.numBytes);
  w.dispose();
});

Deno.test("the tape frees what it saved: after grads() only the value and the gradients remain", async () => {
  const x = wg.randomNormal([8, 5], 0, 1, 3);
  const w = wg.randomNormal([5, 4], 0, 1, 4);
  const bias = wg.randomNormal([4], 0, 1, 5);
  const labels = wg.tensor([0, 1, 2, 3, 0, 1, 2, 3], undefined, "int32");
  // An MLP-like f whose ops save activations (matMul, relu, exp, softmax CE) and a tidy inside f.
  const f = (x: wg.Tensor, w: wg.Tensor, bias: wg.Tensor) => {
    const h = wg.tidy(() => wg.relu(wg.add(wg.matMul(x, w), bias)));
    const z = wg.mul(wg.tanh(h), wg.exp(wg.neg(wg.square(h))));
    return wg.add(wg.losses.sparseSoftmaxCrossEntropy(labels, z), wg.mean(wg.sigmoid(h)));
  };
  const before = wg.memory();

  const gs = wg.grads(f)([x, w, bias]);
  assertEquals(wg.memory().numTensors, before.numTensors + 3);
  assertEquals(wg.memory().numBytes, before.numBytes + 4 * (40 + 20 + 4));
  for (const g of gs) g.dispose();

  const vg = wg.valueAndGrads(f)([x, w, bias]);
  assertEquals(wg.memory().numTensors, before.numTensors + 4);
  assertEquals(wg.memory().numBytes, before.numBytes + 4 * (1 + 40 + 20 + 4));
  assert(Number.isFinite((await vg.value.array()) as number));
  for (const t of [vg.value, ...vg.grads]) t.dispose();

  // f throws after recording (and saving) half its ops: still nothing left over.
  assertThrows(
    () =>
      wg.grads((x, w) => {
        wg.relu(wg.matMul(x, w));
        throw new RangeError("f failed");
      })([x, w]),
    RangeError,
    "f failed",
  );
  // A failure inside backward-shape checks (a dy of the wrong shape) likewise.
  const dy = wg.ones([3]);
  assertThrows(() => wg.grads(f)([x, w, bias], dy), wg.ShapeError);
  dy.dispose();
  assertEquals(wg.memory().numTensors, before.numTensors);
  assertEquals(wg.memory().numBytes, before.numBytes);
  for (const t of [x, w, bias, labels]) t.dispose();
});
