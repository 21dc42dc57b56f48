/**
 * What the CLI writes besides the model: the learning-curve SVG (well-formed,
 * one polyline per curve with a point per epoch) and the test report's
 * confusion matrix and scores. No GPU needed.
 */
import { assert, assertAlmostEquals, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { learningCurvesSvg, niceTicks } from "../../src/cli/charts.ts";
import { formatConfusion, reportText, scorePredictions } from "../../src/cli/report.ts";
import { assertWellFormedXml, polylinePoints } from "./_svg.ts";

Deno.test("curves.svg: two panels, train and validation polylines with a point per epoch", () => {
  const history = {
    loss: [0.9, 0.5, 0.3, 0.25],
    accuracy: [0.7, 0.85, 0.9, 0.93],
    val_loss: [0.6, 0.4, 0.35, 0.36],
    val_accuracy: [0.8, 0.87, 0.9, 0.91],
  };
  const svg = learningCurvesSvg(history, "mnist <cnn> & more");
  const names = assertWellFormedXml(svg);
  assertEquals(names[0], "svg");
  assertEquals(names.filter((n) => n === "polyline").length, 4);
  assertStringIncludes(svg, "mnist &#60;cnn&#62; &#38; more");
  for (const key of ["train loss", "val loss", "train accuracy", "val accuracy"]) {
    const points = polylinePoints(svg, key);
    assertEquals(points.length, 4, key);
    assert(points.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y)), key);
    assert(points[0][0] < points[3][0], `${key}: epochs go left to right`);
  }
  // SVG's y grows downwards: a falling curve's y grows.
  const loss = polylinePoints(svg, "train loss");
  assert(loss[0][1] < loss[3][1], "the falling loss curve goes down the panel");
  const acc = polylinePoints(svg, "train accuracy");
  assert(acc[0][1] > acc[3][1], "the rising accuracy curve goes up the panel");
});

Deno.test("curves.svg without validation, with one epoch, and with a NaN loss", () => {
  const svg = learningCurvesSvg({ loss: [NaN], accuracy: [1] }, "xor");
  assertWellFormedXml(svg);
  // A flat accuracy of 1 gets an axis that ends at 1, not one that goes past it.
  assertEquals([...svg.matchAll(/text-anchor="end">([\d.]+)</g)].map((m) => m[1]).slice(-2), [
    "0.99",
    "1.00",
  ]);
  assertEquals(svg.includes("val loss"), false);
  assertEquals(polylinePoints(svg, "train loss"), []);
  assertEquals(polylinePoints(svg, "train accuracy").length, 1);
});

Deno.test("niceTicks: round steps that cover the range", () => {
  assertEquals(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(niceTicks(0.013, 0.26, 5), [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
  assertEquals(niceTicks(2, 2), [1.4, 1.6, 1.8, 2, 2.2, 2.4, 2.6]); // a flat curve gets a range around it
});

Deno.test("scorePredictions: softmax rows, accuracy, Keras's clipped cross-entropy, confusion counts", () => {
  // 4 examples, 3 classes; predicted: 0, 2, 1, 2; labels: 0, 1, 1, 2.
  const p = Float32Array.of(0.8, 0.1, 0.1, 0.2, 0.3, 0.5, 0.1, 0.7, 0.2, 0, 0, 1);
  const r = scorePredictions(p, [0, 1, 1, 2], 3);
  assertEquals([r.correct, r.count, r.accuracy], [3, 4, 0.75]);
  assertEquals(r.confusion, [[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
  const want = -(Math.log(0.8) + Math.log(0.3) + Math.log(0.7) + Math.log(1 - 1e-7)) / 4;
  assertAlmostEquals(r.loss, want, 1e-6);
});

Deno.test("scorePredictions: one sigmoid output is class 1 above 0.5; a zero probability is clipped", () => {
  const r = scorePredictions(Float32Array.of(0.1, 0.9, 0.6, 0), [0, 1, 0, 1], 2);
  assertEquals([r.correct, r.confusion], [2, [[1, 1], [1, 1]]]);
  assertAlmostEquals(r.loss, -(Math.log(0.9) * 2 + Math.log(0.4) + Math.log(1e-7)) / 4, 1e-6);
});

Deno.test("report.txt: the test accuracy and a confusion matrix with class names, recall and precision", () => {
  const r = scorePredictions(Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.6, 0.4), [0, 1, 1], 2);
  const matrix = formatConfusion(r.confusion, ["T-shirt/top", "Trouser"]);
  assertEquals(matrix.split("\n"), [
    "true \\ predicted    0    1   recall",
    "0 T-shirt/top       1    0   1.0000",
    "1 Trouser           1    1   0.5000",
    "precision        0.50 1.00",
  ]);
  const text = reportText(r, { title: "t", lines: [["model", "mlp"]], classNames: ["a", "b"], note: "n" });
  assertStringIncludes(text, "test accuracy: 66.67% (2 of 3)");
  assertMatch(text, /Confusion matrix on the test set \(rows: true class, columns: predicted class\)/);
  assertStringIncludes(text, "Note: n");
});
