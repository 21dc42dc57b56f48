/**
 * CIFAR-10: 50000 training and 10000 test images, 32x32 RGB, 10 classes.
 * No npm package ships it, so the sources are the cache (the extracted
 * `cifar-10-batches-bin/`, or the `.tar.gz` put there by hand) and the
 * canonical archive, SHA-256 pinned, extracted atomically into the cache.
 * Shapes: N = images, H = W = 32, C = 3 (NHWC).
 * @module
 */
import { gunzip, readTar } from "./archive.ts";
import { parseCifarBatch } from "./cifar.ts";
import {
  type Dataset,
  finishDataset,
  type ImageFormat,
  type LoadOptions,
  type RawExamples,
} from "./dataset.ts";
import type { RawImageSet } from "./dataset.ts";
import { atomicWriteDir, type Digest, verifyDigest } from "./download.ts";
import { formatError } from "./errors.ts";
import {
  downloadFromMirrors,
  firstAvailable,
  firstPresent,
  isPresent,
  join,
  resolveCacheRoot,
  type SourceStep,
} from "./sources.ts";

/** What CIFAR-10 pins. */
export interface CifarSpec {
  /** Cache subdirectory and error prefix. */
  dataset: string;
  format: ImageFormat;
  /** The archive's file name and URLs (tried in order). */
  archive: { name: string; urls: readonly string[]; digest: Digest };
  /** The directory the archive holds the batches in. */
  batchDir: string;
  trainFiles: readonly string[];
  testFile: string;
}

/**
 * CIFAR-10's pins. SHA-256 of `cifar-10-binary.tar.gz` (170052171 bytes):
 * TensorFlow Datasets' `url_checksums/cifar10.txt`; the dataset's page gives
 * its MD5, c32a1d4ab5d03f1284b67883e8d87530.
 */
