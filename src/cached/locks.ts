/**
 * A lock file per cache entry, shared by every process that uses the cache directory. The lock
 * is taken by creating the file exclusively and holds `{pid, host, token, time}`; the holder
 * rewrites `time` while it works. On node's own disk the lock file is a hard link to a holder
 * file of this process (`.fsspec-holder-<host>-<pid>-<random>`, kept open and reused by its next
 * lock): `link` fails when the name exists, as an O_EXCL create does, but allocates no inode,
 * which ext4 makes cost up to a millisecond where files were deleted lately (measured:
 * docs/benchmarks.md), and the lock appears with its holder already written. Where hard links
 * are refused, an O_EXCL open kept open while held; on other filesystems, and for breakers,
 * `pipeFile(..., {mode: "create"})`. A waiter breaks the lock when its
 * holder is dead (same host, pid gone) or has not refreshed it for `staleMs`. Cached data never
 * depends on a lock for correctness (files are renamed into place whole); locks spare duplicate
 * downloads and keep metadata merges from losing entries.
 */
import { createHash, randomBytes } from "node:crypto";
import { fstatSync, promises as nodeFsPromises, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError, throwIfAborted, toFsError } from "../core/errors.js";
import { basename, joinPath, parentOf } from "../core/paths.js";
import { LocalFileSystem } from "../implementations/local.js";

type LocalHandle = Awaited<ReturnType<LocalFileSystem["fs"]["open"]>>;

/**
 * A lock file this process holds open on a local disk: the open handle pins its inode, so "is the
 * file at the path still ours" is one lstat compared with it (no read of the holder), and the
 * heartbeat rewrites it in place. Either the lock file itself (O_EXCL) or a holder file it links to.
 */
interface HeldFile {
  fh: LocalHandle;
  ino: number;
  dev: number;
  /** Bytes of holder JSON written last (a rewrite of another length truncates). */
  length: number;
}

/** A file of this process that lock files are hard links to, one lock at a time; reused after. */
interface HolderFile extends HeldFile {
  path: string;
  dir: string;
}

function isHolderFile(held: HeldFile): held is HolderFile {
  return "dir" in held;
}

/** Options of `FileLock.acquire` (the cache layers pass `lockStaleMs` and `lockTimeoutMs`). */
export interface LockOptions {
  /** A lock not refreshed for this long is taken to be abandoned (default 60 s). */
  staleMs?: number;
  /** First pause between tries; doubles up to `maxPollMs` (defaults 25 and 500 ms). */
  pollMs?: number;
  /** Longest pause between tries, in milliseconds (default 500). */
  maxPollMs?: number;
  /** Give up with ETIMEDOUT after this long (default: wait as long as the holder lives). */
  timeoutMs?: number;
  /** Stops waiting: EABORT. */
  signal?: AbortSignal;
}

/** Milliseconds after which a lock not refreshed is taken to be abandoned, by default: 60,000. */
export const DEFAULT_STALE_MS = 60_000;
/** A breaker file is held for a few milliseconds; older than this, its maker died. */
const BREAKER_STALE_MS = 10_000;

interface Holder {
  pid: number;
  host: string;
  token: string;
  time: number;
}

