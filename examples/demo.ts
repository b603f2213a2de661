/**
 * `npm run demo`: the whole model-package flow on this machine, nothing from the internet.
 *
 * 1. A checkpoint is written and served over HTTP on 127.0.0.1 (standing in for a model hub).
 * 2. TinyModel.fromPretrained() downloads it through a Package into a whole-file cache.
 * 3. A second load costs zero requests.
 * 4. A sharded package with a SHA256SUMS manifest: prefetched in parallel with one progress
 *    display, an archive in it extracted once, a tampered file caught by its pin.
 * 5. Offline mode serves the caches without a single request.
 * 6. The same model loads from a local Hugging Face Hub (hf://) and NGC registry (ngc://) that
 *    speak the real APIs, and from a local folder in place; the CLI shows and checks the cache.
 * Everything lands in a temporary directory that is removed at the end.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { runCli } from "../src/cli/main.js";
import { formatBytes, Package, PACKAGE_ENV, progressBar, type ProgressFactory } from "../src/index.js";
import { serveDirectory } from "./support/static-server.js";
import { startHfServer, startNgcServer } from "../src/testing/index.js"; // fsspec-ts/testing
import { tarGz } from "./support/tar-writer.js";
import { makeCheckpoint } from "./tiny-model/make-checkpoint.js";
import { TinyModel } from "./tiny-model/model.js";

const step = (title: string) => console.log(`\n== ${title}`);
/** Where a batch's progress goes: the bar on a terminal; off one, its summary line, indented like the rest. */
const batchOutput: NodeJS.WritableStream = process.stdout.isTTY
  ? process.stdout
  : new Writable({
      write(chunk: Buffer, _encoding, done) {
        process.stdout.write(`  ${chunk.toString()}`);
        done();
      },
    });
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** A package of 8 weight shards and an archive of statistics, with a SHA256SUMS manifest. */
async function publishShardedModel(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 8; i++) files[`shard-${i}.bin`] = new Uint8Array(512 * 1024).map((_, j) => (i * 31 + j) & 0xff);
  files["stats.tar.gz"] = tarGz({ "stats/mean.json": JSON.stringify({ mean: 0.25 }), "stats/std.json": JSON.stringify({ std: 1.5 }), "README.txt": "normalisation statistics\n" });
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  await writeFile(join(dir, "SHA256SUMS"), Object.entries(files).map(([name, data]) => `${sha256(data)}  ${name}\n`).join(""));
}

/** A bar on a terminal; one summary line per download otherwise (logs stay readable). */
const progress: ProgressFactory = (name) => {
  if (process.stderr.isTTY) return progressBar(`Downloading ${name}`);
  let total = 0;
  let bytes = 0;
  const t0 = Date.now();
  return {
    setSize: (n) => (total = n),
    relativeUpdate: (n) => (bytes += n),
    stop: () => {
      if (bytes > 0) console.log(`  Downloading ${name}: ${formatBytes(bytes)}/${formatBytes(total)} in ${Date.now() - t0} ms`);
    },
  };
};

