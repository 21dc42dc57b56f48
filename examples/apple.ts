/**
 * Lesson: backpropagation on a computational graph, the lessons' apple
 * shopping: 2 apples at 100 each, with 10% tax, cost
 * price = apple · appleNum · tax = 100 · 2 · 1.1 = 220.
 * Backward from dprice = 1, each multiply node hands its upstream gradient to
 * each input times the *other* input: dApple = 2.2, dAppleNum = 110, dTax = 200.
 * First by hand with the lessons' MulLayer (forward and backward side by
 * side), then by the engine's tape with `wg.grads`: the same numbers.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run examples/apple.ts
 *
 * Needs no permissions. Exits 1 if a number differs from the lesson's.
 */
import * as wg from "../mod.ts";

/** The lessons' multiply node: forward keeps its inputs, backward swaps them. */
class MulLayer {
  x = 0;
  y = 0;
  forward(x: number, y: number): number {
    this.x = x;
    this.y = y;
    return x * y;
  }
  /** d(xy)/dx = y and d(xy)/dy = x, each times the upstream gradient dout. */
  backward(dout: number): [number, number] {
    return [dout * this.y, dout * this.x];
  }
}

const apple = 100, appleNum = 2, tax = 1.1;

// By hand: forward through the two nodes, then backward in reverse order.
const mulApple = new MulLayer(), mulTax = new MulLayer();
const handPrice = mulTax.forward(mulApple.forward(apple, appleNum), tax);
const [dApplePrice, handTax] = mulTax.backward(1);
const [handApple, handNum] = mulApple.backward(dApplePrice);

// By the engine: the tape records the two muls and replays them backwards.
const [price, dApple, dAppleNum, dTax] = await (async () => {
  const inputs = [wg.scalar(apple), wg.scalar(appleNum), wg.scalar(tax)];
  const { value, grads } = wg.valueAndGrads((a, n, t) => wg.mul(wg.mul(a, n), t))(inputs);
  const out = await Promise.all([value, ...grads].map(async (t) => (await t.data())[0]));
  for (const t of [...inputs, value, ...grads]) t.dispose();
  return out;
})();

const rows: [string, number, number, number][] = [
  ["price", handPrice, price, 220],
  ["dApple", handApple, dApple, 2.2],
  ["dAppleNum", handNum, dAppleNum, 110],
  ["dTax", handTax, dTax, 200],
];
let wrong = 0;
console.log("            by hand    autograd   lesson");
for (const [name, hand, auto, lesson] of rows) {
  // float32 on the GPU: 1.1 is 1.10000002384, so compare to a few parts in 10⁷.
  const ok = Math.abs(hand - lesson) < 1e-9 * lesson + 1e-12 &&
    Math.abs(auto - lesson) < 1e-6 * Math.abs(lesson) + 1e-6;
  if (!ok) wrong++;
  console.log(
    `${name.padEnd(10)} ${hand.toFixed(4).padStart(9)} ${auto.toFixed(4).padStart(10)} ${
      String(lesson).padStart(8)
    }${ok ? "" : "  WRONG"}`,
  );
}
if (wrong > 0) {
  console.error(`apple: ${wrong} value(s) differ from the lesson's`);
  Deno.exit(1);
}
