/** Zero padding of matrices for kernels that need whole texels or whole blocks (not an op: no gradient). */
import { padMatrixKernel } from "../../shaders/transform.ts";
import { grid1D } from "../../shaders/_wgsl.ts";
import { runtime } from "../gpu/runtime.ts";
import type { Shape } from "../shape.ts";
import { empty, type Tensor } from "../tensor.ts";

/**
 * x [batches, rows, cols] as [batches, RP, LP] (shaped `outShape`), with zero
 * rows and columns after; `x` itself when nothing is added.
 */
export function padMatrix(
  x: Tensor,
  batches: number,
  rows: number,
  cols: number,
  RP: number,
  LP: number,
  outShape: Shape = [batches, RP, LP],
): Tensor {
  if (RP === rows && LP === cols) return x;
  const padded = empty(outShape);
  if (padded.size === 0) return padded;
  runtime().dispatch(padMatrixKernel, undefined, [x.buffer, padded.buffer], {
    n: padded.size,
    R: rows,
    L: cols,
    RP,
    LP,
  }, grid1D(padded.size));
  return padded;
}
