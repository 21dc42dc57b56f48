/**
 * Lesson: XOR from gates. One perceptron draws one straight line, and no line
 * separates XOR's 1s from its 0s. Two layers of perceptrons do it:
 * XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2)). The weights are the lessons'
 * hand-picked ones; every gate is step(x·w + b) on the GPU, all 4 inputs at once.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run examples/gates_xor.ts
 *
 * Needs no permissions. Exits 1 if a row of the truth table is wrong.
 */
import * as wg from "../mod.ts";

/** A perceptron with fixed weights: x [N, 2] → step(x·w + b) [N, 1]. */
function gate(w: [number, number], b: number) {
  return (x: wg.Tensor) => wg.step(wg.add(wg.matMul(x, wg.tensor([[w[0]], [w[1]]])), b));
}
const AND = gate([0.5, 0.5], -0.7);
const NAND = gate([-0.5, -0.5], 0.7);
const OR = gate([0.5, 0.5], -0.2);
/**
 * The second layer takes the first layer's two outputs side by side, [N, 2]:
 * s1 = NAND(x) in column 0, s2 = OR(x) in column 1 (each [N, 1] times a [1, 2] selector row).
 */
function XOR(x: wg.Tensor): wg.Tensor {
  const s = wg.add(wg.matMul(NAND(x), wg.tensor([[1, 0]])), wg.matMul(OR(x), wg.tensor([[0, 1]])));
  return AND(s);
}

const X = [[0, 0], [0, 1], [1, 0], [1, 1]];
const table = wg.tidy(() => {
  const x = wg.tensor(X);
  return [NAND(x), OR(x), XOR(x)];
});
const [nand, or, xor] = await Promise.all(table.map((t) => t.data()));
table.forEach((t) => t.dispose());

let wrong = 0;
console.log("x1 x2 | NAND OR | XOR");
X.forEach(([x1, x2], i) => {
  const ok = xor[i] === (x1 ^ x2);
  if (!ok) wrong++;
  console.log(` ${x1}  ${x2} |   ${nand[i]}   ${or[i]} |  ${xor[i]}${ok ? "" : "  WRONG"}`);
});
if (wrong > 0) {
  console.error(`gates_xor: ${wrong} row(s) wrong`);
  Deno.exit(1);
}
