/**
 * Acquires the one WebGPU device of the process, with the adapter's maximum
 * limits, and turns every way of not having one into a DeviceError that says
 * how to get one.
 */
import { DeviceError } from "../errors.ts";

const HOW_TO_GET_AN_ADAPTER =
  "On Linux without a GPU, install Mesa (Debian: `apt-get install libegl1 libgl1-mesa-dri`; " +
  "add `mesa-vulkan-drivers` for Vulkan) and Deno 2 exposes llvmpipe as a software adapter; " +
  "in a browser, use one with WebGPU enabled (Chrome/Edge 113+, or --enable-unsafe-webgpu).";

/** The acquired device and what we learned about its adapter. */
export interface GPUContext {
  device: GPUDevice;
  adapterInfo: GPUAdapterInfo;
  /** True for software adapters (llvmpipe, lavapipe, SwiftShader): kernel variants differ there. */
  isFallbackAdapter: boolean;
  features: ReadonlySet<string>;
}

/** Limits we raise to the adapter's maximum; wgpu's defaults are far lower. */
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxTextureDimension2D",
] as const;

/**
 * Requests an adapter and a device from `gpu` (normally `navigator.gpu`).
 * Throws DeviceError naming what is missing.
 * NOTE: `gpu` has no default, so `acquireDevice(undefined)` means "no WebGPU"
 * (a default would silently turn it into `navigator.gpu`); this keeps the
 * missing-WebGPU path testable.
 */
export async function acquireDevice(gpu: GPU | undefined): Promise<GPUContext> {
  if (!gpu) {
    throw new DeviceError(
      "WebGPU is not available: navigator.gpu is undefined. " +
        "Use Deno 2 (navigator.gpu needs no flag there) or a browser with WebGPU. " +
        HOW_TO_GET_AN_ADAPTER,
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new DeviceError(
      "WebGPU is present but no adapter was found: navigator.gpu.requestAdapter() returned null. " +
        HOW_TO_GET_AN_ADAPTER,
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const features = [...adapter.features].filter((f) =>
    f === "timestamp-query" || f === "shader-f16"
  ) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
  const info = adapter.info;
  return {
    device,
    adapterInfo: info,
    // Deno exposes isFallbackAdapter on the info; browsers on the adapter.
    isFallbackAdapter: Boolean(
      (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ) || /llvmpipe|lavapipe|swiftshader/i.test(info.description ?? ""),
    features: new Set(device.features),
  };
}
