/**
 * Bad input gives a typed error whose message says what was expected and what
 * came: shapes (both of them), dtypes, disposed tensors, out-of-range sparse
 * labels (checked on the GPU, reported at the next readback), ragged arrays,
 * reshapes and axes.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import "./_helpers/gpu.ts";
import * as wg from "../mod.ts";

/** Asserts `fn` throws `ErrorClass` and its message contains every fragment. */
function assertThrowsWith(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => Error,
  fragments: readonly string[],
): Error {
  const error = assertThrows(() => wg.tidy(() => void fn()), ErrorClass);
  for (const f of fragments) assert(error.message.includes(f), `'${f}' not in: ${error.message}`);
  return error;
}

Deno.test("shape mismatch: add, matMul and the losses name both shapes", () => {
  const a = wg.zeros([2, 3]);
  const b = wg.zeros([4, 5]);
  const c = wg.zeros([2, 4]);
  assertThrowsWith(() => wg.add(a, b), wg.ShapeError, ["add", "[2,3]", "[4,5]"]);
  assertThrowsWith(() => wg.mul(a, c), wg.ShapeError, ["mul", "[2,3]", "[2,4]"]);
  assertThrowsWith(() => wg.matMul(a, b), wg.ShapeError, ["matMul", "[2,3]", "[4,5]", "3 vs 4"]);
  assertThrowsWith(() => wg.matMul(a, c, false, true), wg.ShapeError, ["matMul", "[2,3]", "[2,4]ᵀ"]);
  assertThrowsWith(
    () => wg.losses.meanSquaredError(a, c),
    wg.ShapeError,
    ["meanSquaredError", "[2,3]", "[2,4]"],
  );
  assertThrowsWith(
    () => wg.losses.softmaxCrossEntropy(a, c),
    wg.ShapeError,
    ["softmaxCrossEntropy", "[2,3]", "[2,4]"],
  );
  const labels = wg.tensor([0, 1, 2], undefined, "int32");
  assertThrowsWith(
    () => wg.losses.sparseSoftmaxCrossEntropy(labels, a),
    wg.ShapeError,
    ["sparseSoftmaxCrossEntropy", "[3]", "[2,3]"],
  );
  for (const t of [a, b, c, labels]) t.dispose();
});

Deno.test("wrong dtype: int32 into exp, float32 labels into the sparse loss", () => {
  const i = wg.tensor([1, 2], undefined, "int32");
  assertThrowsWith(() => wg.exp(i), wg.DTypeError, ["exp", "float32", "int32", "[2]", "cast"]);
  const logits = wg.zeros([2, 10]);
  const floatLabels = wg.tensor([1, 2]);
  assertThrowsWith(
    () => wg.losses.sparseSoftmaxCrossEntropy(floatLabels, logits),
    wg.DTypeError,
    ["sparseSoftmaxCrossEntropy", "labels", "int32", "float32"],
  );
  for (const t of [i, logits, floatLabels]) t.dispose();
});

Deno.test("a disposed tensor: ops, readback and reshape throw DisposedTensorError", async () => {
  const t = wg.tensor([[1, 2], [3, 4]]);
  t.dispose();
  const e = assertThrowsWith(() => wg.add(t, 1), wg.DisposedTensorError, ["[2,2]", "disposed"]);
  assert(e.message.includes("keep"), "the message says how to keep a tensor alive");
  assertThrowsWith(() => wg.matMul(t, t), wg.DisposedTensorError, ["disposed"]);
  assertThrowsWith(() => wg.reshape(t, [4]), wg.DisposedTensorError, ["disposed"]);
  await assertRejects(() => t.data(), wg.DisposedTensorError);
  await assertRejects(() => t.array(), wg.DisposedTensorError);

  const inTidy = wg.tidy(() => {
    wg.ones([3]);
    return 1;
  });
  assertEquals(inTidy, 1);
  let escaped: wg.Tensor | undefined;
  wg.tidy(() => {
    escaped = wg.ones([3]); // not returned: disposed by the tidy
  });
  assertThrowsWith(() => wg.exp(escaped!), wg.DisposedTensorError, ["[3]"]);
});

