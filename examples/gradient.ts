/**
 * Lesson: derivatives two ways. The numerical derivative is a central
 * difference, (f(x + h) - f(x - h)) / 2h, computed here in float64 on the
 * CPU as the numpy lessons do; the engine's autograd gets the same gradient
 * exactly, from the tape of ops it recorded, in one backward pass. Then
 * gradient descent, x ← x - η·∇f(x), walks f(x0, x1) = x0² + x1² from
 * (-3, 4) down to its minimum at (0, 0), printed side by side with the
 * numerical gradient at each reported step.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run examples/gradient.ts
 *
 * Needs no permissions. Exits 1 if the two gradients disagree or descent misses (0, 0).
 */
import * as wg from "../mod.ts";

const H = 1e-4; // the lessons' h: small, but not so small that rounding swamps the difference

/** Central difference of f: R → R at x. */
function numericalDiff(f: (x: number) => number, x: number): number {
  return (f(x + H) - f(x - H)) / (2 * H);
}

/** Central differences of f: Rⁿ → R at x, one coordinate at a time. */
function numericalGradient(f: (x: number[]) => number, x: number[]): number[] {
  return x.map((_, i) => {
    const plus = x.slice(), minus = x.slice();
    plus[i] += H;
    minus[i] -= H;
    return (f(plus) - f(minus)) / (2 * H);
  });
}

let bad = 0;
const check = (what: string, got: number, want: number, tol: number) => {
  const ok = Math.abs(got - want) <= tol;
  if (!ok) bad++;
  return ok ? "" : `  <- ${what} differs`;
};

// 1. f(x) = 0.01x² + 0.1x; f'(x) = 0.02x + 0.1, so 0.2 at x = 5 and 0.3 at x = 10.
console.log("f(x) = 0.01x² + 0.1x     numerical   autograd   exact");
for (const x0 of [5, 10]) {
  const numerical = numericalDiff((x) => 0.01 * x * x + 0.1 * x, x0);
  const dx = wg.tidy(() => wg.grad((x) => wg.add(wg.mul(wg.square(x), 0.01), wg.mul(x, 0.1)))(wg.scalar(x0)));
  const autograd = (await dx.data())[0];
  dx.dispose();
  const exact = 0.02 * x0 + 0.1;
  console.log(
    `  x = ${String(x0).padEnd(2)}                  ${numerical.toFixed(6)}    ${autograd.toFixed(6)}   ${
      exact.toFixed(6)
    }` +
      check("autograd", autograd, exact, 1e-5) + check("numerical", numerical, exact, 1e-6),
  );
}

// 2. Gradient descent on f(x0, x1) = x0² + x1², gradient (2x0, 2x1).
const f2 = (x: number[]) => x[0] ** 2 + x[1] ** 2;
const LR = 0.1, STEPS = 100;
const x = wg.variable(wg.tensor([-3, 4]), true, "x"); // [2]
console.log(`\ngradient descent on x0² + x1² from (-3, 4), η = ${LR}`);
console.log("step   x0        x1        autograd ∇f           numerical ∇f");
for (let step = 0; step <= STEPS; step++) {
  const report = step % 20 === 0;
  const dx = wg.tidy(() => wg.grad((v) => wg.sum(wg.square(v)))(x)); // ∇f = 2x
  if (report) {
    const xs = Array.from(await x.data());
    const g = Array.from(await dx.data());
    const n = numericalGradient(f2, xs);
    console.log(
      `${String(step).padStart(4)}  ${xs.map((v) => v.toFixed(5).padStart(8)).join("  ")}   ` +
        `(${g.map((v) => v.toFixed(5)).join(", ")})   (${n.map((v) => v.toFixed(5)).join(", ")})` +
        check("∇f", g[0], n[0], 1e-3 * (1 + Math.abs(n[0]))) +
        check("∇f", g[1], n[1], 1e-3 * (1 + Math.abs(n[1]))),
    );
  }
  if (step < STEPS) wg.tidy(() => x.assign(wg.sub(x, wg.mul(dx, LR)))); // x ← x - η∇f(x)
  dx.dispose();
}
const [x0, x1] = await x.data();
console.log(`minimum found at (${x0.toExponential(2)}, ${x1.toExponential(2)}); the true one is (0, 0)`);
x.dispose();
if (Math.hypot(x0, x1) > 1e-3) bad++;
if (bad > 0) {
  console.error(`gradient: ${bad} check(s) failed`);
  Deno.exit(1);
}
