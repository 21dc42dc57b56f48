/**
 * mod.ts imported from a URL, as users first meet it: a static file server on
 * 127.0.0.1 serves the repository, and a fresh `deno run` in an empty
 * temporary directory (no deno.json, no node_modules, its own DENO_DIR)
 * imports `http://127.0.0.1:<port>/mod.ts`, trains the XOR MLP with the
 * Layers API and checks its 4 predictions.
 *
 * The child gets only `--allow-import=127.0.0.1:<port>` (Deno 2 asks for it
 * to load code from a host other than its defaults). Static imports and npm
 * packages need no --allow-net; with a fresh DENO_DIR, Deno fetches
 * mod.ts's one npm dependency (wgsl-preprocessor) from the npm registry.
 * This test needs --allow-net=127.0.0.1, --allow-read, --allow-write (the
 * temporary directory), --allow-run and --allow-env.
 */
import { assert, assertEquals } from "@std/assert";
import { serveStatic } from "../../examples/web/serve.ts";
import "../_helpers/gpu.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** The user's script: nothing but the URL import and the XOR MLP. */
const SCRIPT = (base: string) => `
import * as wg from "${base}/mod.ts";

const x = wg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = wg.tensor([[0], [1], [1], [0]]);
const model = wg.sequential({
  layers: [
    wg.layers.dense({ units: 8, inputShape: [2], activation: "tanh",
      kernelInitializer: wg.initializers.glorotUniform({ seed: 1 }) }),
    wg.layers.dense({ units: 1, activation: "sigmoid",
      kernelInitializer: wg.initializers.glorotUniform({ seed: 2 }) }),
  ],
});
model.compile({ optimizer: wg.train.adam(0.05), loss: "binaryCrossentropy", metrics: ["accuracy"] });
await model.fit(x, y, { epochs: 300, batchSize: 4, verbose: 0 });
const p = await (model.predict(x) as wg.Tensor).data();
console.log("predictions " + Array.from(p, (v) => v.toFixed(3)).join(" "));
`;

Deno.test("mod.ts imported over http trains the XOR MLP in a fresh deno with no config", async () => {
  const server = serveStatic(ROOT);
  const dir = await Deno.makeTempDir({ prefix: "wg-url-import-" });
  try {
    const base = server.base;
    await Deno.writeTextFile(`${dir}/xor.ts`, SCRIPT(base));
    await Deno.mkdir(`${dir}/deno_dir`);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", `--allow-import=127.0.0.1:${server.port}`, "xor.ts"],
      cwd: dir,
      env: { DENO_DIR: `${dir}/deno_dir`, NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    const output = `--- stdout\n${out}\n--- stderr\n${err}`;
    assertEquals(code, 0, `the URL-importing script exited with ${code}\n${output}`);
    const match = /^predictions (.*)$/m.exec(out);
    if (!match) throw new Error(`no predictions printed\n${output}`);
    const p = match[1].split(" ").map(Number);
    assertEquals(p.map((v) => (v > 0.5 ? 1 : 0)), [0, 1, 1, 0], `XOR predictions ${match[1]}\n${output}`);
    // It really came over http, into the child's own DENO_DIR, with no node_modules next to it.
    assert(/Download http:\/\/127\.0\.0\.1/.test(err), `expected remote downloads\n${output}`);
    assert(!(await exists(`${dir}/node_modules`)), "no node_modules may appear in the empty directory");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("mod.ts's import graph holds only relative files and exact-versioned npm: specifiers", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: ROOT,
    stdin: "null",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string }[] }[];
  };
  const rootUrl = new URL("../..", import.meta.url).href;
  for (const module of graph.modules) {
    if (!module.specifier.startsWith("file://")) continue;
    assert(module.specifier.startsWith(rootUrl), `outside the repository: ${module.specifier}`);
    for (const { specifier } of module.dependencies ?? []) {
      const ok = specifier.startsWith("./") || specifier.startsWith("../") ||
        /^npm:(@[\w.-]+\/)?[\w.-]+@\d+\.\d+\.\d+(\/|$)/.test(specifier);
      assert(ok, `${module.specifier} imports ${specifier}: only relative paths and npm:<name>@<x.y.z>`);
    }
  }
});
