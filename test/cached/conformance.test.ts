/** The conformance suite through each cache layer: a layer must keep the contract of its target. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFileSystem } from "../../spec/index.js";
import { CachingFileSystem, MemoryFileSystem, SimpleCacheFileSystem, WholeFileCacheFileSystem } from "../../src/index.js";

let counter = 0;
const unique = () => `c${process.pid}-${Date.now()}-${counter++}`;

const memoryPair = () => ({
  fs: new MemoryFileSystem({ store: "private" }),
  storageFs: new MemoryFileSystem({ store: "private" }),
});

describeFileSystem("filecache over memory (memory storage)", async () => {
  const { fs, storageFs } = memoryPair();
  return { fs: new WholeFileCacheFileSystem({ fs, storageFs, cacheStorage: "/cache" }), root: "/data" };
}, { serializable: false });

describeFileSystem("simplecache over memory (memory storage)", async () => {
  const { fs, storageFs } = memoryPair();
  return { fs: new SimpleCacheFileSystem({ fs, storageFs, cacheStorage: "/cache" }), root: "/data" };
}, { serializable: false });

describeFileSystem("blockcache over memory (memory storage)", async () => {
  const { fs, storageFs } = memoryPair();
  return { fs: new CachingFileSystem({ fs, storageFs, cacheStorage: "/cache", blockSize: 4 }), root: "/data" };
}, { serializable: false });

// Serialisable: a shared memory target and a cache on the local disk rebuild from JSON.
describeFileSystem("filecache over shared memory (local storage)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-cache-spec-"));
  const root = `/cached-conformance/${unique()}`;
  const target = new MemoryFileSystem();
  return {
    fs: new WholeFileCacheFileSystem({ fs: target, cacheStorage: dir }),
    root,
    cleanup: async () => {
      await target.rm(root, { recursive: true }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
});