const work = await mkdtemp(join(tmpdir(), "fsspec-demo-"));
process.env[PACKAGE_ENV.cache] = join(work, "cache"); // keep the demo out of ~/.cache
process.env.HF_HUB_CACHE = join(work, "hf-hub"); // and out of ~/.cache/huggingface (hf:// packages use the Hub's cache)
const server = await serveDirectory(join(work, "hub"));
try {
  step("publish a checkpoint (1024x1024 float32 weights) on a local HTTP 'hub'");
  const { bytes } = await makeCheckpoint(join(work, "hub", "tiny-model", "v1"));
  TinyModel.defaultRoot = `${server.url}/tiny-model/v1`;
  console.log(`  ${TinyModel.defaultRoot}  (${formatBytes(bytes)} of weights)`);

  step("TinyModel.fromPretrained(): downloads into the cache, with progress");
  const pkg = new Package(TinyModel.defaultRoot, {
    cacheOptions: { cacheStorage: Package.defaultCache("tiny-model"), sameNames: true },
    progress,
  });
  server.requests = 0;
  const model = await TinyModel.fromPretrained(pkg);
  console.log(`  predict([1, 2, 3, ...]) -> [${model.predict(Array.from({ length: 1024 }, (_, i) => i + 1)).slice(0, 3).join(", ")}, ...]`);
  console.log(`  HTTP requests: ${server.requests}`);

  step("load again: served from the cache");
  server.requests = 0;
  await TinyModel.fromPretrained(pkg);
  console.log(`  HTTP requests: ${server.requests} (a cache hit prints no progress)`);
  console.log(`  cached as ${await pkg.resolve("weights.bin")}`);

  step("a sharded package with a SHA256SUMS manifest: prefetch() fetches every pinned file in parallel");
  await publishShardedModel(join(work, "hub", "big-model", "v1"));
  const bigRoot = `${server.url}/big-model/v1`;
  const bigOptions = { manifest: true, cacheOptions: { cacheStorage: Package.defaultCache("big-model"), sameNames: true } } as const;
  const big = new Package(bigRoot, bigOptions);
  server.requests = 0;
  // One display for the whole batch: a bar on a terminal, one summary line otherwise.
  const shards = await big.prefetch(undefined, { progressStream: batchOutput });
  console.log(`  ${shards.length} local paths; HTTP requests: ${server.requests} (the manifest, then a HEAD per file, all at once, and a GET per file), at most ${server.peakDownloads} downloads at once`);

  step("an archive of the package, extracted once beside its cached copy");
  let t0 = Date.now();
  const folder = await big.extract("stats.tar.gz");
  const extractedFiles = (await readdir(folder, { recursive: true })).sort();
  console.log(`  ${folder.slice(work.length)} holds ${extractedFiles.join(", ")} (${Date.now() - t0} ms)`);
  t0 = Date.now();
  server.requests = 0;
  const again = await new Package(bigRoot, bigOptions).extract("stats.tar.gz");
  console.log(`  again: ${again === folder ? "the same folder, not extracted again" : "a new folder?!"}; HTTP requests: ${server.requests}`);

  step("a pin catches a tampered file: shard-3.bin replaced on the hub");
  await writeFile(join(work, "hub", "big-model", "v1", "shard-3.bin"), new Uint8Array(512 * 1024).fill(7));
  try {
    await new Package(bigRoot, { ...bigOptions, cacheOptions: { cacheStorage: Package.defaultCache("big-model-fresh") } }).resolve("shard-3.bin");
  } catch (err) {
    console.log(`  ${(err as Error).message.replace(/: '.*'$/, "").replace(/([0-9a-f]{12})[0-9a-f]{52}/g, "$1...")}`);
  }
  console.log(`  nothing was cached: ${(await readdir(Package.defaultCache("big-model-fresh"))).filter((f) => f.startsWith("shard")).length} shards in that cache`);

  step("offline (FSSPEC_TS_OFFLINE=1): the hub is never asked");
  process.env.FSSPEC_TS_OFFLINE = "1";
  server.requests = 0;
  const offline = await TinyModel.fromPretrained(new Package(TinyModel.defaultRoot, { cacheOptions: { cacheStorage: Package.defaultCache("tiny-model"), sameNames: true } }));
  console.log(`  loaded ${offline.config.inputs}x${offline.config.outputs}; HTTP requests: ${server.requests}`);
  const offlineBig = new Package(bigRoot, bigOptions);
  const offlineShards = await offlineBig.prefetch(undefined, { progressStream: batchOutput });
  const stats = JSON.parse(await readFile(join(await offlineBig.extract("stats.tar.gz"), "stats", "std.json"), "utf8")) as { std: number };
  console.log(`  big-model: ${offlineShards.length} files and the extracted statistics (std ${stats.std}); HTTP requests: ${server.requests}`);
  try {
    await new Package(TinyModel.defaultRoot, { cacheOptions: { cacheStorage: Package.defaultCache("tiny-model") } }).resolve("not-cached.bin");
  } catch (err) {
    console.log(`  a file never cached: ${(err as Error).message}`);
  }
  delete process.env.FSSPEC_TS_OFFLINE;

  step("the same checkpoint on a Hugging Face Hub (hf://) and an NGC registry (ngc://), both local");
  const checkpoint = join(work, "hub", "tiny-model", "v1");
  const files = {
    "config.json": await readFile(join(checkpoint, "config.json")),
    "weights.bin": await readFile(join(checkpoint, "weights.bin")),
  };
  const hub = await startHfServer();
  const ngc = await startNgcServer();
  try {
    hub.createRepo("demo/tiny-model");
    hub.commit("demo/tiny-model", { "config.json": files["config.json"], "weights.bin": { data: files["weights.bin"], lfs: true } });
    const fromHf = await TinyModel.fromPretrained(
      new Package("hf://demo/tiny-model", { fsOptions: { hf: { endpoint: hub.url, token: false } }, progress }), // into the Hugging Face cache (HF_HUB_CACHE)
    );
    console.log(`  hf://demo/tiny-model -> ${fromHf.config.inputs}x${fromHf.config.outputs}; Hub requests: ${hub.count()} (the LFS file redirected to the CDN)`);
    ngc.addFiles("models/demo/tiny-model@1.0", files);
    const fromNgc = await TinyModel.fromPretrained(
      new Package("ngc://models/demo/tiny-model@1.0", { fsOptions: { ngc: { baseUrl: ngc.url, authUrl: ngc.authUrl, apiKey: "" } }, cacheOptions: { cacheStorage: Package.defaultCache("tiny-model-ngc") }, progress }),
    );
    console.log(`  ngc://models/demo/tiny-model@1.0 -> ${fromNgc.config.inputs}x${fromNgc.config.outputs}; registry lookups ${ngc.count("lookup")}, downloads ${ngc.count("download")}`);
  } finally {
    await Promise.all([hub.close(), ngc.close()]);
  }

  step("a local checkpoint folder is read in place (no cache)");
  const localModel = await TinyModel.fromPretrained(join(work, "hub", "tiny-model", "v1"));
  console.log(`  predict([0, 0, ...])[0] = ${localModel.predict(new Array(1024).fill(0))[0]}`);

  step("paths never leave the package");
  try {
    await pkg.resolve("../../etc/passwd");
  } catch (err) {
    console.log(`  ${(err as Error).message}`);
  }

  step("the CLI: fsspec-ts cache ls <dir>, and fsspec-ts package verify <root> offline");
  const out = new PassThrough();
  out.on("data", (chunk: Buffer) => process.stdout.write(`  ${chunk.toString().trimEnd().split("\n").join("\n  ")}\n`));
  await runCli(["cache", "ls", Package.defaultCache("tiny-model")], { stdout: out, stderr: process.stderr, progress: false });
  await runCli(["cache", "ls", Package.defaultCache("big-model")], { stdout: out, stderr: process.stderr, progress: false });
  process.env.FSSPEC_TS_OFFLINE = "1";
  await runCli(["package", "verify", bigRoot, "--cache", Package.defaultCache("big-model"), "-C", "sameNames=true"], { stdout: out, stderr: process.stderr });
  delete process.env.FSSPEC_TS_OFFLINE;
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
console.log("\ndone: everything above ran on this machine; the temporary directory is gone.");
