import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { existsSync, linkSync, mkdirSync, promises as nodeFsPromises, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createFsFromVolume, Volume } from "memfs";
import { FileLock, LocalFileSystem, MemoryFileSystem, type AbstractFileSystem, type NodeFsLike, type PipeMode } from "../../src/index.js";
import { pidAlive } from "../../src/cached/locks.js";
import { StorageDir } from "../../src/cached/storage.js";
import { errorOf } from "../support/errors.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The pid of a process that has exited (and been reaped). */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;
const holder = (pid: number, time: number) => JSON.stringify({ pid, host: hostname(), token: "someone-else", time });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-locks-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const backends: Array<[string, () => { fs: AbstractFileSystem; path: string }]> = [
  ["memory", () => ({ fs: new MemoryFileSystem({ store: "private" }), path: "/locks/entry.lock" })],
  ["local disk", () => ({ fs: new LocalFileSystem(), path: join(dir, `l-${Math.random().toString(36).slice(2)}.lock`) })],
];

describe.each(backends)("FileLock on %s", (_name, make) => {
  it("holds the lock file while held and removes it on release", async () => {
    const { fs, path } = make();
    const lock = await FileLock.acquire(fs, path);
    const content = JSON.parse(await fs.readText(path));
    expect(content).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    expect(await fs.exists(path)).toBe(false);
  });

  it("a second taker waits until the first releases", async () => {
    const { fs, path } = make();
    const events: string[] = [];
    const first = await FileLock.acquire(fs, path);
    const second = FileLock.acquire(fs, path, { pollMs: 5 }).then((l) => {
      events.push("second acquired");
      return l;
    });
    await pause(100);
    events.push("first releasing");
    await first.release();
    await (await second).release();
    expect(events).toEqual(["first releasing", "second acquired"]);
  });

  it("breaks the lock of a dead process on this host at once", async () => {
    const { fs, path } = make();
    const pid = deadPid();
    expect(pidAlive(pid)).toBe(false);
    await fs.pipe(path, holder(pid, Date.now()));
    const lock = await FileLock.acquire(fs, path, { timeoutMs: 5_000 });
    expect(JSON.parse(await fs.readText(path)).pid).toBe(process.pid);
    await lock.release();
  });

  it("breaks a lock not refreshed for staleMs, even if its pid lives", async () => {
    const { fs, path } = make();
    await fs.pipe(path, holder(process.ppid, Date.now() - 10_000));
    const lock = await FileLock.acquire(fs, path, { staleMs: 1_000, timeoutMs: 5_000 });
    await lock.release();
  });

  it("breaks a corrupt lock once it stays corrupt for staleMs", async () => {
    const { fs, path } = make();
    await fs.pipe(path, "{not json");
    const lock = await FileLock.acquire(fs, path, { staleMs: 50, pollMs: 5 });
    expect(JSON.parse(await fs.readText(path)).pid).toBe(process.pid);
    await lock.release();
  });

  it("never breaks a live holder that keeps refreshing; gives up with ETIMEDOUT", async () => {
    const { fs, path } = make();
    const first = await FileLock.acquire(fs, path, { staleMs: 200 });
    const err = await errorOf(FileLock.acquire(fs, path, { staleMs: 200, pollMs: 10, timeoutMs: 700 }));
    expect(err.code).toBe("ETIMEDOUT");
    expect(first.compromised).toBe(false);
    await first.release();
  });

  it("a holder in this process whose heartbeat was starved (a blocked event loop) is not broken", async () => {
    const { fs, path } = make();
    const first = await FileLock.acquire(fs, path, { staleMs: 100 });
    const until = Date.now() + 350;
    while (Date.now() < until); // no heartbeat can run: the lock file's time goes stale
    // Read before the overdue heartbeat gets a turn (on a local disk it rewrites the file in place
    // with two calls, faster than an async read of it): synchronously where the file is on disk.
    const written = fs instanceof LocalFileSystem ? readFileSync(path, "utf8") : await fs.readText(path);
    expect(Date.now() - JSON.parse(written).time).toBeGreaterThan(100);
    const err = await errorOf(FileLock.acquire(fs, path, { staleMs: 100, pollMs: 10, timeoutMs: 300 }));
    expect(err.code).toBe("ETIMEDOUT");
    expect(first.compromised).toBe(false);
    await first.release();
    // Released: the same file, were it left behind, would now be broken at once.
    await fs.pipe(path, JSON.stringify({ pid: process.pid, host: hostname(), token: "released-earlier", time: Date.now() }));
    const next = await FileLock.acquire(fs, path, { staleMs: 60_000, timeoutMs: 1_000 });
    await next.release();
  });

  it("waiting can be aborted", async () => {
    const { fs, path } = make();
    const first = await FileLock.acquire(fs, path);
    const controller = new AbortController();
    const waiting = FileLock.acquire(fs, path, { signal: controller.signal, pollMs: 5 });
    controller.abort();
    expect((await errorOf(waiting)).code).toBe("EABORT");
    await first.release();
  });

  it("release leaves a lock alone that another process took over", async () => {
    const { fs, path } = make();
    const lock = await FileLock.acquire(fs, path);
    await fs.pipe(path, holder(process.ppid, Date.now()));
    await lock.release();
    expect(JSON.parse(await fs.readText(path)).token).toBe("someone-else");
  });
});

