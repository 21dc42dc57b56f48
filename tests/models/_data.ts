/** Small seeded datasets for the model tests (host data: `{ data, shape }`). */
import { Random } from "../../src/random.ts";

/** `n` points in `classes` Gaussian blobs on a circle in 2-D: x [n, 2] float32, labels [n] int32. */
export function blobs(n: number, classes: number, seed = 1): {
  x: { data: Float32Array; shape: number[] };
  labels: { data: Int32Array; shape: number[] };
  oneHot: { data: Float32Array; shape: number[] };
} {
  const random = new Random(seed);
  const x = new Float32Array(n * 2), labels = new Int32Array(n), oneHot = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    const angle = (2 * Math.PI * c) / classes;
    x[2 * i] = 2 * Math.cos(angle) + 0.4 * random.normal();
    x[2 * i + 1] = 2 * Math.sin(angle) + 0.4 * random.normal();
    labels[i] = c;
    oneHot[i * classes + c] = 1;
  }
  return {
    x: { data: x, shape: [n, 2] },
    labels: { data: labels, shape: [n] },
    oneHot: { data: oneHot, shape: [n, classes] },
  };
}

/** Rows [from, to) of host data. */
export function rows<T extends Float32Array | Int32Array>(
  d: { data: T; shape: number[] },
  from: number,
  to: number,
) {
  const size = d.shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: d.data.slice(from * size, to * size) as T, shape: [to - from, ...d.shape.slice(1)] };
}
