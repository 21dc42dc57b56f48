/**
 * `checkOp(spec)`: the two oracles of every op test. fast-check draws cases;
 * for each, the GPU forward is compared with the float64 reference, and the
 * GPU vector-Jacobian product (wg.valueAndGrads with a random cotangent c) with
 * central differences of the reference, element by element. Ops linear in an
 * input can also be cross-checked against central differences of the GPU
 * forward itself along a random direction. Every case also checks that no
 * tensor leaked.
 *
 * ```ts
 * Deno.test("square", () =>
 *   checkOp<null>({
 *     name: "square",
 *     cases: fc.tuple(shape(0, 4), fc.integer()).map(([s, seed]) =>
 *       described({ xs: [fill(s, uniform(-8, 8), new Random(seed))], params: null, seed })
 *     ),
 *     gpu: ([x]) => wg.square(x),
 *     ref: ([x]) => unary("square", x),
 *     forwardTol: relTol(1), // x·x: one rounding (every tolerance says why)
 *     gradTol: magTol(1), // 2x·dy: one rounding
 *   }));
 * ```
 *
 * A failure names the op, the part (forward, d/dx<k>, the GPU central
 * difference), the worst element's coordinates, got, want and the tolerance,
 * and the case (shapes, params, value seed); fast-check adds its seed and
 * path. Replay one with FC_SEED=<seed> FC_PATH=<path> deno task test --filter '<test name>'.
 */
import fc from "fast-check";
import * as wg from "../../mod.ts";
import type { Tensor } from "../../mod.ts";
import { type Arr, fsum, Sum, unravel } from "../_reference/array.ts";
import { Random } from "./arbitrary.ts";
import "./gpu.ts";

/** float32 unit roundoff: a correctly rounded result is within U·|exact| of it. */
export const U = 2 ** -24;
/**
 * The smallest normal float32. WGSL lets an implementation flush subnormal
 * values to zero, an error below this, so every comparison allows it.
 */
export const FLUSH = 2 ** -126;

/** One drawn case: inputs (float32-exact), the op's parameters, and the seed of c and t. */
export interface Case<P> {
  xs: Arr[];
  params: P;
  seed: number;
}

/** What a forward tolerance sees. */
export interface ForwardContext<P> {
  case: Case<P>;
  /** The float64 reference output. */
  want: Arr;
}

/** What a gradient tolerance sees, for input `input` and the elements `index` checked. */
export interface GradContext<P> extends ForwardContext<P> {
  input: number;
  cotangent: Float64Array;
  index: readonly number[];
  /** Per checked element: Σ_i |c_i·∂y_i/∂x_j|, the scale of the sum the VJP forms. */
  mag: Float64Array;
}

/** Allowed |got - want| (beyond FLUSH): one number for every element, or one per element. */
export type Tolerance = number | Float64Array;

export interface OpSpec<P> {
  name: string;
  /** Draws cases (see arbitrary.ts); `examples` always run too (extreme values, canonical shapes). */
  cases: fc.Arbitrary<Case<P>>;
  examples?: Case<P>[];
  numRuns?: number;
  gpu: (xs: Tensor[], params: P) => Tensor;
  ref: (xs: Arr[], params: P) => Arr;
  /** Allowed forward error per output element. Each spec says why, in a comment. */
  forwardTol: (ctx: ForwardContext<P>) => Tolerance;
  /** Allowed gradient error per checked element; omitted: the op has no gradient (integer outputs). */
  gradTol?: (ctx: GradContext<P>) => Tolerance;
  /** Inputs to differentiate (default: every float32 input). */
  wrt?: readonly number[];
  /** Output i depends on input i alone (unary ops): one perturbation gives every partial. */
  diagonal?: boolean;
  /** Elements per input whose partials are checked (default 48; always the first and the last). */
  gradElements?: number | ((c: Case<P>) => number);
  /**
   * For ops linear in the inputs listed, whose reference applied to absolute
   * values bounds |J|·|v| (matMul, mul, sum, transpose): also check
   * <c, f_gpu(x+εt) - f_gpu(x-εt)> = <vjp(c), Δx> with the GPU forward, for a
   * random t in [-1, 1], ε = 1/2 and Δx the float32 x+εt minus x-εt. That is
   * exact in exact arithmetic, so the bound is float32 rounding alone: the
   * forward tolerance at x±εt against |c|, plus `gradUlps`·U·<|c|, |J|·|Δx|>.
   */
  linear?: { inputs: readonly number[]; gradUlps: (c: Case<P>, input: number) => number };
}

