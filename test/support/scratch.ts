/** Scratch filesystems for tests that run on memory and the real local disk alike. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { AbstractFileSystem, LocalFileSystem, MemoryFileSystem } from "../../src/index.js";

export interface Scratch {
  fs: AbstractFileSystem;
  /** A directory of `fs` that only this test uses ("" for a private memory store: its root). */
  root: string;
}

/**
 * `[name, make]` for a private memory store and a fresh temp directory on disk; temp
 * directories made by a test are removed after it. Call at the top level of a test file.
 */
export function scratchBackends(memoryRoot = ""): Array<[string, () => Promise<Scratch>]> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  return [
    ["memory", async () => ({ fs: new MemoryFileSystem({ store: "private" }), root: memoryRoot })],
    [
      "file",
      async () => {
        const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-scratch-"));
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        return { fs: new LocalFileSystem(), root: dir };
      },
    ],
  ];
}
