/**
 * Version-pinned reads (core/versions.ts) on every backend, and the block cache over each: a
 * read pinned to a version fails with ECHANGED once the file is another one, and blocks cached
 * from an old version are never completed with bytes of a new one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CachingFileSystem, DirFileSystem, LocalFileSystem, MemoryFileSystem, SimpleCacheFileSystem, WholeFileCacheFileSystem, type AbstractFileSystem,
} from "../../src/index.js";
import { catFilePinned, fileVersion, hasPinnedReads } from "../../src/core/versions.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { startGcsServer, type TestGcsServer } from "../support/gcs-server.js";
import { makeFs as gsFs, TOKEN as GS_TOKEN } from "../gs/helpers.js";
import { createBucket, bucketName, makeFs } from "../s3/helpers.js";
import { ngcFs } from "../ngc/helpers.js";
import { errorOf } from "../support/errors.js";
import { hex, makeBytes } from "./support/counting.js";

const OLD = makeBytes(100, 31);
const NEW = makeBytes(100, 37);

/**
 * A backend under test: `fs()` is an instance reading the file's current state (a fresh one
 * where the backend pins a snapshot per instance, as HF does), `replace` writes the new version.
 */
interface Backend {
  name: string;
  pinned: boolean;
  fs(): AbstractFileSystem;
  path: string;
  replace(data: Uint8Array): Promise<void>;
}

let http: TestHttpServer;
let hfSrv: TestHfServer;
let ngcSrv: TestNgcServer;
let gcsSrv: TestGcsServer;
let localDir: string;
const closers: Array<() => Promise<void>> = [];
let n = 0;