/** Tolerance of `ulps`·U relative to |want|. */
export const relTol = (ulps: number) => ({ want }: ForwardContext<unknown>): Tolerance =>
  want.data.map((w) => ulps * U * Math.abs(w));

/** Gradient tolerance of `ulps`·U relative to the magnitude of the VJP's terms. */
export const magTol = (ulps: number) => ({ mag }: GradContext<unknown>): Tolerance =>
  mag.map((m) => ulps * U * m);

/** Runs the property: every drawn case and every example must pass. */
export async function checkOp<P>(spec: OpSpec<P>): Promise<void> {
  const replay = env("FC_SEED");
  await fc.assert(fc.asyncProperty(spec.cases, (c) => checkCase(spec, c)), {
    numRuns: spec.numRuns ?? 15,
    examples: (spec.examples ?? []).map((c) => [c]),
    ...(replay ? { seed: Number(replay), path: env("FC_PATH") } : {}),
  });
}

/** Gives a case the short description fast-check prints for a counterexample. */
export function described<P>(c: Case<P>): Case<P> {
  return Object.assign(c, { [fc.toStringMethod]: () => describe(c) });
}

function describe(c: Case<unknown>): string {
  const xs = c.xs.map((x) => `[${x.shape}]${x.dtype === "int32" ? "i32" : ""}`).join(" ");
  return `inputs ${xs}; params ${JSON.stringify(c.params)}; seed ${c.seed}`;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: no replay
  }
}

function toTensor(x: Arr): Tensor {
  return wg.tensor(x.dtype === "int32" ? Int32Array.from(x.data) : Float32Array.from(x.data), x.shape);
}

/** Random float32 values in [-1, 1] (cotangents, directions). */
function randomValues(n: number, rng: Random): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround(2 * rng.next() - 1));
}