describe("FileLock on a local disk: the lock file is held open", () => {
  const openFds = () => readdirSync("/proc/self/fd").length;

  it("heartbeats rewrite the same file in place; release removes it; descriptors stay bounded (one free holder file)", async () => {
    const fs = new LocalFileSystem();
    const sub = join(dir, "held");
    mkdirSync(sub);
    const path = join(sub, "held.lock");
    const before = openFds();
    const lock = await FileLock.acquire(fs, path, { staleMs: 200 });
    const ino = statSync(path).ino;
    const first = JSON.parse(readFileSync(path, "utf8"));
    await pause(150); // a few heartbeats (every 50 ms here)
    const later = JSON.parse(readFileSync(path, "utf8"));
    expect(statSync(path).ino).toBe(ino);
    expect(later).toMatchObject({ pid: process.pid, token: first.token });
    expect(later.time).toBeGreaterThan(first.time);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    for (let i = 0; i < 20; i++) await (await FileLock.acquire(fs, path)).release();
    // The holder file the locks linked to stays open for the next lock of the directory.
    expect(openFds()).toBe(before + 1);
    expect(readdirSync(sub).filter((n) => n.startsWith(".fsspec-holder-"))).toHaveLength(1);
  });

  it("a lock file is a hard link to a holder file of this process, written before it appears and reused by the next lock: no new inode a lock", async () => {
    const fs = new LocalFileSystem();
    const sub = join(dir, "links");
    mkdirSync(sub);
    const a = await FileLock.acquire(fs, join(sub, "a.lock"));
    const st = statSync(join(sub, "a.lock"));
    expect(st.nlink).toBe(2);
    const holders = readdirSync(sub).filter((n) => n.startsWith(`.fsspec-holder-`) && n.includes(`-${process.pid}-`));
    expect(holders).toHaveLength(1);
    expect(statSync(join(sub, holders[0]!)).ino).toBe(st.ino);
    // Two locks at once: two holder files.
    const b = await FileLock.acquire(fs, join(sub, "b.lock"));
    expect(statSync(join(sub, "b.lock")).ino).not.toBe(st.ino);
    expect(JSON.parse(readFileSync(join(sub, "b.lock"), "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    await a.release();
    await b.release();
    const c = await FileLock.acquire(fs, join(sub, "c.lock"));
    const inos = new Set(readdirSync(sub).filter((n) => n.startsWith(".fsspec-holder-")).map((n) => statSync(join(sub, n)).ino));
    expect(inos.has(statSync(join(sub, "c.lock")).ino)).toBe(true);
    expect(inos.size).toBe(2);
    const content = JSON.parse(readFileSync(join(sub, "c.lock"), "utf8"));
    await c.release();
    // The reused holder was rewritten whole: no tail of a longer earlier holder.
    expect(content).toMatchObject({ pid: process.pid, host: hostname() });
    expect(existsSync(join(sub, "c.lock"))).toBe(false);
  });

  it("a holder file still linked elsewhere after release is never reused; one removed meanwhile is replaced", async () => {
    const fs = new LocalFileSystem();
    const sub = join(dir, "relinked");
    mkdirSync(sub);
    const path = join(sub, "x.lock");
    const first = await FileLock.acquire(fs, path);
    const ino = statSync(path).ino;
    linkSync(path, join(sub, "extra-link")); // as a lock whose removal failed would leave it
    await first.release();
    const second = await FileLock.acquire(fs, path);
    expect(statSync(path).ino).not.toBe(ino);
    await second.release();
    // A tidy-up (or a cleared directory) removed the free holder file: the next lock makes a new one.
    for (const n of readdirSync(sub)) if (n.startsWith(".fsspec-holder-")) unlinkSync(join(sub, n));
    const third = await FileLock.acquire(fs, path);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ pid: process.pid });
    expect(statSync(path).nlink).toBe(2);
    await third.release();
    expect(existsSync(path)).toBe(false);
  });

  it("a process that exits leaves no holder file; one killed leaves one that the cache's tidy-up removes", async () => {
    const sub = join(dir, "exits");
    mkdirSync(sub);
    const locks = new URL("../../src/cached/locks.ts", import.meta.url).href;
    const local = new URL("../../src/implementations/local.ts", import.meta.url).href;
    const script = (end: string) =>
      `const { FileLock } = await import(${JSON.stringify(locks)}); const { LocalFileSystem } = await import(${JSON.stringify(local)});` +
      `const l = await FileLock.acquire(new LocalFileSystem(), ${JSON.stringify(join(sub, "e.lock"))}); await l.release(); ${end}`;
    const run = (end: string) => spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(end)], { encoding: "utf8" });
    const clean = run("");
    expect(clean.status, clean.stderr).toBe(0);
    expect(readdirSync(sub)).toEqual([]);
    const killed = run("process.kill(process.pid, 'SIGKILL');");
    expect(killed.signal).toBe("SIGKILL");
    const left = readdirSync(sub);
    expect(left).toHaveLength(1);
    expect(left[0]).toContain(`-${killed.pid}-`);
    const storage = new StorageDir(new LocalFileSystem(), sub, false, 0);
    expect(await storage.cleanTemporaries(60_000)).toBe(1);
    expect(readdirSync(sub)).toEqual([]);
  }, 30_000);

  it("a lock file replaced by another holder: the heartbeat marks ours compromised, release leaves theirs and closes ours", async () => {
    const fs = new LocalFileSystem();
    const path = join(dir, "replaced.lock");
    const before = openFds();
    const lock = await FileLock.acquire(fs, path, { staleMs: 200 });
    await fs.pipe(path, holder(process.ppid, Date.now())); // a new file (inode) at the path
    await pause(120);
    expect(lock.compromised).toBe(true);
    expect(JSON.parse(readFileSync(path, "utf8")).token).toBe("someone-else");
    await lock.release();
    expect(JSON.parse(readFileSync(path, "utf8")).token).toBe("someone-else");
    expect(openFds()).toBe(before);
  });
});

