/**
 * The browser example in headless Chromium: the engine bundled for the
 * browser (`deno bundle --platform browser mod.ts`), an MNIST MLP trained by
 * examples/mnist_mlp.ts on small settings and saved, both served with
 * examples/web/ on 127.0.0.1. The page draws test digits on its canvas,
 * classifies them with the loaded model and POSTs the outcome back. It must
 * classify them correctly or, where this Chromium has no WebGPU adapter,
 * report the clear "No WebGPU" message (the test prints which happened).
 *
 * Chromium is Debian's /usr/bin/chromium (.ci/run installs it; set CHROMIUM to
 * use another). With --enable-unsafe-webgpu, headless Chromium 156 here gives
 * a SwiftShader adapter. Needs --allow-run, --allow-net=127.0.0.1,
 * --allow-read, --allow-write (temporary files), --allow-env.
 */
import { assert, assertEquals } from "@std/assert";
import * as wg from "../../mod.ts";
import { loadMnist } from "../../datasets/mod.ts";
import { fileResponse, serveStatic } from "../../examples/web/serve.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const DIGITS = 6;

async function run(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null" })
    .output();
  const text = `${new TextDecoder().decode(stdout)}\n${new TextDecoder().decode(stderr)}`;
  assertEquals(code, 0, `deno ${args.join(" ")} failed:\n${text}`);
  return text;
}

Deno.test("examples/web: headless Chromium classifies drawn MNIST digits (or says there is no WebGPU)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wg-web-" });
  let chromium: Deno.ChildProcess | undefined;
  let server: ReturnType<typeof serveStatic> | undefined;
  try {
    // 1. The bundle and a small trained model.
    await run(["bundle", "--quiet", "--platform", "browser", "-o", `${dir}/wg.js`, "mod.ts"]);
    await run([
      "run",
      "--allow-read",
      "--allow-env",
      `--allow-write=${dir}`,
      "examples/mnist_mlp.ts",
      "--epochs",
      "3",
      "--limit",
      "3000",
      "--save",
      `${dir}/model`,
    ]);

    // 2. Test digits this model gets right in Deno, with a clear margin: the page must agree.
    const model = await wg.loadLayersModel(`${dir}/model/model.json`);
    const { test } = await loadMnist({ download: false });
    const images: number[][] = [], labels: number[] = [];
    for (let i = 0; images.length < DIGITS && i < 500; i++) {
      const image = Array.from(test.x.data.subarray(i * 784, (i + 1) * 784), Number);
      const p = wg.tidy(() => model.predict(wg.tensor(image, [1, 28, 28, 1])) as wg.Tensor);
      const probabilities = Array.from(await p.data());
      p.dispose();
      const label = test.y.data[i];
      if (probabilities.indexOf(Math.max(...probabilities)) === label && probabilities[label] > 0.9) {
        images.push(image);
        labels.push(label);
      }
    }
    assertEquals(images.length, DIGITS, "the small model should get some test digits right");
    await Deno.writeTextFile(`${dir}/digits.json`, JSON.stringify({ images }));

    // 3. Serve examples/web/ with the bundle, the model and the digits; the page POSTs to /result.
    let resolveOutcome: (value: unknown) => void = () => {};
    const outcome = new Promise((resolve) => (resolveOutcome = resolve));
    server = serveStatic(`${ROOT}examples/web`, 0, async (request) => {
      const path = new URL(request.url).pathname;
      if (request.method === "POST" && path === "/result") {
        resolveOutcome(await request.json());
        return new Response("ok");
      }
      if (path === "/wg.js" || path === "/digits.json" || path.startsWith("/model/")) {
        return await fileResponse(dir, path);
      }
    });

    // 4. Headless Chromium opens the page (flags: no background traffic on this closed network).
    if (!(await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false))) {
      throw new Error(
        `no Chromium at ${CHROMIUM}: install Debian's chromium (.ci/run does), or set CHROMIUM to a Chromium binary`,
      );
    }
    chromium = new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-unsafe-webgpu",
        `--user-data-dir=${dir}/profile`,
        `${server.base}/index.html?auto=digits.json&report=/result`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the page reported nothing within 90 s")), 90_000);
    });
    const result = await Promise.race([outcome, timeout]).finally(() => clearTimeout(timer)) as {
      webgpu: boolean;
      message?: string;
      adapter?: unknown;
      predictions?: { digit: number; probability: number }[];
    };

    if (!result.webgpu) {
      console.log(`browser: no WebGPU adapter; the page said: ${result.message}`);
      assert(
        result.message?.startsWith("No WebGPU:"),
        `expected the "No WebGPU" message, got ${result.message}`,
      );
      return;
    }
    const digits = result.predictions?.map((p) => p.digit);
    console.log(
      `browser: WebGPU adapter ${JSON.stringify(result.adapter)}; drew ${labels}, page read ${digits}`,
    );
    assertEquals(digits, labels, "the page classifies the drawn digits as the model does in Deno");
  } finally {
    if (chromium) await stop(chromium);
    await server?.close();
    await removeDir(dir);
  }
});

/** SIGTERM first, so that Chromium takes its helper processes down with it; SIGKILL after 5 s. */
async function stop(chromium: Deno.ChildProcess): Promise<void> {
  chromium.kill("SIGTERM");
  const killer = setTimeout(() => chromium.kill("SIGKILL"), 5000);
  await chromium.status;
  clearTimeout(killer);
}

/**
 * Removes the temporary directory. A helper process of Chromium that outlives it can still write into
 * its profile for a moment ("Directory not empty" mid-removal, seen once in CI): retried for up to 5 s.
 */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await Deno.remove(dir, { recursive: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (attempt >= 25) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