async function checkCase<P>(spec: OpSpec<P>, c: Case<P>): Promise<void> {
  const want = spec.ref(c.xs, c.params);
  const wrt = spec.gradTol ? spec.wrt ?? c.xs.flatMap((x, k) => (x.dtype === "int32" ? [] : [k])) : [];
  const cotangent = randomValues(want.data.length, new Random(c.seed + 1));
  const linear = wrt.length > 0 ? spec.linear?.inputs ?? [] : [];
  const directions = linear.map((k) => randomValues(c.xs[k].data.length, new Random(c.seed + 2 + k)));
  // x ± εt for each linear input, rounded to float32 as the GPU sees it
  const shifted = linear.flatMap((k, n) =>
    [1, -1].map((sign) => {
      const xs = [...c.xs];
      xs[k] = {
        ...c.xs[k],
        data: c.xs[k].data.map((v, j) => Math.fround(v + sign * 0.5 * directions[n][j])),
      };
      return xs;
    })
  );

  const numTensors = wg.memory().numTensors;
  const inputs = c.xs.map(toTensor);
  const results: Tensor[] = [];
  let got: (Float32Array | Int32Array)[];
  try {
    results.push(...wg.tidy(() => {
      if (wrt.length === 0) return [spec.gpu(inputs, c.params)];
      const f = (...w: Tensor[]) => spec.gpu(inputs.map((x, k) => w[wrt.indexOf(k)] ?? x), c.params);
      const dy = wg.tensor(Float32Array.from(cotangent), want.shape);
      const { value, grads } = wg.valueAndGrads(f)(wrt.map((k) => inputs[k]), dy);
      return [value, ...grads];
    }));
    for (const xs of shifted) {
      results.push(
        wg.tidy(() => spec.gpu(xs.map((x, k) => (x === c.xs[k] ? inputs[k] : toTensor(x))), c.params)),
      );
    }
    // One batch of readbacks: each costs a submit + poll (~11 ms on llvmpipe), so none waits for another.
    got = await Promise.all(results.map((t) => t.data()));
  } finally {
    for (const t of [...inputs, ...results]) t.dispose();
  }
  const fail = (what: string) => {
    throw new Error(`${spec.name} ${what}\n  case: ${describe(c)}`);
  };
  if (wg.memory().numTensors !== numTensors) {
    fail(`leaked ${wg.memory().numTensors - numTensors} tensor(s)`);
  }

  const [value, ...rest] = results;
  if (value.shape.join() !== want.shape.join() || value.dtype !== (want.dtype ?? "float32")) {
    fail(`forward: got ${value.dtype} [${value.shape}], want ${want.dtype ?? "float32"} [${want.shape}]`);
  }
  compare(fail, "forward", want.shape, got[0], want.data, spec.forwardTol({ case: c, want }));

  wrt.forEach((k, n) => {
    const x = c.xs[k];
    const grad = got[1 + n];
    if (rest[n].shape.join() !== x.shape.join()) {
      fail(`d/dx${k}: gradient has shape [${rest[n].shape}], input x${k} [${x.shape}]`);
    }
    const rng = new Random(c.seed + 100 + k);
    const count = typeof spec.gradElements === "function" ? spec.gradElements(c) : spec.gradElements ?? 48;
    const index = spec.diagonal ? [...x.data.keys()] : sample(x.data.length, count, rng);
    const num = numericVjp(spec, c, k, cotangent, want.data, index);
    const tol = spec.gradTol!({ case: c, want, input: k, cotangent, index, mag: num.mag });
    const allowed = num.oracle.map((o, e) => o + (typeof tol === "number" ? tol : tol[e]));
    compare(fail, `d/dx${k}`, x.shape, index.map((j) => grad[j]), num.grad, allowed, index);
  });

  linear.forEach((k, n) => {
    const n0 = wrt.indexOf(k);
    const [plus, minus] = [shifted[2 * n], shifted[2 * n + 1]];
    const delta = c.xs[k].data.map((_, j) => plus[k].data[j] - minus[k].data[j]);
    const lhs = fsum(
      cotangent.map((ci, i) => ci * (got[1 + wrt.length + 2 * n][i] - got[2 + wrt.length + 2 * n][i])),
    );
    const rhs = fsum(delta.map((d, j) => d * got[1 + n0][j]));
    // forward error at x±εt, summed against |c| ...
    let bound = 0;
    for (const xs of [plus, minus]) {
      const w = spec.ref(xs, c.params);
      const t = spec.forwardTol({ case: { ...c, xs }, want: w });
      bound += fsum(cotangent.map((ci, i) => Math.abs(ci) * (typeof t === "number" ? t : t[i])));
    }
    // ... plus the VJP's error against |Δ|: <|c|, |J|·|Δ|>, |J| from the reference on absolute values
    const absXs = c.xs.map((x, m) => ({ ...x, data: (m === k ? delta : x.data).map(Math.abs) }));
    const absJ = spec.ref(absXs, c.params).data;
    bound += spec.linear!.gradUlps(c, k) * U * fsum(cotangent.map((ci, i) => Math.abs(ci) * absJ[i]));
    if (!(Math.abs(lhs - rhs) <= bound)) {
      fail(
        `d/dx${k} vs GPU central difference along a random t: <c, f(x+εt) - f(x-εt)> = ${lhs}, ` +
          `<vjp(c), 2εt> = ${rhs} (|diff| ${Math.abs(lhs - rhs)} > bound ${bound})`,
      );
    }
  });
}

/** Throws on the worst element out of tolerance, with its coordinates, got and want. */
function compare(
  fail: (what: string) => never,
  what: string,
  shape: readonly number[],
  got: ArrayLike<number>,
  want: Float64Array,
  tol: Tolerance,
  index?: readonly number[],
): void {
  let worst = -1, worstRatio = 0, bad = 0;
  for (let e = 0; e < want.length; e++) {
    const allowed = (typeof tol === "number" ? tol : tol[e]) + FLUSH;
    const w32 = Math.fround(want[e]);
    // Beyond float32's range the only right answer is the same infinity (or NaN for NaN).
    const ok = Number.isFinite(w32)
      ? Math.abs(got[e] - want[e]) <= allowed
      : Object.is(got[e], w32) || (Number.isNaN(got[e]) && Number.isNaN(w32));
    if (ok) continue;
    bad++;
    const ratio = Number.isFinite(w32) ? Math.abs(got[e] - want[e]) / allowed : Infinity;
    if (!(ratio <= worstRatio) || worst < 0) [worst, worstRatio] = [e, ratio];
  }
  if (worst < 0) return;
  const flat = index ? index[worst] : worst;
  const allowed = (typeof tol === "number" ? tol : tol[worst]) + FLUSH;
  fail(
    `${what}: ${bad} element(s) out of tolerance; worst [${unravel(flat, shape)}] (flat ${flat}): ` +
      `got ${got[worst]}, want ${want[worst]} (|err| ${Math.abs(got[worst] - want[worst])}, tol ${allowed})`,
  );
}

