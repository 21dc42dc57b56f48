/**
 * CI probe: is there a WebGPU adapter? Prints its info and exits 0, or says
 * how to get one and exits 1. It checks the platform, not the engine, so it
 * imports nothing from src/.
 *
 *     XDG_RUNTIME_DIR=/tmp deno run --allow-env=DENO_WEBGPU_BACKEND .ci/probe_adapter.ts
 */

const HOW_TO_GET_ONE = [
  "How to get a WebGPU adapter on a machine without a GPU (Debian/Ubuntu):",
  "  apt-get install --no-install-recommends libegl1 libgl1-mesa-dri",
  "gives Mesa's llvmpipe through EGL/GL, which Deno 2 picks up with no flag (it shows up as",
  '"llvmpipe (LLVM ...)"). DENO_WEBGPU_BACKEND=gl or =vulkan picks a backend; if it is set to',
  "a backend that is not installed (e.g. vulkan without mesa-vulkan-drivers), unset it.",
].join("\n");

function fail(why: string): never {
  console.error(`no WebGPU adapter: ${why}\n\n${HOW_TO_GET_ONE}`);
  Deno.exit(1);
}

if (!navigator.gpu) fail("navigator.gpu is undefined (this needs Deno 2, where WebGPU needs no flag)");

const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
if (!adapter) fail("navigator.gpu.requestAdapter() returned null");

// A device too: an adapter that cannot make one is no use to the tests.
const device = await adapter.requestDevice().catch((error) => fail(`requestDevice() failed: ${error}`));
const info = adapter.info;
const fallback = (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
console.log(
  `WebGPU adapter: ${info.description || "(no description)"}; vendor ${info.vendor || "?"}, ` +
    `fallback ${fallback ?? "?"}, shader-f16 ${adapter.features.has("shader-f16") ? "yes" : "no"} ` +
    `(Vulkan has it, GL does not), DENO_WEBGPU_BACKEND=${Deno.env.get("DENO_WEBGPU_BACKEND") ?? "(unset)"}`,
);
device.destroy();
