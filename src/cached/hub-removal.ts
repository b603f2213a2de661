/**
 * Removing from a Hugging Face Hub cache (the layout of hub-layout.ts) while huggingface_hub and
 * other fsspec-ts processes may read and download in it:
 *
 * - clear removes every repo folder (blobs, snapshots, refs, extracted archives), but for the
 *   `.incomplete` file of a download in progress (its blob's lock is held) and the folder of an
 *   extraction in progress: those finish, and the repo folder stays for them.
 * - prune removes the snapshot files fetched longer ago than the limit; a blob goes when no kept
 *   snapshot file shows it (checked again under the blob's lock, which every download and link
 *   takes), and its extracted folder goes with it; symlinks whose blob is gone go; a snapshot
 *   emptied here goes, with the refs naming its commit (huggingface_hub warns of refs to missing
 *   snapshots); `.incomplete` files older than the limit go when their lock is free; extracted
 *   folders whose archive is gone go.
 *
 * Names are only ever read with readdir and joined: a `*`, `[`, newline or other character in a
 * repo or file name names that one entry. Nothing below a symlink is walked or removed (a link is
 * removed as a link), so nothing outside the cache directory is touched.
 */
import { lstat, mkdir, readFile, rm, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { toFsError } from "../core/errors.js";
import { formatHfPath } from "../implementations/hf/path.js";
import { HubLock } from "./hub-lock.js";
import { EXTRACTED_FOLDER, fileSize } from "./hub-layout.js";
import { EXTRACT_TEMP, filesBelow, isDir, names, orphanFolders, repoOfFolder, snapshotPointers, type SnapshotPointer } from "./hub-inventory.js";

export interface HubRemovalOptions {
  /** Give up waiting for a blob's lock after this long (ms; default: wait). */
  lockTimeoutMs?: number;
  /** Without the flock huggingface_hub sees, an `.incomplete` file untouched this long is a leftover (ms; default one hour). */
  staleMs?: number;
}

const DEFAULT_STALE_MS = 3600_000;

/** The ETag an `.incomplete` download is of: `<etag>.incomplete` or `<etag>.<hex>.incomplete`. */
const INCOMPLETE = /^([^.]+)\.(?:[0-9a-f]+\.)?incomplete$/;

/** The repo folders of the cache at `dir`: real directories named `models--*`, `datasets--*`, `spaces--*`. */
async function repoFolders(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await names(dir)) if (repoOfFolder(name) && (await isDir(join(dir, name)))) out.push(name);
  return out;
}

async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch((err) => {
    throw toFsError(err, path);
  });
}

async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return false;
    throw toFsError(err, path);
  }
}

/** rmdir that leaves a folder something is still in (or that is gone). */
async function removeEmptyDir(path: string): Promise<boolean> {
  try {
    await rmdir(path);
    return true;
  } catch {
    return false;
  }
}