Deno.test("sparse label out of range: GPUAssertionError at readback naming label, example, range; then recovery", async (t) => {
  const logits = wg.zeros([3, 10]);
  for (const [bad, row] of [[10, 1], [-1, 2]]) {
    await t.step(`label ${bad} at example ${row}`, async () => {
      const values = [0, 0, 0];
      values[row] = bad;
      const labels = wg.tensor(values, undefined, "int32");
      const loss = wg.losses.sparseSoftmaxCrossEntropy(labels, logits); // recorded, not yet run
      const error = await assertRejects(() => loss.data(), wg.GPUAssertionError);
      for (const f of [`label ${bad}`, `example ${row}`, "[0, 10)"]) {
        assert(error.message.includes(f), `'${f}' not in: ${error.message}`);
      }
      // The runtime recovers: the status is cleared and the next ops and readbacks work.
      const good = wg.tensor([0, 9, 3], undefined, "int32");
      const ok = wg.losses.sparseSoftmaxCrossEntropy(good, logits);
      const [value] = await ok.data();
      assert(Math.abs(value - Math.log(10)) < 1e-5, `uniform logits give log(10), got ${value}`);
      const sum = wg.add(wg.ones([2]), 1);
      assertEquals(await sum.data(), new Float32Array([2, 2]));
      for (const x of [labels, loss, good, ok, sum]) x.dispose();
    });
  }
  logits.dispose();
});

Deno.test("a failed label check is reported even when another tensor is read back", async () => {
  const logits = wg.zeros([2, 4]);
  const labels = wg.tensor([4, 0], undefined, "int32");
  const loss = wg.losses.sparseSoftmaxCrossEntropy(labels, logits);
  const unrelated = wg.ones([1]);
  const error = await assertRejects(() => unrelated.data(), wg.GPUAssertionError);
  assert(error.message.includes("label 4 of example 0 is out of range [0, 4)"), error.message);
  assertEquals(await unrelated.data(), new Float32Array([1]), "reported once, then cleared");
  for (const x of [logits, labels, loss, unrelated]) x.dispose();
});

Deno.test("ragged nested arrays are a ShapeError naming the two shapes", () => {
  assertThrowsWith(() => wg.tensor([[1, 2], [3]]), wg.ShapeError, ["ragged", "[1]", "[2]"]);
  assertThrowsWith(() => wg.tensor([[1, 2], 3]), wg.ShapeError, ["ragged"]);
  assertThrowsWith(() => wg.tensor([1, [2, 3]]), wg.ShapeError, ["ragged"]);
  assertThrowsWith(() => wg.tensor([[1, 2], [3, [4]]]), wg.ShapeError, ["ragged"]);
  assertThrowsWith(() => wg.tensor([[[1], [2]], [[3], [4, 5]]]), wg.ShapeError, ["ragged"]);
  assertThrowsWith(() => wg.tensor([1, 2, 3], [2, 2]), wg.ShapeError, ["3 values", "[2,2]"]);
});

Deno.test("reshape to an incompatible shape names both shapes", () => {
  const x = wg.zeros([2, 3]);
  assertThrowsWith(() => wg.reshape(x, [4, 2]), wg.ShapeError, ["reshape", "[2,3]", "[4,2]", "6 elements"]);
  assertThrowsWith(() => wg.reshape(x, [-1, 4]), wg.ShapeError, ["reshape", "[2,3]", "[-1,4]"]);
  assertThrowsWith(() => wg.reshape(x, [-1, -1]), wg.ShapeError, ["reshape"]);
  assertThrowsWith(() => wg.reshape(x, [2.5, 2]), wg.ShapeError, ["reshape"]);
  x.dispose();
});

Deno.test("an invalid axis names the axis and the rank", () => {
  const x = wg.zeros([2, 3]);
  assertThrowsWith(() => wg.sum(x, 2), wg.ShapeError, ["sum", "axis 2", "rank-2"]);
  assertThrowsWith(() => wg.mean(x, -3), wg.ShapeError, ["mean", "axis -3", "rank-2"]);
  assertThrowsWith(() => wg.max(x, [0, 5]), wg.ShapeError, ["max", "axis 5"]);
  assertThrowsWith(() => wg.sum(x, 0.5), wg.ShapeError, ["axis 0.5"]);
  assertThrowsWith(() => wg.argMax(x, 2), wg.ShapeError, ["argMax", "axis 2", "rank-2"]);
  assertThrowsWith(() => wg.softmax(x, 0), wg.ShapeError, ["softmax", "axis 0", "last axis"]);
  assertThrowsWith(() => wg.transpose(x, [0, 0]), wg.ShapeError, ["transpose", "[2,3]"]);
  x.dispose();
});
