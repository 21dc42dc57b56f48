/**
 * The examples run as users run them: each in its own `deno run` process with
 * no permissions, checked by its exit code and what it prints.
 * Needs --allow-run (for Deno.execPath()'s process).
 */
import { assert, assertEquals } from "@std/assert";
import "./_helpers/gpu.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs `deno run --no-prompt <path>` from the repository root; returns its exit code and output. */
async function runExample(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", path],
    cwd: ROOT,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("examples/xor.ts: a 2-layer MLP learns XOR and prints its 4 predictions", async () => {
  const { code, stdout, stderr } = await runExample("examples/xor.ts");
  const output = `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  assertEquals(code, 0, `examples/xor.ts exited with ${code}\n${output}`);
  // Prediction rows: "x1 x2 target probability (rounded)".
  const rows = [...stdout.matchAll(/^\s*([01])\s+([01])\s+([01])\s+(\d\.\d+) \(([01])\)\s*$/gm)];
  assertEquals(rows.length, 4, `expected 4 prediction rows\n${output}`);
  for (const [line, x1, x2, target, , rounded] of rows) {
    assertEquals(Number(target), Number(x1) ^ Number(x2), `target of ${line.trim()}`);
    assertEquals(rounded, target, `prediction on the wrong side of 0.5: ${line.trim()}`);
  }
  assert(/step\s+1\s+loss/.test(stdout), `the loss is printed during training\n${output}`);
});