describe("FileLock: a lock left by a dead process, many waiters of this process", () => {
  it("never has two holders at once, however the breaking and taking interleave (local disk and memfs)", async () => {
    const vol = new Volume();
    vol.mkdirSync("/c");
    const memfs = createFsFromVolume(vol) as unknown as NodeFsLike;
    for (const [fs, base, write] of [
      [new LocalFileSystem(), dir, (p: string, d: string) => writeFileSync(p, d)],
      [new LocalFileSystem({ fs: memfs }), "/c", (p: string, d: string) => vol.writeFileSync(p, d)],
    ] as const) {
      let overlaps = 0;
      for (let round = 0; round < 60; round++) {
        const path = join(base, `dead-${round}.lock`);
        write(path, JSON.stringify({ pid: deadPid(), host: hostname(), token: "dead", time: Date.now() }));
        let inside = 0;
        await Promise.all(
          Array.from({ length: 6 }, () =>
            FileLock.with(fs, path, { pollMs: 1, maxPollMs: 2 }, async () => {
              if (++inside > 1) overlaps++;
              await pause(2);
              inside--;
            }),
          ),
        );
      }
      expect(overlaps, fs.fs === memfs.promises ? "memfs" : "disk").toBe(0);
    }
  }, 60_000);

  it("a sibling that reads the new lock file before its taker has returned waits: no two holders (a slow exclusive create)", async () => {
    const fs = new SlowCreates({ store: "private" });
    let inside = 0;
    let overlaps = 0;
    const body = async () => {
      if (++inside > 1) overlaps++;
      await pause(40);
      inside--;
    };
    await Promise.all([
      FileLock.with(fs, "/c/entry.lock", { pollMs: 5, maxPollMs: 5 }, body),
      pause(10).then(() => FileLock.with(fs, "/c/entry.lock", { pollMs: 5, maxPollMs: 5 }, body)),
    ]);
    expect(overlaps).toBe(0);
  });

  it("on memfs (which reuses inode numbers) a lock removed and re-taken by another is left to it", async () => {
    const vol = new Volume();
    vol.mkdirSync("/c");
    const fs = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike });
    const lock = await FileLock.acquire(fs, "/c/x.lock", { staleMs: 200 });
    vol.unlinkSync("/c/x.lock");
    vol.writeFileSync("/c/x.lock", holder(process.ppid, Date.now()));
    await pause(120);
    expect(lock.compromised).toBe(true);
    await lock.release();
    expect(JSON.parse(String(vol.readFileSync("/c/x.lock", "utf8"))).token).toBe("someone-else");
  });
});