/** Run `fn` holding the lock at `path` (its folder is made if needed). */
async function withLock<T>(path: string, options: HubRemovalOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await HubLock.acquire(path, { timeoutMs: options.lockTimeoutMs });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/**
 * Remove the `.incomplete` download at `path` unless a download is writing it: its blob's lock is
 * held (or, without the flock huggingface_hub takes too, it was touched within `staleMs`).
 */
async function removeIdleIncomplete(path: string, lockPath: string, options: HubRemovalOptions): Promise<boolean> {
  const removed = await ifLockFree(lockPath, async (flock) => {
    if (!flock) {
      const st = await lstat(path).catch(() => undefined);
      if (!st || Date.now() - st.mtimeMs <= (options.staleMs ?? DEFAULT_STALE_MS)) return false;
    }
    return removeFile(path);
  });
  return removed === true;
}

/** Run `fn` holding the lock at `lockPath` if nobody holds it now (`flock`: whether it is the flock huggingface_hub takes too); undefined when it is held. */
async function ifLockFree<T>(lockPath: string, fn: (flock: boolean) => Promise<T>): Promise<T | undefined> {
  const taken = await HubLock.tryAcquire(lockPath).catch(() => undefined);
  if (!taken) return undefined;
  try {
    return await fn(taken.flock);
  } finally {
    await taken.lock.release();
  }
}

/**
 * Remove the extracted folders of `keys`, each under its extraction lock, unless `keep` says
 * otherwise once the lock is held; the keys removed.
 */
async function removeExtracted(repoDir: string, lockDir: string, keys: Iterable<string>, options: HubRemovalOptions, keep = async (_key: string) => false): Promise<string[]> {
  const out: string[] = [];
  for (const key of keys) {
    await withLock(join(lockDir, `${key}.extract.lock`), options, async () => {
      if (await keep(key)) return;
      await removeTree(join(repoDir, EXTRACTED_FOLDER, key));
      out.push(key);
    });
  }
  return out;
}

/** Remove the temporary folders of extractions of `key` in `base` (call holding the key's extraction lock). */
export async function removeExtractTemps(base: string, key: string): Promise<void> {
  for (const name of await names(base)) if (EXTRACT_TEMP.exec(name)?.[1] === key) await removeTree(join(base, name));
}

/** Temporaries of extractions no process runs (their lock is free): left by killed runs. */
async function removeIdleExtractTemps(repoDir: string, lockDir: string): Promise<void> {
  const base = join(repoDir, EXTRACTED_FOLDER);
  if (!(await isDir(base))) return;
  const keys = new Set((await names(base)).flatMap((name) => EXTRACT_TEMP.exec(name)?.[1] ?? []));
  for (const key of keys) await unlessExtracting(lockDir, key, () => removeExtractTemps(base, key));
}

/** Run `fn` unless an extraction of `key` runs now: the archive it reads stays until it is done. */
async function unlessExtracting<T>(lockDir: string, key: string, fn: () => Promise<T>): Promise<T | undefined> {
  return ifLockFree(join(lockDir, `${key}.extract.lock`), fn);
}

/** The lock folder of a repo folder, made so locks can be taken in it. */
async function lockDirOf(dir: string, folder: string): Promise<string> {
  const lockDir = join(dir, ".locks", folder);
  await mkdir(lockDir, { recursive: true }).catch((err) => {
    throw toFsError(err, lockDir);
  });
  return lockDir;
}

/** Remove every repo folder of the Hub cache at `dir` (see the module comment for what stays). */
export async function clearHubCache(dir: string, options: HubRemovalOptions = {}): Promise<void> {
  for (const folder of await repoFolders(dir)) {
    const repoDir = join(dir, folder);
    const lockDir = await lockDirOf(dir, folder);
    // Pointers first, blobs last: a reader never sees a snapshot link to a removed blob.
    for (const name of await names(repoDir)) {
      if (name !== "blobs" && name !== EXTRACTED_FOLDER) await removeTree(join(repoDir, name));
    }
    const extracted = join(repoDir, EXTRACTED_FOLDER);
    if (await isDir(extracted)) {
      await removeIdleExtractTemps(repoDir, lockDir);
      await removeExtracted(repoDir, lockDir, (await names(extracted)).filter((n) => !EXTRACT_TEMP.test(n)), options);
      await removeEmptyDir(extracted);
    } else {
      await removeTree(extracted);
    }
    const blobs = join(repoDir, "blobs");
    if (await isDir(blobs)) {
      for (const name of await names(blobs)) {
        const incomplete = INCOMPLETE.exec(name);
        if (incomplete) await removeIdleIncomplete(join(blobs, name), join(lockDir, `${incomplete[1]}.lock`), options);
        else await withLock(join(lockDir, `${name}.lock`), options, () => unlessExtracting(lockDir, name, () => removeTree(join(blobs, name))));
      }
      await removeEmptyDir(blobs);
    } else {
      await removeTree(blobs);
    }
    await removeEmptyDir(repoDir);
  }
}

/** The hf:// name of a snapshot file, as listHubCache gives it. */
function pathOf(folder: string, p: SnapshotPointer): string {
  return `hf://${formatHfPath({ ...repoOfFolder(folder)!, revision: p.commit, path: p.file })}`;
}

/** Remove the refs of `repoDir` that name `commit`. */
async function removeRefsTo(repoDir: string, commit: string): Promise<void> {
  const refs = join(repoDir, "refs");
  if (!(await isDir(refs))) return;
  for (const rel of await filesBelow(refs)) {
    const ref = join(refs, ...rel.split("/"));
    if (!(await lstat(ref)).isFile()) continue;
    if ((await readFile(ref, "utf8").catch(() => "")).trim() === commit) await removeFile(ref);
  }
}

/** Remove the empty folders below `dir` and then `dir` itself when empty (real folders only). */
async function removeEmptyTree(dir: string): Promise<void> {
  for (const name of await names(dir)) if (await isDir(join(dir, name))) await removeEmptyTree(join(dir, name));
  await removeEmptyDir(dir);
}

/**
 * Remove what was fetched more than `expiryMs` ago from the Hub cache at `dir` (see the module
 * comment). Returns what went, named as listHubCache names it: the hf:// path of a snapshot file,
 * the cache-relative name of a blob no snapshot showed, a download, or an orphaned folder.
 */
export async function pruneHubCache(dir: string, expiryMs: number, options: HubRemovalOptions = {}): Promise<string[]> {
  const now = Date.now();
  const removed: string[] = [];
  for (const folder of await repoFolders(dir)) {
    const repoDir = join(dir, folder);
    const lockDir = await lockDirOf(dir, folder);
    const blobsDir = join(repoDir, "blobs");
    const hasBlobs = await isDir(blobsDir);
    const emptied = new Set<string>();
    const released = new Set<string>();
    for (const p of await snapshotPointers(repoDir)) {
      const dangling = p.shown === undefined;
      if (!dangling && now - p.timeMs <= expiryMs) continue;
      if (await removeFile(p.abs)) {
        removed.push(pathOf(folder, p));
        emptied.add(p.commit);
        if (p.blob !== undefined) released.add(p.blob);
      }
    }
    for (const commit of emptied) {
      const snapshot = join(repoDir, "snapshots", commit);
      await removeEmptyTree(snapshot);
      if (!(await isDir(snapshot))) await removeRefsTo(repoDir, commit);
    }
    if (hasBlobs) {
      const wanted = async () => new Set((await snapshotPointers(repoDir)).flatMap((p) => (p.blob !== undefined && p.shown ? [p.blob] : [])));
      const shownNow = await wanted();
      for (const name of await names(blobsDir)) {
        const path = join(blobsDir, name);
        const st = await lstat(path).catch(() => undefined);
        if (!st) continue;
        const incomplete = INCOMPLETE.exec(name);
        if (incomplete) {
          if (now - st.mtimeMs > expiryMs && (await removeIdleIncomplete(path, join(lockDir, `${incomplete[1]}.lock`), options))) removed.push(`${folder}/blobs/${name}`);
          continue;
        }
        if (shownNow.has(name)) continue;
        // A blob no snapshot showed counts by its own time; one whose last expired link went, at once.
        if (!released.has(name) && now - st.mtimeMs <= expiryMs) continue;
        const gone = await withLock(join(lockDir, `${name}.lock`), options, async () => {
          // A download or link may have shown it meanwhile: both happen under this lock.
          if ((await wanted()).has(name)) return false;
          // An extraction reading it now keeps it (and the folder it makes) until the next prune.
          const went = await unlessExtracting(lockDir, name, async () => {
            await removeTree(join(repoDir, EXTRACTED_FOLDER, name));
            await removeTree(path);
            return true;
          });
          return went === true;
        });
        if (gone && !released.has(name)) removed.push(`${folder}/blobs/${name}`);
      }
    }
    await removeIdleExtractTemps(repoDir, lockDir);
    const orphans = await orphanFolders(repoDir, await snapshotPointers(repoDir));
    // An extraction that fetched the archive again meanwhile keeps its folder.
    const blobBack = async (key: string) => (await fileSize(join(blobsDir, key))) !== undefined;
    for (const key of await removeExtracted(repoDir, lockDir, orphans.keys(), options, blobBack)) removed.push(`${folder}/${EXTRACTED_FOLDER}/${key}`);
    await removeEmptyDir(join(repoDir, EXTRACTED_FOLDER));
  }
  return removed;
}