const HOST = hostname();
/** This host in the names of temporaries: short, and no characters a file name cannot hold. */
export const HOST_TAG = createHash("sha256").update(HOST).digest("hex").slice(0, 8);
/** Holder files: `.fsspec-holder-<host tag>-<pid>-<random>` (see cleanTemporaries in storage.ts). */
const HOLDER_PREFIX = ".fsspec-holder-";
const decoder = new TextDecoder();

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, path: string): Promise<void> {
  throwIfAborted(signal, path);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new FsError("EABORT", "aborted while waiting for a cache lock", { path, cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The lock's holder; "gone" when there is no lock file, "corrupt" when it cannot be parsed. */
async function readHolder(fs: AbstractFileSystem, path: string): Promise<Holder | "gone" | "corrupt"> {
  let raw: Uint8Array;
  try {
    raw = await fs.catFile(path);
  } catch (err) {
    if (isFsError(err, "ENOENT")) return "gone";
    throw err;
  }
  try {
    const h = JSON.parse(decoder.decode(raw)) as Holder;
    if (typeof h.pid === "number" && typeof h.token === "string" && typeof h.time === "number") return h;
  } catch {
    // fall through
  }
  return "corrupt";
}

/** Tokens of the locks this process holds now: its own holders are judged by these, not by time. */
const heldHere = new Set<string>();

function isStale(holder: Holder, staleMs: number): boolean {
  if (holder.host === HOST) {
    // A holder in this process is alive exactly while it holds: a stalled event loop (GC, a
    // loaded machine) delays its heartbeat but must never get it broken by a sibling.
    if (holder.pid === process.pid) return !heldHere.has(holder.token);
    if (!pidAlive(holder.pid)) return true;
  }
  return Date.now() - holder.time > staleMs;
}

/**
 * A lock shared by processes: a lock file created exclusively on any filesystem with atomic exclusive
 * create (the local disk, memory), refreshed by a heartbeat while held. A holder that died (its process
 * is gone, or its lock went `staleMs` without a refresh) is broken.
 */
export class FileLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  /** The heartbeat in progress: release waits for it, so it cannot rewrite a removed lock file. */
  private refreshing: Promise<void> | undefined;
  /** Set when another process broke this lock while we held it (we were taken for dead). */
  compromised = false;

  private constructor(
    private readonly fs: AbstractFileSystem,
    /** The lock file's path. */
    readonly path: string,
    private readonly token: string,
    staleMs: number,
    private readonly held: HeldFile | undefined,
  ) {
    heldHere.add(token);
    // Refresh well inside the stale limit so a slow but live holder is never broken.
    this.timer = setInterval(() => {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    }, Math.max(50, Math.floor(staleMs / 4)));
    this.timer.unref();
  }

  /** Wait for and take the lock at `path`. */
  static async acquire(fs: AbstractFileSystem, path: string, options: LockOptions = {}): Promise<FileLock> {
    const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    const maxPoll = options.maxPollMs ?? 500;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let poll = options.pollMs ?? 25;
    let corruptSince: number | undefined;
    const token = randomBytes(12).toString("hex");
    for (;;) {
      throwIfAborted(options.signal, path);
      // Ours from the moment the file may exist: a sibling waiter in this process that reads it
      // before we return must take it for a live holder, not for a leftover of this pid.
      heldHere.add(token);
      let created: HeldFile | boolean;
      try {
        created = await tryCreate(fs, path, token);
      } catch (err) {
        heldHere.delete(token);
        throw err;
      }
      if (created) return new FileLock(fs, path, token, staleMs, created === true ? undefined : created);
      heldHere.delete(token);
      const holder = await readHolder(fs, path);
      if (holder === "gone") continue;
      if (holder === "corrupt") corruptSince ??= Date.now();
      else corruptSince = undefined;
      const stale = holder === "corrupt" ? Date.now() - corruptSince! > staleMs : isStale(holder, staleMs);
      if (stale) {
        await breakLock(fs, path, holder);
        continue;
      }
      if (Date.now() + poll > deadline) {
        throw new FsError("ETIMEDOUT", `timed out waiting for the cache lock held by pid ${holder === "corrupt" ? "?" : holder.pid}`, { path });
      }
      await sleep(poll, options.signal, path);
      poll = Math.min(maxPoll, poll * 2);
    }
  }

  /** Run `fn` holding the lock at `path`. */
  static async with<T>(fs: AbstractFileSystem, path: string, options: LockOptions, fn: (lock: FileLock) => Promise<T>): Promise<T> {
    const lock = await FileLock.acquire(fs, path, options);
    try {
      return await fn(lock);
    } finally {
      await lock.release();
    }
  }

  private async refresh(): Promise<void> {
    if (this.released) return;
    if (this.held) return this.refreshHeld(this.held);
    try {
      const holder = await readHolder(this.fs, this.path);
      if (this.released) return;
      if (holder === "gone" || holder === "corrupt" || holder.token !== this.token) {
        this.compromised = true;
        return;
      }
      await this.fs.pipeFile(this.path, holderBytes(this.token));
    } catch {
      // A missed heartbeat only risks the lock being broken later; the work itself goes on.
    }
  }

  /** The heartbeat of a lock file we hold open: still the file at the path? Then rewrite it in place. */
  private async refreshHeld(held: HeldFile): Promise<void> {
    try {
      if (!(await isStillOurs(held, this.fs, this.path))) {
        this.compromised = true;
        return;
      }
      if (this.released) return;
      await writeHolder(held, this.token);
    } catch {
      // A missed heartbeat only risks the lock being broken later; the work itself goes on.
    }
  }

  /** Give the lock up (only if it is still ours). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.timer = undefined;
    // The token stays this process's until the file is gone: a sibling waiter that read it while
    // we check and remove it would otherwise take it for a leftover, break it, let a third take the
    // lock, and we would then remove the third's lock.
    try {
      await this.refreshing;
      if (this.held) {
        const held = this.held;
        try {
          if (await isStillOurs(held, this.fs, this.path)) await this.removeFile();
        } finally {
          if (isHolderFile(held)) await spareHolder(this.fs as LocalFileSystem, held);
          else await held.fh.close().catch(() => undefined);
        }
        return;
      }
      const holder = await readHolder(this.fs, this.path).catch(() => "corrupt" as const);
      if (holder !== "gone" && holder !== "corrupt" && holder.token === this.token) await this.removeFile();
    } finally {
      heldHere.delete(this.token);
    }
  }

  private async removeFile(): Promise<void> {
    await this.fs.rmFile(this.path).catch((err: unknown) => {
      if (!isFsError(err, "ENOENT")) throw err;
    });
  }

  /** `release()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

function holderBytes(token: string): string {
  return JSON.stringify({ pid: process.pid, host: HOST, token, time: Date.now() } satisfies Holder);
}

/** Holder files free for the next lock, by directory, the oldest first. */
const spareHolders = new Map<string, HolderFile[]>();
/** Every holder file this process has open (free or linked to a lock): removed at exit. */
const liveHolders = new Set<HolderFile>();
/** Free holder files kept open at most, all directories together: a descriptor each. */
const MAX_SPARE_HOLDERS = 8;
let spareCount = 0;
/** Cleared when the disk refuses hard links (FAT, some network mounts): locks are then O_EXCL files. */
let linksWork = true;
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"]);
let exitHook = false;

function removeHoldersAtExit(): void {
  for (const h of liveHolders) {
    try {
      unlinkSync(h.path);
    } catch {
      // gone already, or the directory with it
    }
  }
}

/** Open a new file at `path` exclusively (O_EXCL) on node's disk: false when the name exists. */
async function openExclusive(fs: LocalFileSystem, path: string): Promise<HeldFile | false> {
  let fh: LocalHandle;
  try {
    fh = await fs.fs.open(path, "wx");
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw toFsError(err, path);
  }
  try {
    const st = await fh.stat();
    return { fh, ino: Number(st.ino), dev: Number(st.dev), length: 0 };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.fs.unlink(path).catch(() => undefined);
    throw toFsError(err, path);
  }
}

async function newHolder(fs: LocalFileSystem, dir: string): Promise<HolderFile> {
  const path = joinPath(dir, `${HOLDER_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(6).toString("hex")}`);
  const file = await openExclusive(fs, path);
  if (!file) throw new FsError("EEXIST", "a holder file of this name exists already", { path });
  const holder: HolderFile = { ...file, path, dir };
  if (!exitHook) {
    exitHook = true;
    process.once("exit", removeHoldersAtExit);
  }
  liveHolders.add(holder);
  return holder;
}

/** Close a holder file and remove its name (a lock that still links to it keeps its own). */
async function dropHolder(fs: LocalFileSystem, holder: HolderFile): Promise<void> {
  liveHolders.delete(holder);
  await holder.fh.close().catch(() => undefined);
  await fs.fs.unlink(holder.path).catch(() => undefined);
}

/**
 * A holder file back to the free ones, once no lock file links to it any more (one link: its own
 * name); one still linked (a lock whose removal failed) is dropped, never reused, so no stale lock
 * can take on a new holder's heartbeat.
 */
async function spareHolder(fs: LocalFileSystem, holder: HolderFile): Promise<void> {
  let links: number;
  try {
    links = fstatSync(holder.fh.fd).nlink;
  } catch {
    links = 0;
  }
  if (links !== 1 || spareCount >= MAX_SPARE_HOLDERS) return dropHolder(fs, holder);
  let list = spareHolders.get(holder.dir);
  if (!list) spareHolders.set(holder.dir, (list = []));
  list.push(holder);
  spareCount++;
}

function takeSpare(dir: string): HolderFile | undefined {
  const list = spareHolders.get(dir);
  const holder = list?.pop();
  if (!holder) return undefined;
  spareCount--;
  if (list!.length === 0) spareHolders.delete(dir);
  return holder;
}

/**
 * Close and remove this process's free holder files in `dir` (a cleared cache directory is left
 * empty of them); holders of locks held now are kept.
 */
export async function dropSpareHolders(fs: AbstractFileSystem, dir: string): Promise<void> {
  if (!(fs instanceof LocalFileSystem)) return;
  const list = spareHolders.get(dir);
  if (!list) return;
  spareHolders.delete(dir);
  spareCount -= list.length;
  for (const holder of list) await dropHolder(fs, holder);
}

/** Write the holder JSON of `token` over the file's start, cut to its length. */
async function writeHolder(holder: HeldFile, token: string): Promise<void> {
  const bytes = Buffer.from(holderBytes(token));
  await holder.fh.write(bytes, 0, bytes.byteLength, 0);
  if (bytes.byteLength < holder.length) await holder.fh.truncate(bytes.byteLength);
  holder.length = bytes.byteLength;
}

/**
 * Take the lock at `path` as a hard link to a holder file of this process (written first, so the
 * lock is never seen empty): the held file, false when the lock exists, undefined when the disk
 * refuses hard links (then never tried again).
 */
async function tryLink(fs: LocalFileSystem, path: string, token: string): Promise<HeldFile | false | undefined> {
  const dir = parentOf(path);
  for (let attempt = 0; ; attempt++) {
    const holder = takeSpare(dir) ?? (await newHolder(fs, dir));
    try {
      await writeHolder(holder, token);
      await fs.fs.link(holder.path, path);
      return holder;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EEXIST") {
        await spareHolder(fs, holder);
        return false;
      }
      await dropHolder(fs, holder);
      // A free holder file removed meanwhile (a tidy-up, the directory cleared): a new one.
      if (code === "ENOENT" && attempt === 0) continue;
      if (code !== undefined && NO_LINKS.has(code)) {
        linksWork = false;
        return undefined;
      }
      throw toFsError(err, path);
    }
  }
}

/**
 * Create the lock file at `path` exclusively: true, or on a local disk the open file; false when
 * it exists. A local one is opened with O_EXCL and then written, so for a moment a waiter may read
 * it empty: it takes that for a holder it cannot parse and waits (see `acquire`).
 */
async function tryCreate(fs: AbstractFileSystem, path: string, token: string, hold = true): Promise<HeldFile | boolean> {
  // Only on node's own disk: a file that is open keeps its inode number there (memfs hands a
  // freed number to the next file, so "same inode" would not mean "our file").
  if (hold && fs instanceof LocalFileSystem && fs.fs === nodeFsPromises) {
    if (linksWork) {
      const linked = await tryLink(fs, path, token);
      if (linked !== undefined) return linked;
    }
    const file = await openExclusive(fs, path);
    if (!file) return false;
    try {
      await writeHolder(file, token);
      return file;
    } catch (err) {
      await file.fh.close().catch(() => undefined);
      await fs.fs.unlink(path).catch(() => undefined);
      throw toFsError(err, path);
    }
  }
  try {
    await fs.pipeFile(path, holderBytes(token), { mode: "create" });
    return true;
  } catch (err) {
    if (isFsError(err, "EEXIST")) return false;
    throw err;
  }
}

/** Whether the file at `path` is still the one `held` has open (not removed, not replaced by a breaker's successor). */
async function isStillOurs(held: HeldFile, fs: AbstractFileSystem, path: string): Promise<boolean> {
  if (!(fs instanceof LocalFileSystem)) return false;
  try {
    const st = await fs.fs.lstat(path);
    return Number(st.ino) === held.ino && Number(st.dev) === held.dev;
  } catch {
    return false;
  }
}

/** Remove the lock at `path` if its holder is dead or stale (tidying a cache directory). */
export async function removeAbandonedLock(fs: AbstractFileSystem, path: string, staleMs = DEFAULT_STALE_MS): Promise<boolean> {
  const holder = await readHolder(fs, path).catch(() => "gone" as const);
  if (holder === "gone" || holder === "corrupt" || !isStale(holder, staleMs)) return false;
  await breakLock(fs, path, holder);
  return !(await fs.exists(path));
}

/**
 * Remove an abandoned lock. A second, short-lived "breaker" lock makes sure only one waiter
 * does it, and the holder is read again under it so a lock taken meanwhile is left alone.
 */
async function breakLock(fs: AbstractFileSystem, path: string, seen: Holder | "corrupt"): Promise<void> {
  // Its own prefix, so it can never be the lock of another entry.
  const breaker = joinPath(parentOf(path), `.fsspec-break-${basename(path)}`);
  const token = randomBytes(12).toString("hex");
  // Made whole in one step (never seen empty, which another breaker would take for corrupt and
  // remove), and ours while it exists.
  heldHere.add(token);
  const made = await tryCreate(fs, breaker, token, false).catch((err: unknown) => {
    heldHere.delete(token);
    throw err;
  });
  if (!made) {
    heldHere.delete(token);
    const other = await readHolder(fs, breaker);
    if (other === "corrupt" || (other !== "gone" && isStale(other, BREAKER_STALE_MS))) {
      await fs.rmFile(breaker).catch(() => undefined);
    }
    await sleep(5, undefined, path);
    return;
  }
  try {
    const now = await readHolder(fs, path);
    const same = now === "corrupt" ? seen === "corrupt" : now !== "gone" && seen !== "corrupt" && now.token === seen.token;
    if (same) await fs.rmFile(path).catch(() => undefined);
  } finally {
    await fs.rmFile(breaker).catch(() => undefined);
    heldHere.delete(token);
  }
}
