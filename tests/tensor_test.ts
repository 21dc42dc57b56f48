/**
 * Tensors: creation, readback, dtypes, random initializers, and the lifetime
 * rules (dispose, tidy, keep, variables) with the memory accounting behind them.
 */
import { assert, assertAlmostEquals, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import "./_helpers/gpu.ts";
import * as wg from "../mod.ts";

/** Mean and population standard deviation. */
function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

Deno.test("tensor: nested arrays infer the shape; data(), array(), shape, dtype, size, rank", async () => {
  const t = wg.tensor([[[1, 2, 3], [4, 5, 6]]]);
  assertEquals(t.shape, [1, 2, 3]);
  assertEquals(t.dtype, "float32");
  assertEquals(t.size, 6);
  assertEquals(t.rank, 3);
  assertEquals(await t.data(), new Float32Array([1, 2, 3, 4, 5, 6]));
  assertEquals(await t.array(), [[[1, 2, 3], [4, 5, 6]]]);
  const v = wg.tensor([0.5, -1.25]);
  assertEquals(v.shape, [2]);
  assertEquals(await v.array(), [0.5, -1.25]);
  const b = wg.tensor([true, false, true]);
  assertEquals(await b.data(), new Float32Array([1, 0, 1]));
  const e = wg.tensor([]);
  assertEquals(e.shape, [0]);
  assertEquals(await e.data(), new Float32Array(0));
  const e2 = wg.tensor([[], []]);
  assertEquals(e2.shape, [2, 0]);
  for (const x of [t, v, b, e, e2]) x.dispose();
});

Deno.test("tensor: a flat TypedArray with a shape; Int32Array gives int32", async () => {
  const f = wg.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
  assertEquals(f.shape, [3, 2]);
  assertEquals(f.dtype, "float32");
  assertEquals(await f.array(), [[1, 2], [3, 4], [5, 6]]);
  const i = wg.tensor(new Int32Array([7, -8, 9, 2 ** 30]), [2, 2]);
  assertEquals(i.dtype, "int32");
  const data = await i.data();
  assertInstanceOfInt32(data);
  assertEquals(data, new Int32Array([7, -8, 9, 2 ** 30])); // exact: not rounded through f32
  const flat = wg.tensor(new Float32Array([1, 2, 3]));
  assertEquals(flat.shape, [3]);
  for (const x of [f, i, flat]) x.dispose();
});

function assertInstanceOfInt32(data: Float32Array | Int32Array): asserts data is Int32Array {
  assert(data instanceof Int32Array, `expected Int32Array, got ${data.constructor.name}`);
}

Deno.test("tensor: int32 from nested arrays truncates; float32 keeps fractions", async () => {
  const i = wg.tensor([[1.9, -2.9], [3, 4]], undefined, "int32");
  assertEquals(i.dtype, "int32");
  assertEquals(await i.array(), [[1, -2], [3, 4]]);
  const f = wg.tensor([[1.9, -2.9]]);
  assertEquals(await f.data(), new Float32Array([1.9, -2.9]));
  i.dispose();
  f.dispose();
});

Deno.test("scalar: rank 0, array() is a number", async () => {
  const s = wg.scalar(3.5);
  assertEquals(s.shape, []);
  assertEquals(s.size, 1);
  assertEquals(await s.array(), 3.5);
  const n = wg.tensor(-2);
  assertEquals(n.shape, []);
  assertEquals(await n.data(), new Float32Array([-2]));
  const i = wg.scalar(-7, "int32");
  assertEquals(i.dtype, "int32");
  assertEquals(await i.array(), -7);
  for (const x of [s, n, i]) x.dispose();
});

Deno.test("zeros, ones, fill, zerosLike, onesLike", async () => {
  const z = wg.zeros([2, 3]);
  assertEquals(await z.array(), [[0, 0, 0], [0, 0, 0]]);
  const o = wg.ones([3], "int32");
  assertEquals(o.dtype, "int32");
  assertEquals(await o.data(), new Int32Array([1, 1, 1]));
  const f = wg.fill([2, 2], -1.5);
  assertEquals(await f.array(), [[-1.5, -1.5], [-1.5, -1.5]]);
  const fi = wg.fill([2], -3, "int32");
  assertEquals(await fi.data(), new Int32Array([-3, -3]));
  // Up to 1024 elements are uploaded, more filled by a kernel: both ways, both dtypes.
  for (const n of [1024, 1025]) {
    const big = wg.fill([n], 2.5), bigInt = wg.fill([n], -7, "int32");
    assertEquals(await big.data(), new Float32Array(n).fill(2.5));
    assertEquals(await bigInt.data(), new Int32Array(n).fill(-7));
    big.dispose();
    bigInt.dispose();
  }
  const zl = wg.zerosLike(f);
  const ol = wg.onesLike(fi);
  assertEquals(zl.shape, [2, 2]);
  assertEquals(await zl.data(), new Float32Array(4));
  assertEquals(ol.dtype, "int32");
  assertEquals(await ol.data(), new Int32Array([1, 1]));
  const empty = wg.zeros([0, 3]);
  assertEquals(empty.size, 0);
  assertEquals(await empty.data(), new Float32Array(0));
  for (const x of [z, o, f, fi, zl, ol, empty]) x.dispose();
});

Deno.test("randomNormal / randomUniform: a seed gives the same values, another seed others", async () => {
  const a = await wg.tidy(() => wg.randomNormal([64], 0, 1, 42)).data();
  const b = await wg.tidy(() => wg.randomNormal([64], 0, 1, 42)).data();
  const c = await wg.tidy(() => wg.randomNormal([64], 0, 1, 43)).data();
  assertEquals(a, b);
  assertNotEquals(a, c);
  const u1 = await wg.tidy(() => wg.randomUniform([64], 0, 1, 7)).data();
  const u2 = await wg.tidy(() => wg.randomUniform([64], 0, 1, 7)).data();
  const u3 = await wg.tidy(() => wg.randomUniform([64], 0, 1, 8)).data();
  assertEquals(u1, u2);
  assertNotEquals(u1, u3);
});

Deno.test("randomNormal / randomUniform: moments and range over 10k samples", async () => {
  const normal = wg.randomNormal([100, 100], 2, 3, 1);
  const uniform = wg.randomUniform([10_000], -1, 3, 2);
  assertEquals(normal.shape, [100, 100]);
  const n = moments(await normal.data());
  // Standard errors for 10k samples: mean ±0.03, std ±0.02; allow ~5 of them.
  assertAlmostEquals(n.mean, 2, 0.15);
  assertAlmostEquals(n.std, 3, 0.1);
  const data = await uniform.data();
  const u = moments(data);
  assertAlmostEquals(u.mean, 1, 0.06); // (min + max) / 2
  assertAlmostEquals(u.std, 4 / Math.sqrt(12), 0.04); // (max - min) / √12
  assert(data.every((v) => v >= -1 && v < 3), "uniform values lie in [minval, maxval)");
  normal.dispose();
  uniform.dispose();
});

Deno.test("dispose: frees bytes once, is idempotent, and marks the tensor", () => {
  const before = wg.memory();
  const t = wg.zeros([10]);
  assertEquals(wg.memory().numTensors, before.numTensors + 1);
  assertEquals(wg.memory().numBytes, before.numBytes + 40);
  t.dispose();
  t.dispose();
  assert(t.isDisposed);
  assertEquals(wg.memory().numTensors, before.numTensors);
  assertEquals(wg.memory().numBytes, before.numBytes);
});

Deno.test("memory: reshape views share bytes; the bytes go with the last view", () => {
  const before = wg.memory();
  const t = wg.zeros([4, 6]);
  const v = wg.reshape(t, [2, 12]);
  const w = wg.reshape(v, [-1]);
  assertEquals(w.shape, [24]);
  assertEquals(wg.memory().numTensors, before.numTensors + 3);
  assertEquals(wg.memory().numBytes, before.numBytes + 96);
  t.dispose();
  v.dispose();
  assertEquals(wg.memory().numBytes, before.numBytes + 96, "w still views the buffer");
  w.dispose();
  assertEquals(wg.memory().numTensors, before.numTensors);
  assertEquals(wg.memory().numBytes, before.numBytes);
});

Deno.test("tidy: disposes intermediates, keeps returned tensors (also in arrays and objects)", async () => {
  const before = wg.memory().numTensors;
  const x = wg.tensor([1, 2, 3]);
  let inner: wg.Tensor | undefined;
  const out = wg.tidy(() => {
    inner = wg.add(x, 1);
    const y = wg.mul(inner, 2);
    return { y, parts: [wg.neg(x), { deep: wg.square(x) }], label: "kept", n: 3 };
  });
  assert(inner!.isDisposed);
  assert(!x.isDisposed, "a tensor from outside the tidy survives");
  assertEquals(out.label, "kept");
  assertEquals(await out.y.data(), new Float32Array([4, 6, 8]));
  const [negX, { deep }] = out.parts as [wg.Tensor, { deep: wg.Tensor }];
  assertEquals(await negX.data(), new Float32Array([-1, -2, -3]));
  assertEquals(await deep.data(), new Float32Array([1, 4, 9]));
  // x, y, negX, deep; the intermediate, the scalars 1 and 2 are gone.
  assertEquals(wg.memory().numTensors, before + 4);
  for (const t of [x, out.y, negX, deep]) t.dispose();
  assertEquals(wg.memory().numTensors, before);
});

Deno.test("tidy: nested scopes hand returned tensors to the enclosing one", async () => {
  const before = wg.memory().numTensors;
  let fromInner: wg.Tensor | undefined;
  let innerTemp: wg.Tensor | undefined;
  const result = wg.tidy(() => {
    fromInner = wg.tidy(() => {
      innerTemp = wg.ones([2]);
      return wg.add(innerTemp, innerTemp);
    });
    assert(innerTemp!.isDisposed, "the inner tidy disposed its intermediate");
    assert(!fromInner.isDisposed, "the inner tidy's result lives on in the outer scope");
    return wg.mul(fromInner, 3);
  });
  assert(fromInner!.isDisposed, "the outer tidy disposed the inner result it did not return");
  assertEquals(await result.data(), new Float32Array([6, 6]));
  result.dispose();
  assertEquals(wg.memory().numTensors, before);
});

Deno.test("tidy: a throwing fn still disposes what it created", () => {
  const before = wg.memory();
  let made: wg.Tensor | undefined;
  assertThrows(
    () =>
      wg.tidy(() => {
        made = wg.ones([8]);
        wg.add(made, 1);
        throw new RangeError("boom");
      }),
    RangeError,
    "boom",
  );
  assert(made!.isDisposed);
  assertEquals(wg.memory().numTensors, before.numTensors);
  assertEquals(wg.memory().numBytes, before.numBytes);
});

Deno.test("tidy: returning a Promise is an error, and cleans up", () => {
  const before = wg.memory().numTensors;
  let made: wg.Tensor | undefined;
  const asyncFn = (async () => {
    made = wg.ones([2]);
    await Promise.resolve();
  }) as unknown as () => wg.Tensor;
  assertThrows(() => wg.tidy(asyncFn), TypeError, "returned a Promise");
  assert(made!.isDisposed);
  assertEquals(wg.memory().numTensors, before);
});

Deno.test("keep: a kept tensor survives its tidy", async () => {
  let kept: wg.Tensor | undefined;
  let temp: wg.Tensor | undefined;
  wg.tidy(() => {
    kept = wg.keep(wg.fill([2], 5));
    temp = wg.fill([2], 6);
  });
  assert(temp!.isDisposed);
  assert(!kept!.isDisposed);
  assertEquals(await kept!.data(), new Float32Array([5, 5]));
  kept!.dispose();
});

Deno.test("variable: name, trainable, assign, survives tidy, frees its name on dispose", async () => {
  const before = wg.memory();
  const v = wg.tidy(() => wg.variable(wg.tensor([1, 2, 3]), true, "tensor_test/w"));
  assertEquals(v.name, "tensor_test/w");
  assert(v.trainable);
  assertEquals(await v.data(), new Float32Array([1, 2, 3]));
  assertEquals(wg.memory().numTensors, before.numTensors + 1, "the initial tensor was disposed");
  assertEquals(wg.memory().numBytes, before.numBytes + 12);

  // assign inside a tidy: the value's buffer moves into v, the tidy's temporaries go.
  wg.tidy(() => v.assign(wg.mul(v, 10)));
  assert(!v.isDisposed, "tidy never disposes a variable");
  assertEquals(await v.data(), new Float32Array([10, 20, 30]));
  assertEquals(wg.memory().numTensors, before.numTensors + 1);
  assertEquals(wg.memory().numBytes, before.numBytes + 12);

  const frozen = wg.tidy(() => wg.variable(wg.zeros([2]), false, "tensor_test/frozen"));
  assert(!frozen.trainable);
  const auto = wg.variable(frozen);
  assert(auto.name.length > 0);
  assertNotEquals(auto.name, frozen.name);

  v.dispose();
  const again = wg.tidy(() => wg.variable(wg.zeros([1]), true, "tensor_test/w")); // the name is free again
  assertEquals(again.name, "tensor_test/w");
  for (const t of [frozen, auto, again]) t.dispose();
  assertEquals(wg.memory().numTensors, before.numTensors);
  assertEquals(wg.memory().numBytes, before.numBytes);
});

Deno.test("variable: a duplicate name and a misshapen or mistyped assign are errors", () => {
  const before = wg.memory().numTensors;
  const v = wg.tidy(() => wg.variable(wg.zeros([2, 3]), true, "tensor_test/dup"));
  wg.tidy(() => {
    const err = assertThrows(() => wg.variable(wg.zeros([1]), true, "tensor_test/dup"), Error);
    assert(err.message.includes("'tensor_test/dup'") && err.message.includes("already taken"), err.message);
    const shapeErr = assertThrows(() => v.assign(wg.zeros([3, 2])), wg.ShapeError);
    assert(shapeErr.message.includes("[2,3]") && shapeErr.message.includes("[3,2]"), shapeErr.message);
    assertThrows(() => v.assign(wg.zeros([2, 3], "int32")), wg.DTypeError, "int32");
    assertThrows(() => wg.variable(wg.zeros([1]), true, undefined, "int32"), wg.DTypeError);
  });
  assertEquals(wg.memory().numTensors, before + 1, "the failed variables left nothing behind");
  v.dispose();
  assertEquals(wg.memory().numTensors, before);
});