export const CIFAR10_SPEC: CifarSpec = {
  dataset: "cifar-10",
  format: {
    height: 32,
    width: 32,
    channels: 3,
    classNames: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
  },
  archive: {
    name: "cifar-10-binary.tar.gz",
    urls: ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
    digest: { algorithm: "SHA-256", hex: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd" },
  },
  batchDir: "cifar-10-batches-bin",
  trainFiles: [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
  ],
  testFile: "test_batch.bin",
};

/**
 * Loads CIFAR-10: 50000 training and 10000 test examples, 32x32 RGB, classes
 * `airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck`.
 * Images are `[N, 32, 32, 3]` (NHWC; the files' CHW planes are transposed)
 * or `[N, 3072]` flattened; options and outputs as `loadMnist`. As float32
 * the training images take 614 MB: `normalize: false` keeps bytes (154 MB).
 *
 * Sources, first hit wins: the batches in the cache
 * (`<dataDir>/cifar-10/cifar-10-batches-bin/`, or `<dataDir>/` itself), the
 * archive put in the cache by hand (checked against its pinned SHA-256),
 * then the download of https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
 * (163 MB, SHA-256 pinned), extracted atomically into the cache.
 *
 * @param options Conversions, validation split, cache dir and network use.
 * @returns Train (and validation) and test examples as CPU typed arrays.
 *
 * @example
 * ```ts ignore
 * import { loadCifar10 } from "./mod.ts";
 *
 * const cifar = await loadCifar10({ normalize: false, onProgress: (p) => console.log(p.receivedBytes) });
 * console.log(cifar.train.x.shape); // [50000, 32, 32, 3]
 * ```
 */
export function loadCifar10(options: LoadOptions = {}): Promise<Dataset> {
  return loadCifarDataset(CIFAR10_SPEC, options);
}

/** Loads a CIFAR-style dataset by `spec` (tests pass their own archive URL and hash). */
export async function loadCifarDataset(spec: CifarSpec, options: LoadOptions = {}): Promise<Dataset> {
  const root = resolveCacheRoot(options.dataDir);
  const dir = join(root, spec.dataset);
  const batches = join(dir, spec.batchDir);
  const steps: SourceStep<RawImageSet>[] = [
    { source: `cache ${batches} (or ${root})`, run: () => fromBatches(spec, root) },
    {
      source: `archive ${join(dir, spec.archive.name)} (or ${root})`,
      run: async () => {
        const path = await firstPresent([join(dir, spec.archive.name), join(root, spec.archive.name)]);
        if (!path) return "not found";
        const bytes = await Deno.readFile(path);
        await verifyDigest(bytes, spec.archive.digest, path);
        return fromArchive(spec, bytes, path, root, { kind: "cache", location: path, officialSplit: true });
      },
    },
  ];
  if (options.download ?? true) {
    steps.push({
      source: `download from ${spec.archive.urls.join(", ")}`,
      run: async () => {
        const got = await downloadFromMirrors(spec.archive.urls, spec.archive.digest, options);
        if (typeof got === "string") return got;
        return fromArchive(spec, got.bytes, got.url, root, {
          kind: "download",
          location: got.url,
          officialSplit: true,
        });
      },
    });
  } else {
    steps.push({ source: "network", run: () => Promise.resolve("not tried (download: false)") });
  }
  const raw = await firstAvailable(
    spec.dataset,
    steps,
    `Put ${spec.archive.name}, or its ${spec.batchDir}/ directory, in ${dir}, ` +
      "or point dataDir / --data-dir at a directory holding them.",
  );
  return finishDataset(raw, spec.format, options);
}

const allFiles = (spec: CifarSpec) => [...spec.trainFiles, spec.testFile];

/** Reads the extracted batches from the first directory that holds all of them. */
async function fromBatches(spec: CifarSpec, root: string): Promise<RawImageSet | string> {
  const dirs = [
    join(root, spec.dataset, spec.batchDir),
    join(root, spec.batchDir),
    join(root, spec.dataset),
    root,
  ];
  for (const dir of dirs) {
    const present = await Promise.all(allFiles(spec).map((f) => isPresent(join(dir, f))));
    if (!present.every(Boolean)) continue;
    const files = new Map<string, Uint8Array>();
    for (const f of allFiles(spec)) files.set(f, await Deno.readFile(join(dir, f)));
    return parseBatches(spec, files, (f) => join(dir, f), {
      kind: "cache",
      location: dir,
      officialSplit: true,
    });
  }
  return `not found (${allFiles(spec).join(", ")})`;
}

/** Extracts and parses the batches of a verified archive, then caches them (best effort, atomically). */
async function fromArchive(
  spec: CifarSpec,
  bytes: Uint8Array,
  name: string,
  root: string,
  source: RawImageSet["source"],
): Promise<RawImageSet> {
  const entries = readTar(await gunzip(bytes, name), name);
  const files = new Map<string, Uint8Array>();
  for (const f of allFiles(spec)) {
    const entry = entries.get(`${spec.batchDir}/${f}`);
    if (!entry) throw formatError(name, 0, `the archive has no ${spec.batchDir}/${f}`);
    files.set(f, entry);
  }
  const raw = parseBatches(spec, files, (f) => `${name}#${spec.batchDir}/${f}`, source);
  await atomicWriteDir(join(root, spec.dataset, spec.batchDir), files).catch(() => {});
  return raw;
}

/** Parses every batch (all checks before anything is returned) and joins the training batches. */
function parseBatches(
  spec: CifarSpec,
  files: ReadonlyMap<string, Uint8Array>,
  describe: (file: string) => string,
  source: RawImageSet["source"],
): RawImageSet {
  const K = spec.format.classNames.length;
  const parse = (f: string) => parseCifarBatch(files.get(f)!, describe(f), K);
  const parts = spec.trainFiles.map(parse);
  const count = parts.reduce((n, p) => n + p.count, 0);
  const train: RawExamples = { count, images: new Uint8Array(count * 3072), labels: new Uint8Array(count) };
  let n = 0;
  for (const p of parts) {
    train.images.set(p.images, n * 3072);
    train.labels.set(p.labels, n);
    n += p.count;
  }
  const test = parse(spec.testFile);
  return { train, test, source };
}
