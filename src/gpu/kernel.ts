/**
 * Kernel descriptors: a kernel declares its uniforms and storage bindings once,
 * and the WGSL header, the bind group layout and the uniform encoding are all
 * derived from that one declaration.
 */

/** A uniform field: a scalar, or up to 8 u32 packed as `array<vec4<u32>, 2>` (shapes, strides). */
export type UniformType = "u32" | "i32" | "f32" | "u32x8";

/**
 * A binding; `type` is the array element type, e.g. `f32` or `vec4<f32>`.
 * "uniform" binds (a window of) a buffer as `var<uniform> name: array<type, length>`
 * (at most 64 KiB, 16-byte elements): on llvmpipe a uniform load costs ~1/14 of a
 * storage load (bench/conv_variants.md), so kernels read small, reused operands this way.
 * "texture" binds an rgba32float `texture_2d<f32>` (`type` is ignored): a tensor copied
 * into texture lines by `Runtime.texture` (a texel load costs ~1/25 of four storage loads there).
 */
export interface Binding {
  readonly name: string;
  readonly type: string;
  readonly access: "read" | "read_write" | "uniform" | "texture";
  /** For "uniform": the fixed array length (the binding must cover length × 16 bytes). */
  readonly length?: number;
}

/** A WGSL compute kernel with variants (V) that each compile to one pipeline. */
export interface Kernel<V = void> {
  readonly name: string;
  readonly uniforms: readonly (readonly [string, UniformType])[];
  readonly bindings: (variant: V) => readonly Binding[];
  /** The WGSL after the generated header: helper functions and `@compute fn main`. */
  readonly source: (variant: V) => string;
  /** A stable key for the pipeline cache; defaults to JSON of the variant. */
  readonly key?: (variant: V) => string;
}

/** Uniform values by field name; `u32x8` fields take an array of up to 8 numbers. */
export type UniformValues = Record<string, number | readonly number[]>;

/** Byte offsets of each uniform field, laid out by WGSL's uniform address-space rules. */
export interface UniformLayout {
  readonly fields: readonly { name: string; type: UniformType; offset: number }[];
  readonly byteSize: number;
}

const layoutCache = new WeakMap<object, UniformLayout>();

/** Computes (once per kernel) where each uniform field lives in the Params struct. */
export function uniformLayout(kernel: Kernel<never> | Kernel<unknown>): UniformLayout {
  let layout = layoutCache.get(kernel);
  if (layout) return layout;
  let offset = 0;
  const fields = kernel.uniforms.map(([name, type]) => {
    const align = type === "u32x8" ? 16 : 4;
    offset = Math.ceil(offset / align) * align;
    const field = { name, type, offset };
    offset += type === "u32x8" ? 32 : 4;
    return field;
  });
  layout = { fields, byteSize: Math.max(16, Math.ceil(offset / 16) * 16) };
  layoutCache.set(kernel, layout);
  return layout;
}

/** Writes `values` into `view` at `base` following `layout`; a missing field is a bug, so it throws. */
export function encodeUniforms(
  kernelName: string,
  layout: UniformLayout,
  values: UniformValues,
  view: DataView,
  base: number,
): void {
  for (const { name, type, offset } of layout.fields) {
    const value = values[name];
    if (value === undefined) throw new Error(`kernel ${kernelName}: uniform '${name}' not given`);
    const at = base + offset;
    if (type === "u32x8") {
      const items = value as readonly number[];
      for (let i = 0; i < 8; i++) view.setUint32(at + 4 * i, items[i] ?? 0, true);
    } else if (type === "u32") view.setUint32(at, value as number, true);
    else if (type === "i32") view.setInt32(at, value as number, true);
    else view.setFloat32(at, value as number, true);
  }
}

const WGSL_TYPE: Record<UniformType, string> = {
  u32: "u32",
  i32: "i32",
  f32: "f32",
  u32x8: "array<vec4<u32>, 2>",
};

/**
 * The full WGSL of one variant: Params struct at binding 0 (when the kernel has
 * uniforms), storage bindings after it in declaration order, then the body.
 */
export function kernelSource<V>(kernel: Kernel<V>, variant: V): string {
  const lines: string[] = [];
  let binding = 0;
  if (kernel.uniforms.length > 0) {
    lines.push("struct Params {");
    for (const [name, type] of kernel.uniforms) lines.push(`  ${name}: ${WGSL_TYPE[type]},`);
    lines.push("};");
    lines.push(`@group(0) @binding(${binding++}) var<uniform> params: Params;`);
  }
  for (const b of kernel.bindings(variant)) {
    const at = `@group(0) @binding(${binding++})`;
    lines.push(
      b.access === "uniform"
        ? `${at} var<uniform> ${b.name}: array<${b.type}, ${b.length}>;`
        : b.access === "texture"
        ? `${at} var ${b.name}: texture_2d<f32>;`
        : `${at} var<storage, ${b.access}> ${b.name}: array<${b.type}>;`,
    );
  }
  return lines.join("\n") + "\n" + kernel.source(variant);
}

/** The pipeline cache key of one variant. */
export function kernelKey<V>(kernel: Kernel<V>, variant: V): string {
  return kernel.name + ":" + (kernel.key ? kernel.key(variant) : JSON.stringify(variant ?? null));
}
