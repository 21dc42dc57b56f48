/**
 * The one place GPU tests learn whether there is a device. Every GPU test
 * imports this module: if there is no adapter, importing it fails with the
 * engine's DeviceError, which says how to get one (tests never skip silently).
 */
import { ready } from "../../src/gpu/runtime.ts";

export const rt = await ready();
