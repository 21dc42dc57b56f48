/** Types for wgsl-preprocessor@1.0.1, which ships none. */
export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