/** A memory filesystem whose exclusive creates of lock files return 30 ms after the file appears (a busy thread pool). */
class SlowCreates extends MemoryFileSystem {
  protected override _pipeFile(path: string, data: Uint8Array, mode: PipeMode): Promise<void> {
    return super._pipeFile(path, data, mode).then(async () => {
      if (mode === "create" && !path.includes(".fsspec-break-")) await pause(30);
    });
  }
}

/** A memory filesystem whose overwrites (lock heartbeats) wait at a gate, then land a turn later. */
class GatedOverwrites extends MemoryFileSystem {
  gate: Promise<void> | undefined;
  landed: Promise<void> | undefined;
  readonly entered: Promise<void>;
  private signalEntered!: () => void;

  constructor() {
    super({ store: "private" });
    this.entered = new Promise((r) => (this.signalEntered = r));
  }

  protected override _pipeFile(path: string, data: Uint8Array, mode: PipeMode): Promise<void> {
    if (mode !== "overwrite" || !this.gate) return super._pipeFile(path, data, mode);
    this.signalEntered();
    this.landed = this.gate
      .then(() => new Promise<void>((r) => setImmediate(r)))
      .then(() => super._pipeFile(path, data, mode));
    return this.landed;
  }
}

describe("FileLock heartbeat", () => {
  it("a refresh in flight when the lock is released cannot write the lock file back", async () => {
    const fs = new GatedOverwrites();
    await fs.pipe("/l/other", "keeps the directory");
    let open!: () => void;
    fs.gate = new Promise((r) => (open = r));
    const lock = await FileLock.acquire(fs, "/l/entry.lock", { staleMs: 200 });
    await fs.entered; // the heartbeat is rewriting the lock file
    const released = lock.release();
    open();
    await released;
    await fs.landed;
    expect(await fs.exists("/l/entry.lock")).toBe(false);
    // So the next taker gets it at once rather than waiting out staleMs.
    const next = await FileLock.acquire(fs, "/l/entry.lock", { timeoutMs: 0 });
    await next.release();
  });
});

// Last in the file: once the disk refuses a hard link, this process takes O_EXCL lock files for good.
describe("FileLock where the disk refuses hard links", () => {
  it("falls back to an exclusive create of the lock file, and leaves no holder file", async () => {
    const sub = join(dir, "no-links");
    mkdirSync(sub);
    const refuse = vi.spyOn(nodeFsPromises, "link").mockRejectedValue(Object.assign(new Error("operation not permitted"), { code: "EPERM" }));
    try {
      const fs = new LocalFileSystem();
      const lock = await FileLock.acquire(fs, join(sub, "f.lock"));
      expect(refuse).toHaveBeenCalledTimes(1);
      expect(statSync(join(sub, "f.lock")).nlink).toBe(1);
      expect(readdirSync(sub)).toEqual(["f.lock"]);
      await lock.release();
      await (await FileLock.acquire(fs, join(sub, "f.lock"))).release();
      expect(refuse).toHaveBeenCalledTimes(1); // not tried again
      expect(readdirSync(sub)).toEqual([]);
    } finally {
      refuse.mockRestore();
    }
  });
});
