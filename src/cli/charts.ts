/**
 * Learning curves as a hand-written SVG, as the lessons plot them: two panels,
 * loss and accuracy per epoch, each with the training curve (solid) and the
 * validation curve (dashed) when there is one. No dependency: a few <polyline>s,
 * axes with round tick values, a legend.
 */

/** What to plot: values per epoch by key (loss, accuracy, val_loss, val_accuracy), as history.json holds them. */
export type Curves = Record<string, readonly number[]>;

const PANEL_W = 420, PANEL_H = 300;
const MARGIN = { left: 62, right: 16, top: 40, bottom: 46 };
const TRAIN_COLOR = "#1f77b4", VAL_COLOR = "#ff7f0e";

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9))!;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t < hi + step * (1 - 1e-9); t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A tick label with as many decimals as the tick step needs (0.25 → 2, 5 → 0). */
function label(value: number, step: number): string {
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) {
    decimals++;
  }
  return value.toFixed(decimals);
}

/** Epoch ticks: every epoch up to 10, else 1 and about 8 round integers. */
function epochTicks(epochs: number): number[] {
  if (epochs <= 10) return Array.from({ length: epochs }, (_, i) => i + 1);
  const round = niceTicks(0, epochs, 8).filter((t) => t > 1 && t <= epochs && Number.isInteger(t));
  return [1, ...round];
}

interface Series {
  name: string;
  values: readonly number[];
  color: string;
  dashed: boolean;
}

/** One panel at (x0, 0): frame, grid, ticks, curves, legend. */
function panel(
  x0: number,
  title: string,
  series: Series[],
  epochs: number,
  legendAt: "top" | "bottom",
  clamp?: [number, number],
): string {
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  let lo = finite.length ? Math.min(...finite) : 0, hi = finite.length ? Math.max(...finite) : 1;
  if (!(hi > lo)) [lo, hi] = [lo - 0.05 * (Math.abs(lo) || 1), hi + 0.05 * (Math.abs(hi) || 1)]; // a flat curve
  if (clamp) [lo, hi] = [Math.max(clamp[0], lo), Math.min(clamp[1], hi)];
  const yTicks = niceTicks(lo, hi, 5);
  const [yMin, yMax] = [yTicks[0], yTicks.at(-1)!];
  const step = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  const w = PANEL_W - MARGIN.left - MARGIN.right, h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left, top = MARGIN.top;
  const px = (epoch: number) => left + (epochs <= 1 ? w / 2 : ((epoch - 1) / (epochs - 1)) * w);
  const py = (v: number) => top + h - ((Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin || 1)) * h;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [`<g class="panel">`];
  out.push(
    `<text x="${f(left + w / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  );
  for (const t of yTicks) {
    out.push(
      `<line x1="${f(left)}" x2="${f(left + w)}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#e5e5e5"/>`,
      `<text x="${f(left - 6)}" y="${f(py(t) + 4)}" text-anchor="end">${label(t, step)}</text>`,
    );
  }
  for (const e of epochTicks(epochs)) {
    out.push(
      `<line x1="${f(px(e))}" x2="${f(px(e))}" y1="${f(top + h)}" y2="${f(top + h + 4)}" stroke="#333"/>`,
      `<text x="${f(px(e))}" y="${f(top + h + 18)}" text-anchor="middle">${e}</text>`,
    );
  }
  out.push(
    `<rect x="${f(left)}" y="${f(top)}" width="${f(w)}" height="${f(h)}" fill="none" stroke="#333"/>`,
    `<text x="${f(left + w / 2)}" y="${f(top + h + 38)}" text-anchor="middle">epoch</text>`,
  );
  series.forEach((s, i) => {
    const points = s.values.map((v, e) => [e + 1, v] as const).filter(([, v]) => Number.isFinite(v));
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<polyline class="${escapeXml(s.name)}" fill="none" stroke="${s.color}" stroke-width="2"${dash} ` +
        `points="${points.map(([e, v]) => `${f(px(e))},${f(py(v))}`).join(" ")}"/>`,
    );
    if (points.length <= 60) {
      for (const [e, v] of points) {
        out.push(`<circle cx="${f(px(e))}" cy="${f(py(v))}" r="2.5" fill="${s.color}"/>`);
      }
    }
    // The legend goes where the curves are not: top right for falling losses, bottom right for rising accuracies.
    const ly = legendAt === "top" ? top + 16 + i * 16 : top + h - 10 - (series.length - 1 - i) * 16;
    const lx = left + w - 120;
    out.push(
      `<line x1="${f(lx)}" x2="${f(lx + 22)}" y1="${f(ly - 4)}" y2="${f(ly - 4)}" stroke="${s.color}" ` +
        `stroke-width="2"${dash}/>`,
      `<text x="${f(lx + 28)}" y="${f(ly)}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push(`</g>`);
  return out.join("\n");
}

/**
 * The learning curves of a run as an SVG document.
 *
 * @param history Values per epoch by key: `loss`, `accuracy`, and `val_loss`, `val_accuracy` if validated.
 * @param title A heading, e.g. "mnist, cnn".
 * @returns The SVG text (standalone, UTF-8).
 */
export function learningCurvesSvg(history: Curves, title: string): string {
  const epochs = Math.max(1, ...Object.values(history).map((v) => v.length));
  const series = (key: string): Series[] => [
    { name: `train ${key}`, values: history[key] ?? [], color: TRAIN_COLOR, dashed: false },
    ...(history[`val_${key}`]
      ? [{ name: `val ${key}`, values: history[`val_${key}`], color: VAL_COLOR, dashed: true }]
      : []),
  ];
  const width = 2 * PANEL_W, height = PANEL_H + 30;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(`Learning curves: ${title}`)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="13" fill="#555">${
      escapeXml(title)
    }</text>`,
    panel(0, "Loss", series("loss"), epochs, "top"),
    panel(PANEL_W, "Accuracy", series("accuracy"), epochs, "bottom", [0, 1]),
    `</svg>`,
    "",
  ].join("\n");
}
