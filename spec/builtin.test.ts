/** The conformance suite against every built-in filesystem of the foundation. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsFromVolume, Volume } from "memfs";
import { describeFileSystem } from "./index.js";
import { DirFileSystem } from "../src/implementations/dir.js";
import { LocalFileSystem, type NodeFsLike } from "../src/implementations/local.js";
import { MemoryFileSystem } from "../src/implementations/memory.js";

let counter = 0;
const unique = () => `t${process.pid}-${Date.now()}-${counter++}`;

describeFileSystem("memory (shared store)", async () => {
  const fs = new MemoryFileSystem();
  const root = `/conformance/${unique()}`;
  return { fs, root, cleanup: () => fs.rm(root, { recursive: true }).catch(() => undefined) };
});

describeFileSystem("memory (private store, URL paths)", async () => {
  const fs = new MemoryFileSystem({ store: "private" });
  return { fs, root: "memory://scratch" };
}, { serializable: false });

describeFileSystem("file (node:fs)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-spec-"));
  return { fs: new LocalFileSystem(), root: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeFileSystem("file (memfs volume)", async () => {
  const vol = new Volume();
  vol.mkdirSync("/work", { recursive: true });
  const fs = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike });
  return { fs, root: "file:///work" };
}, { serializable: false });

describeFileSystem("dir over memory", async () => {
  const target = new MemoryFileSystem({ store: "private" });
  await target.mkdir("/base/root");
  return { fs: new DirFileSystem({ path: "/base/root", fs: target }), root: "/" };
}, { serializable: false });

describeFileSystem("dir over file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-dir-"));
  return {
    fs: new DirFileSystem({ path: dir, fs: new LocalFileSystem() }),
    root: "dir://",
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
