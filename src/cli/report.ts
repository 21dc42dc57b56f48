/**
 * The test-set evaluation of a run: predicted classes, loss and accuracy
 * computed on the CPU from the model's probabilities (one pass over the test
 * set), the confusion matrix, and report.txt's text.
 * Shapes: N = test examples, K = classes (1 sigmoid output for the gates).
 */

/** What the test set says about a model. */
export interface TestResult {
  /** Mean cross-entropy (Keras's: probabilities clipped to [1e-7, 1 - 1e-7]). */
  loss: number;
  /** Fraction of examples whose predicted class is the label. */
  accuracy: number;
  /** Examples predicted right. */
  correct: number;
  /** Examples. */
  count: number;
  /** matrix[true][predicted]: how many examples of class `true` were predicted as `predicted`. */
  confusion: number[][];
}

const EPSILON = 1e-7;

/**
 * Scores predictions against labels.
 *
 * @param probabilities [N, K] softmax outputs, or [N, 1] sigmoid outputs (class 1 when > 0.5).
 * @param labels [N] class indices, or [N, 1] 0/1 targets for a sigmoid output.
 * @param classes K (2 for a sigmoid output).
 */
export function scorePredictions(
  probabilities: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): TestResult {
  const n = labels.length;
  const width = probabilities.length / Math.max(n, 1);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let loss = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const label = Math.round(labels[i]);
    let predicted: number, p: number;
    if (width === 1) {
      const q = Math.min(Math.max(probabilities[i], EPSILON), 1 - EPSILON);
      predicted = probabilities[i] > 0.5 ? 1 : 0;
      p = label === 1 ? q : 1 - q;
    } else {
      const row = probabilities.subarray(i * width, (i + 1) * width);
      predicted = 0;
      for (let k = 1; k < width; k++) if (row[k] > row[predicted]) predicted = k;
      p = Math.min(Math.max(row[label], EPSILON), 1 - EPSILON);
    }
    loss -= Math.log(p);
    if (predicted === label) correct++;
    confusion[label][predicted]++;
  }
  return { loss: loss / Math.max(n, 1), accuracy: correct / Math.max(n, 1), correct, count: n, confusion };
}

/** The confusion matrix as aligned text, rows = true class (with its name), columns = predicted class. */
export function formatConfusion(confusion: number[][], classNames: readonly string[]): string {
  const k = confusion.length;
  const names = classNames.map((name, i) => `${i} ${name === String(i) ? "" : name}`.trimEnd());
  const nameWidth = Math.max(...names.map((s) => s.length), "true \\ predicted".length);
  const cell = Math.max(5, ...confusion.flat().map((v) => String(v).length + 1));
  const header = "true \\ predicted".padEnd(nameWidth) +
    Array.from({ length: k }, (_, j) => String(j).padStart(cell)).join("") + "   recall";
  const rows = confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total > 0 ? (row[i] / total).toFixed(4) : "   -  ";
    return names[i].padEnd(nameWidth) + row.map((v) => String(v).padStart(cell)).join("") + `   ${recall}`;
  });
  const precision = Array.from({ length: k }, (_, j) => {
    const predicted = confusion.reduce((a, row) => a + row[j], 0);
    return predicted > 0 ? (confusion[j][j] / predicted).toFixed(2).padStart(cell) : "-".padStart(cell);
  });
  return [header, ...rows, "precision".padEnd(nameWidth) + precision.join("")].join("\n");
}

/** What report.txt says about the run besides the test result. */
export interface ReportInfo {
  title: string;
  lines: [label: string, value: string][];
  classNames: readonly string[];
  note?: string;
}

/** report.txt: the run, the test loss and accuracy, the confusion matrix with per-class recall and precision. */
export function reportText(result: TestResult, info: ReportInfo): string {
  const width = Math.max(...info.lines.map(([l]) => l.length), "test accuracy".length) + 2;
  const row = (l: string, v: string) => `${(l + ":").padEnd(width)}${v}`;
  return [
    info.title,
    "",
    ...info.lines.map(([l, v]) => row(l, v)),
    row("test loss", result.loss.toFixed(4)),
    row("test accuracy", `${(result.accuracy * 100).toFixed(2)}% (${result.correct} of ${result.count})`),
    ...(info.note ? ["", `Note: ${info.note}`] : []),
    "",
    "Confusion matrix on the test set (rows: true class, columns: predicted class):",
    "",
    formatConfusion(result.confusion, info.classNames),
    "",
    "recall: a class's accuracy (its examples predicted right / its examples);",
    "precision: examples predicted as the class that are of it / examples predicted as it.",
    "",
  ].join("\n");
}
