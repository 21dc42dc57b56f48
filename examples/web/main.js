// The browser example: loads a saved MNIST model with the engine's bundle
// (wg.js, built from mod.ts by `deno bundle --platform browser`), lets the
// user draw a digit on a 280x280 canvas, shrinks it to MNIST's 28x28 and
// classifies it on the browser's WebGPU.
//
// Query parameters: ?model=URL (default ./model/model.json); for tests,
// ?auto=URL draws each image of a JSON file ({ images: number[784][] }) onto
// the canvas and classifies it, and ?report=URL POSTs the outcome there.

const SIZE = 28; // MNIST's images are 28x28
const SCALE = 10; // canvas pixels per MNIST pixel
const params = new URLSearchParams(location.search);
const pad = /** @type {HTMLCanvasElement} */ (document.getElementById("pad"));
const ctx = /** @type {CanvasRenderingContext2D} */ (pad.getContext("2d", { willReadFrequently: true }));
const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const result = /** @type {HTMLElement} */ (document.getElementById("result"));
const classifyButton = /** @type {HTMLButtonElement} */ (document.getElementById("classify"));

/** Sends the outcome to ?report= (tests read it there) and shows it in the page. */
async function report(outcome) {
  result.dataset.outcome = JSON.stringify(outcome);
  const to = params.get("report");
  if (to) await fetch(to, { method: "POST", body: JSON.stringify(outcome) });
}

function clear() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  result.textContent = "";
}

/** The canvas as one MNIST image: the mean of each 10x10 block, in [0, 1], shape [1, 28, 28, 1]. */
function canvasPixels() {
  const { data } = ctx.getImageData(0, 0, pad.width, pad.height); // RGBA bytes
  const pixels = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      pixels[Math.floor(y / SCALE) * SIZE + Math.floor(x / SCALE)] += data[(y * pad.width + x) * 4] / 255;
    }
  }
  return pixels.map((v) => v / (SCALE * SCALE));
}

/** Paints a 784-pixel image (values in [0, 1]) onto the canvas, each pixel a 10x10 square. */
function drawImage(image) {
  image.forEach((v, i) => {
    const g = Math.round(v * 255);
    ctx.fillStyle = `rgb(${g},${g},${g})`;
    ctx.fillRect((i % SIZE) * SCALE, Math.floor(i / SIZE) * SCALE, SCALE, SCALE);
  });
}

// ---- WebGPU first: without an adapter, say so clearly and stop ----
const adapter = "gpu" in navigator ? await navigator.gpu.requestAdapter().catch(() => null) : null;
if (!adapter) {
  const message = "No WebGPU: this browser has no WebGPU adapter, so the model cannot run here. " +
    "Use a browser with WebGPU enabled (Chrome or Edge 113+, Safari 26, Firefox 141+ on Windows), " +
    "or start Chromium with --enable-unsafe-webgpu.";
  status.textContent = message;
  status.className = "error";
  await report({ webgpu: false, message });
} else {
  const wg = await import("./wg.js");
  const modelUrl = new URL(params.get("model") ?? "./model/model.json", location.href).href;
  const model = await wg.loadLayersModel(modelUrl);
  const info = adapter.info ?? {};
  status.textContent = `Model loaded from ${modelUrl}; WebGPU adapter: ${
    [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unnamed"
  }.`;

  /** Classifies what the canvas shows; returns the digit and its probability. */
  const classify = async () => {
    const probabilities = wg.tidy(() => model.predict(wg.tensor(canvasPixels(), [1, SIZE, SIZE, 1])));
    const p = Array.from(await probabilities.data());
    probabilities.dispose();
    const digit = p.indexOf(Math.max(...p));
    result.textContent = `${digit} (${(p[digit] * 100).toFixed(1)}%)`;
    return { digit, probability: p[digit] };
  };

  // Drawing: white strokes as thick as MNIST's pen, relative to the canvas.
  let drawing = false;
  ctx.lineWidth = 22;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.strokeStyle = "#fff";
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    ctx.beginPath();
    ctx.moveTo(e.offsetX, e.offsetY);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    ctx.lineTo(e.offsetX, e.offsetY);
    ctx.stroke();
  });
  addEventListener("pointerup", () => {
    if (drawing) classify();
    drawing = false;
  });
  classifyButton.addEventListener("click", () => classify());
  document.getElementById("clear")?.addEventListener("click", clear);
  classifyButton.disabled = false;
  clear();

  const auto = params.get("auto");
  if (auto) {
    const { images } = await (await fetch(new URL(auto, location.href))).json();
    const predictions = [];
    for (const image of images) {
      drawImage(image);
      predictions.push(await classify());
    }
    await report({
      webgpu: true,
      adapter: { vendor: info.vendor, architecture: info.architecture },
      predictions,
    });
  }
}
