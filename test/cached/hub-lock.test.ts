/**
 * HubLock: the flock huggingface_hub takes on `.locks/<repo>/<etag>.lock`, taken through the
 * `flock` program on our own descriptor; and the FileLock it falls back to without that program.
 * Each test loads the module afresh (its FsError class too): it remembers whether the program exists.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { codeOf } from "../support/errors.js";

let dir: string;
beforeEach(async () => {
  vi.resetModules();
  dir = await mkdtemp(join(tmpdir(), "hub-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadHubLock() {
  return (await import("../../src/cached/hub-lock.js")).HubLock;
}

/** Whether another process could take the flock at `path` right now. */
const freeForOthers = (path: string) => spawnSync("flock", ["--nonblock", path, "true"]).status === 0;
const hasFlock = spawnSync("flock", ["--version"], { stdio: "ignore" }).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasFlock)("with the flock program", () => {
  it("holds the flock until release, also against this process; waiters take turns; the file stays", async () => {
    const HubLock = await loadHubLock();
    const path = join(dir, "blob.lock");
    const first = await HubLock.acquire(path);
    expect(freeForOthers(path)).toBe(false);
    let second = false;
    const waiting = HubLock.acquire(path).then((lock) => ((second = true), lock));
    await sleep(200);
    expect(second).toBe(false);
    await first.release();
    const lock = await waiting;
    expect(freeForOthers(path)).toBe(false);
    await lock.release();
    expect(freeForOthers(path)).toBe(true);
    expect(await readdir(dir)).toEqual(["blob.lock"]);
  });

  it("a wait ends with ETIMEDOUT or EABORT, and leaves the lock to its holder", async () => {
    const HubLock = await loadHubLock();
    const path = join(dir, "blob.lock");
    const held = await HubLock.acquire(path);
    expect(await codeOf(HubLock.acquire(path, { timeoutMs: 100 }))).toBe("ETIMEDOUT");
    const controller = new AbortController();
    const aborted = codeOf(HubLock.acquire(path, { signal: controller.signal }));
    await sleep(50);
    controller.abort();
    expect(await aborted).toBe("EABORT");
    // Aborted while the lock file is being opened, before the flock program runs.
    const early = new AbortController();
    const abortedEarly = codeOf(HubLock.acquire(path, { signal: early.signal }));
    early.abort();
    expect(await abortedEarly).toBe("EABORT");
    expect(freeForOthers(path)).toBe(false);
    await held.release();
    expect(freeForOthers(path)).toBe(true);
  });
});

/** A holder file of this process (locks.ts): lock files are hard links to them. */
const ownHolder = (name: string) => name.startsWith(".fsspec-holder-") && name.includes(`-${process.pid}-`);

describe("without the flock program", () => {
  it("falls back to a FileLock beside the lock file: still one holder at a time", async () => {
    const HubLock = await loadHubLock();
    const path = join(dir, "blob.lock");
    const saved = process.env.PATH;
    process.env.PATH = dir; // nothing to run here
    try {
      const first = await HubLock.acquire(path);
      // Besides the lock files: the holder file the fallback lock links to (this process's, removed at exit).
      expect((await readdir(dir)).filter((n) => !ownHolder(n)).sort()).toEqual(["blob.lock", "blob.lock.fsspec-ts"]);
      let second = false;
      const waiting = HubLock.acquire(path).then((lock) => ((second = true), lock));
      await sleep(200);
      expect(second).toBe(false);
      await first.release();
      await (await waiting).release();
      expect((await readdir(dir)).filter((n) => !ownHolder(n))).toEqual(["blob.lock"]);
    } finally {
      process.env.PATH = saved;
    }
  });
});
