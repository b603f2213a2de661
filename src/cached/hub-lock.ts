/**
 * The lock huggingface_hub holds on `.locks/<repo folder>/<etag>.lock` while it fetches a blob:
 * flock(2) on that file (Python's filelock), which Node has no call for. util-linux's `flock`
 * program takes it for us on a descriptor we open and hand it: flock locks belong to the open
 * file description, which the child shares, so the lock stays with our descriptor after the
 * program exits and ends when we close it, or when this process dies (no stale locks). The lock
 * file itself stays, as filelock leaves it.
 *
 * Where there is no `flock` program (macOS, Windows), or the filesystem refuses flock, a
 * FileLock on `<etag>.lock.fsspec-ts` takes its place: fsspec-ts processes still take turns,
 * huggingface_hub does not see it.
 */
import { spawn } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { FsError, isFsError, throwIfAborted, toFsError } from "../core/errors.js";
import { LocalFileSystem } from "../implementations/local.js";
import { FileLock } from "./locks.js";

export interface HubLockOptions {
  signal?: AbortSignal;
  /** Give up with ETIMEDOUT after this long (ms; default: wait as long as the holder works). */
  timeoutMs?: number;
}

/** Whether the `flock` program runs here; learned on first use. */
let flockProgram: boolean | undefined;

const OPEN_FLAGS = fsConstants.O_RDWR | fsConstants.O_CREAT | (fsConstants.O_NOFOLLOW ?? 0);

export class HubLock {
  private constructor(private readonly release_: () => Promise<void>) {}

  /** Wait for and take the lock at `path` (its folder must exist). */
  static async acquire(path: string, options: HubLockOptions = {}): Promise<HubLock> {
    return (await HubLock.take(path, options, true))!.lock;
  }

  /**
   * Take the lock at `path` only if nobody holds it now; undefined when someone does. `flock`
   * says whether the lock is the flock huggingface_hub takes too (false: the FileLock fallback,
   * which only fsspec-ts processes see).
   */
  static async tryAcquire(path: string): Promise<{ lock: HubLock; flock: boolean } | undefined> {
    return HubLock.take(path, {}, false);
  }

  private static async take(path: string, options: HubLockOptions, wait: boolean): Promise<{ lock: HubLock; flock: boolean } | undefined> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    while (flockProgram !== false) {
      throwIfAborted(options.signal, path);
      const fh = await open(path, OPEN_FLAGS, 0o664).catch((err) => {
        throw toFsError(err, path);
      });
      let outcome: "locked" | "busy" | "no-program" | "refused";
      try {
        outcome = await flockDescriptor(fh, path, options.signal, deadline, wait);
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      if (outcome === "busy") {
        await fh.close().catch(() => undefined);
        return undefined;
      }
      if (outcome !== "locked") {
        await fh.close().catch(() => undefined);
        if (outcome === "no-program") flockProgram = false;
        // A filesystem without flock (some network mounts): nobody can take this lock, so
        // fsspec-ts processes take turns on their own (cached files never depend on a lock).
        break;
      }
      flockProgram = true;
      // Locked an inode someone unlinked meanwhile (older filelock versions delete the file on
      // release): others lock the new file at the path, so try again there.
      if (!(await sameInode(fh, path))) {
        await fh.close().catch(() => undefined);
        continue;
      }
      // Group-writable, as huggingface_hub makes its lock files, so users sharing a cache can wait on it.
      await fh.chmod(0o664).catch(() => undefined);
      return { lock: new HubLock(() => fh.close()), flock: true };
    }
    try {
      const lock = await FileLock.acquire(new LocalFileSystem(), `${path}.fsspec-ts`, {
        signal: options.signal,
        timeoutMs: !wait ? 0 : deadline === Infinity ? undefined : Math.max(0, deadline - Date.now()),
      });
      return { lock: new HubLock(() => lock.release()), flock: false };
    } catch (err) {
      if (!wait && isFsError(err, "ETIMEDOUT")) return undefined;
      throw err;
    }
  }

  /** Give the lock up (closing the descriptor ends the flock). */
  async release(): Promise<void> {
    await this.release_();
  }
}

async function sameInode(fh: FileHandle, path: string): Promise<boolean> {
  try {
    const [held, now] = await Promise.all([fh.stat(), stat(path)]);
    return held.nlink > 0 && held.ino === now.ino && held.dev === now.dev;
  } catch {
    return false;
  }
}

/** `flock`'s exit status when `--nonblock` finds the lock held. */
const BUSY_EXIT = 75;

/** Run `flock --exclusive 3` on our descriptor; it exits once the lock is ours (at once with `wait` false: "busy" if held). */
function flockDescriptor(fh: FileHandle, path: string, signal: AbortSignal | undefined, deadline: number, wait: boolean): Promise<"locked" | "busy" | "no-program" | "refused"> {
  const aborted = () => new FsError("EABORT", "aborted while waiting for a Hugging Face cache lock", { path, cause: signal?.reason });
  // Aborted while the lock file was being opened: the listener below would never fire.
  if (signal?.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const args = wait ? ["--exclusive", "3"] : ["--exclusive", "--nonblock", "--conflict-exit-code", String(BUSY_EXIT), "3"];
    const child = spawn("flock", args, { stdio: ["ignore", "ignore", "ignore", fh.fd] });
    let stopped: FsError | undefined;
    const stop = (why: FsError) => {
      stopped ??= why;
      child.kill("SIGKILL");
    };
    const onAbort = () => stop(aborted());
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => stop(new FsError("ETIMEDOUT", "timed out waiting for the Hugging Face cache lock (another process is downloading this file)", { path })), Math.max(0, deadline - Date.now()))
      : undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (err: NodeJS.ErrnoException) => {
      done();
      if (err.code === "ENOENT") resolve("no-program");
      else reject(toFsError(err, path));
    });
    child.on("close", (code) => {
      done();
      // Killed after it took the lock: the caller closes the descriptor, which releases it.
      if (stopped) reject(stopped);
      else resolve(code === 0 ? "locked" : code === BUSY_EXIT && !wait ? "busy" : "refused");
    });
  });
}
