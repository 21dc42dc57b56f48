/**
 * model.summary(): Keras's table (keras/utils/layer_utils.py print_summary),
 * line for line: name and type, output shape with None for the batch,
 * parameter count; then the totals with thousands separators.
 */
import { formatSymbolicShape, type Layer } from "../layers/layer.ts";

/** Keras's column layout for sequential models: fractions of the line length. */
const DEFAULT_POSITIONS = [0.45, 0.85, 1];
const DEFAULT_LINE_LENGTH = 65;

/** "101,770". */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** One table row: each field cut to its column, padded to the column's end (Keras's print_row). */
function row(fields: string[], positions: number[]): string {
  let line = "";
  fields.forEach((field, col) => {
    const start = col > 0 ? positions[col - 1] : 0;
    const last = col === positions.length - 1;
    const space = last ? 0 : 2;
    const cutoff = positions[col] - start - space - (last ? 0 : 1);
    if (col === 0) line += " ";
    line += field.slice(0, cutoff) + " ".repeat(space);
    line += " ".repeat(Math.max(0, positions[col] - line.length));
  });
  return line;
}

/** The summary lines of a model named `name` made of `layers` (built). */
export function summaryLines(
  name: string,
  layers: readonly Layer[],
  lineLength = DEFAULT_LINE_LENGTH,
  positions: readonly number[] = DEFAULT_POSITIONS,
): string[] {
  const cols = positions.at(-1)! <= 1 ? positions.map((p) => Math.floor(lineLength * p)) : [...positions];
  const lines = [
    `Model: "${name}"`,
    "_".repeat(lineLength),
    row(["Layer (type)", "Output Shape", "Param #"], cols),
  ];
  lines.push("=".repeat(lineLength));
  let trainable = 0, total = 0;
  for (const layer of layers) {
    const params = layer.countParams();
    total += params;
    if (layer.trainable) trainable += params;
    const shape = layer.outputShape ? formatSymbolicShape(layer.outputShape) : "multiple";
    lines.push(row([`${layer.name} (${layer.className})`, shape, String(params)], cols));
    lines.push(" ".repeat(lineLength));
  }
  lines.push("=".repeat(lineLength));
  lines.push(`Total params: ${formatCount(total)}`);
  lines.push(`Trainable params: ${formatCount(trainable)}`);
  lines.push(`Non-trainable params: ${formatCount(total - trainable)}`);
  lines.push("_".repeat(lineLength));
  return lines;
}