beforeAll(async () => {
  http = await startHttpServer();
  hfSrv = await startHfServer();
  ngcSrv = await startNgcServer();
  gcsSrv = await startGcsServer();
  gcsSrv.addAccessToken(GS_TOKEN);
  localDir = await mkdtemp(join(tmpdir(), "fsspec-ts-pinned-"));
  closers.push(() => http.close(), () => hfSrv.close(), () => ngcSrv.close(), () => gcsSrv.close(), () => rm(localDir, { recursive: true, force: true }));
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function keep<T extends { close(): Promise<void> }>(fs: T): T {
  closers.push(() => fs.close());
  return fs;
}

async function memory(): Promise<Backend> {
  const fs = new MemoryFileSystem({ store: "private" });
  await fs.pipe("/f.bin", OLD);
  return { name: "memory", pinned: true, fs: () => fs, path: "/f.bin", replace: (d) => fs.pipe("/f.bin", d) };
}

async function local(): Promise<Backend> {
  const fs = new LocalFileSystem();
  const path = join(localDir, `f${n++}.bin`);
  await fs.pipe(path, OLD);
  return { name: "local", pinned: false, fs: () => fs, path, replace: (d) => fs.pipe(path, d) };
}

async function dir(): Promise<Backend> {
  const inner = new MemoryFileSystem({ store: "private" });
  await inner.pipe("/root/f.bin", OLD);
  const fs = new DirFileSystem({ path: "/root", fs: inner });
  return { name: "dir over memory", pinned: false, fs: () => fs, path: "/f.bin", replace: (d) => inner.pipe("/root/f.bin", d) };
}

async function httpBackend(): Promise<Backend> {
  const fs = keep(new HTTPFileSystem({ retryDelay: 1, retries: 2 }));
  const p = `/pinned/f${n++}.bin`;
  http.setFile(p, OLD);
  return { name: "http", pinned: true, fs: () => fs, path: `${http.url}${p}`, replace: async (d) => http.setFile(p, d) };
}

async function s3(): Promise<Backend> {
  const bucket = bucketName("pinned");
  await createBucket(bucket);
  const fs = keep(makeFs({ skipInstanceCache: true }));
  await fs.pipe(`${bucket}/f.bin`, OLD);
  return { name: "s3", pinned: true, fs: () => fs, path: `${bucket}/f.bin`, replace: (d) => fs.pipe(`${bucket}/f.bin`, d) };
}

async function hf(): Promise<Backend> {
  const repo = `org/pinned${n++}`;
  hfSrv.createRepo(repo);
  hfSrv.commit(repo, { "f.bin": { data: OLD, lfs: true } });
  // An instance reads the commit it first resolved: a new commit is seen by a new instance.
  const fresh = () => keep(new HuggingFaceFileSystem({ endpoint: hfSrv.url, token: false, retryDelay: 1, skipInstanceCache: true }));
  return {
    name: "hf", pinned: true, fs: fresh, path: `${repo}/f.bin`,
    replace: async (d) => void hfSrv.commit(repo, { "f.bin": { data: d, lfs: true } }),
  };
}

async function ngc(): Promise<Backend> {
  const root = `models/org/team/pinned${n++}@1.0`;
  ngcSrv.addFiles(root, { "f.bin": OLD });
  const fs = keep(ngcFs(ngcSrv));
  return { name: "ngc", pinned: true, fs: () => fs, path: `${root}/f.bin`, replace: async (d) => ngcSrv.storage.setFile(ngcSrv.blobPath(root, "f.bin"), d) };
}

async function gs(): Promise<Backend> {
  const bucket = `pinned-${n++}`;
  gcsSrv.createBucket(bucket);
  gcsSrv.putObject(bucket, "f.bin", OLD);
  const fs = keep(gsFs(gcsSrv));
  return { name: "gs", pinned: true, fs: () => fs, path: `gs://${bucket}/f.bin`, replace: async (d) => void gcsSrv.putObject(bucket, "f.bin", d) };
}

const makers = [memory, local, dir, httpBackend, s3, hf, ngc, gs];

describe("memory: ukey", () => {
  it("changes with every write, even one of the same size in the same millisecond; not with touch", async () => {
    const fs = new MemoryFileSystem({ store: "private" });
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) {
      await fs.pipe("/f.bin", makeBytes(100, 40 + i));
      keys.add(await fs.ukey("/f.bin"));
    }
    expect(keys.size).toBe(5);
    const before = await fs.ukey("/f.bin");
    await fs.touch("/f.bin", { truncate: false });
    expect(await fs.ukey("/f.bin")).toBe(before);
    // Instances over one store agree.
    const shared = new MemoryFileSystem({ store: fs.store });
    expect(await shared.ukey("/f.bin")).toBe(before);
  });
});

describe.each(makers.map((make) => [make.name, make] as const))("pinned reads: %s", (_name, make) => {
  it("a read pinned to a version gives its bytes, and ECHANGED once the file is another version", async () => {
    const b = await make();
    const fs = b.fs();
    expect(hasPinnedReads(fs)).toBe(b.pinned);
    const version = await fileVersion(fs, b.path);
    expect(version.size).toBe(100);
    expect(hex(await catFilePinned(fs, b.path, 10, 30, version))).toBe(hex(OLD.subarray(10, 30)));
    await b.replace(NEW);
    const later = b.fs();
    expect((await errorOf(catFilePinned(later, b.path, 10, 30, version))).code).toBe("ECHANGED");
    const now = await fileVersion(later, b.path);
    expect(hex(await catFilePinned(later, b.path, 10, 30, now))).toBe(hex(NEW.subarray(10, 30)));
  });

  it("blockcache: block 0 of the old version is never joined to blocks of the new one", async () => {
    const b = await make();
    const storageFs = new MemoryFileSystem({ store: "private" });
    const cache = (fs: AbstractFileSystem) => new CachingFileSystem({ fs, storageFs, cacheStorage: "/cache", blockSize: 25, skipInstanceCache: true });
    expect(hex(await cache(b.fs()).catFile(b.path, 0, 25))).toBe(hex(OLD.subarray(0, 25)));
    await b.replace(NEW);
    // A later instance over the same cache directory (a later process).
    expect(hex(await cache(b.fs()).catFile(b.path))).toBe(hex(NEW));
  });
});

describe.each(makers.map((make) => [make.name, make] as const))("whole-file downloads never publish a mix: %s", (_name, make) => {
  for (const Layer of [WholeFileCacheFileSystem, SimpleCacheFileSystem]) {
    it(`${Layer.protocols[0]}: a file replaced in the middle of its download is cached as one version`, async () => {
      const b = await make();
      const storageFs = new MemoryFileSystem({ store: "private" });
      const fs = new Layer({ fs: b.fs(), storageFs, cacheStorage: "/cache", downloadChunkSize: 25, skipInstanceCache: true });
      let replaced: Promise<void> | undefined;
      // After the first chunk arrived, the file is replaced (same size, other bytes).
      const hit = await fs.ensureCached(b.path, { callback: { relativeUpdate: () => void (replaced ??= b.replace(NEW)) } });
      await replaced;
      const cached = await storageFs.catFile(hit.storage.pathOf(hit.fn));
      expect([hex(OLD), hex(NEW)]).toContain(hex(cached));
      expect([hex(OLD), hex(NEW)]).toContain(hex(await fs.catFile(b.path)));
    });
  }
});