/** `count` distinct indices of [0, n): always the first and the last (edges of tiles and rows), the rest random. */
function sample(n: number, count: number, rng: Random): number[] {
  if (n <= count) return [...Array(n).keys()];
  const picked = new Set([0, n - 1]);
  while (picked.size < count) picked.add(rng.int(n));
  return [...picked];
}

/**
 * Central differences of Σ_i c_i·ref(x)_i in x_k[j], for j in `index`:
 * Richardson-extrapolated from steps h, 2h, 4h (h a power of two near
 * 2⁻¹²·min(|x|, 1), so x ± h is exact). `oracle` bounds the error of the
 * numerical value itself: 3·|R(h) - R(2h)| (truncation; R(2h) errs ~16x more)
 * plus float64 rounding, over h, of every output that depends on x_j (found by
 * one large step: a change below the outputs' resolution still counts).
 */
function numericVjp<P>(
  spec: OpSpec<P>,
  c: Case<P>,
  k: number,
  cot: Float64Array,
  want: Float64Array,
  index: readonly number[],
) {
  const xs = [...c.xs];
  const x = Float64Array.from(c.xs[k].data);
  xs[k] = { ...c.xs[k], data: x };
  const grad = new Float64Array(index.length);
  const mag = new Float64Array(index.length);
  const oracle = new Float64Array(index.length);
  const steps = index.map((j) =>
    2 ** (Math.floor(Math.log2(Math.min(Math.max(Math.abs(x[j]), 2 ** -10), 1))) - 12)
  );
  // Σ_i c_i (y(x + s·h)_i - y(x - s·h)_i) / 2sh for the perturbed elements; in diagonal mode all at once.
  const groups = spec.diagonal ? [index.map((_, e) => e)] : index.map((_, e) => [e]);
  for (const group of groups) {
    const at = (step: (e: number) => number) => {
      for (const e of group) x[index[e]] = c.xs[k].data[index[e]] + step(e);
      const y = spec.ref(xs, c.params).data.slice(); // a copy: a reference may return its input (identity)
      for (const e of group) x[index[e]] = c.xs[k].data[index[e]];
      return y;
    };
    // diagonal: output j depends on x_j alone; else those a step of max(|x_j|, 1)/2 changes
    const dependent = spec.diagonal
      ? null
      : at((e) => Math.max(Math.abs(x[index[e]]), 1) / 2).map((v, i) => (Object.is(v, want[i]) ? 0 : 1));
    const d = [1, 2, 4].map((s) => {
      const [plus, minus] = [at((e) => s * steps[e]), at((e) => -s * steps[e])];
      return group.map((e) => {
        const outputs = spec.diagonal ? [index[e]] : plus.keys();
        const sum = new Sum(), abs = new Sum(), size = new Sum();
        for (const i of outputs) {
          const diff = plus[i] - minus[i];
          if (diff === 0 && dependent !== null && !dependent[i]) continue;
          sum.add(cot[i] * diff);
          abs.add(Math.abs(cot[i] * diff));
          size.add(Math.abs(cot[i]) * (Math.abs(plus[i]) + Math.abs(minus[i])));
        }
        const h2 = 2 * s * steps[e];
        return { d: sum.value / h2, mag: abs.value / h2, size: size.value / h2 };
      });
    });
    group.forEach((e, g) => {
      const r1 = (4 * d[0][g].d - d[1][g].d) / 3, r2 = (4 * d[1][g].d - d[2][g].d) / 3;
      grad[e] = r1;
      mag[e] = d[0][g].mag;
      // float64 rounding: of the outputs, and of internal values of the input's own magnitude
      const rounding = 8 * 2 ** -53 * (d[0][g].size + mag[e] * Math.abs(c.xs[k].data[index[e]]) / steps[e]);
      oracle[e] = 3 * Math.abs(r1 - r2) + rounding;
    });
  }
  return { grad, mag, oracle };
}
