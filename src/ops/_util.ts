/** Input checks shared by the ops. */
import { DTypeError } from "../errors.ts";
import { formatShape } from "../shape.ts";
import { type DType, Tensor } from "../tensor.ts";
import { scalar } from "./creation.ts";

/** A tensor, or a number taken as a float32 scalar. */
export type TensorOrNumber = Tensor | number;

/** Turns a number into a scalar tensor (tracked by the enclosing tidy); checks a tensor is live. */
export function asTensor(x: TensorOrNumber): Tensor {
  if (typeof x === "number") return scalar(x);
  if (!(x instanceof Tensor)) throw new TypeError(`expected a Tensor or a number, got ${String(x)}`);
  void x.buffer; // throws DisposedTensorError here rather than mid-op
  return x;
}

/** Throws a DTypeError naming the op and argument unless `t` has dtype `dtype`. */
export function checkDType(op: string, arg: string, t: Tensor, dtype: DType = "float32"): void {
  if (t.dtype !== dtype) {
    throw new DTypeError(
      `${op}: '${arg}' must be ${dtype}, got ${t.dtype} ${formatShape(t.shape)}` +
        (dtype === "float32" ? " (convert with wg.cast(t, 'float32'))" : ""),
    );
  }
}
