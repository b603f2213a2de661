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
import { FsError, throwIfAborted, toFsError } from "../core/errors.js";
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
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    while (flockProgram !== false) {
      throwIfAborted(options.signal, path);
      const fh = await open(path, OPEN_FLAGS, 0o664).catch((err) => {
        throw toFsError(err, path);
      });
      let outcome: "locked" | "no-program" | "refused";
      try {
        outcome = await flockDescriptor(fh, path, options.signal, deadline);
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
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
      return new HubLock(() => fh.close());
    }
    const lock = await FileLock.acquire(new LocalFileSystem(), `${path}.fsspec-ts`, {
      signal: options.signal,
      timeoutMs: deadline === Infinity ? undefined : Math.max(0, deadline - Date.now()),
    });
    return new HubLock(() => lock.release());
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

/** Run `flock --exclusive 3` on our descriptor; it exits once the lock is ours. */
function flockDescriptor(fh: FileHandle, path: string, signal: AbortSignal | undefined, deadline: number): Promise<"locked" | "no-program" | "refused"> {
  const aborted = () => new FsError("EABORT", "aborted while waiting for a Hugging Face cache lock", { path, cause: signal?.reason });
  // Aborted while the lock file was being opened: the listener below would never fire.
  if (signal?.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const child = spawn("flock", ["--exclusive", "3"], { stdio: ["ignore", "ignore", "ignore", fh.fd] });
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
      else resolve(code === 0 ? "locked" : "refused");
    });
  });
}
