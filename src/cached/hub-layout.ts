/**
 * The Hugging Face Hub's cache layout on the local disk, as huggingface_hub reads and writes it,
 * so that both tools share one cache:
 *
 *   <cache>/models--<namespace>--<name>/      (datasets--, spaces-- for the other repo types)
 *     blobs/<etag>                            file contents, named by ETag: the LFS sha256 or the git blob id
 *     snapshots/<commit>/<path>               relative symlinks to ../../blobs/<etag> (or copies)
 *     refs/<revision>                         the commit a branch or tag pointed at, no newline
 *   <cache>/.locks/models--<namespace>--<name>/<etag>.lock   one download of a blob at a time
 *
 * Downloads are written to `blobs/<etag>.<8 hex>.incomplete` and renamed into place.
 *
 * fsspec-ts adds one folder huggingface_hub never reads (its scan looks at snapshots/ and refs/
 * only, and removing a repo removes the whole folder):
 *
 *   <repo folder>/fsspec-ts-extracted/<key>/  an archive blob extracted (Package.extract), once
 *                                             per blob: <key> is the blob's name, or the sha256
 *                                             of a snapshot's copy when there are no symlinks
 *   <cache>/.locks/<repo folder>/<key>.extract.lock   one extraction of a blob at a time
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { copyFile, lstat, mkdir, open, readFile, readdir, realpath, rename, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { FsError, toFsError } from "../core/errors.js";
import type { HfRepoType } from "../implementations/hf/path.js";

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/**
 * The Hub cache directory, read now: `HF_HUB_CACHE`, else the older `HUGGINGFACE_HUB_CACHE`,
 * else `$HF_HOME/hub`, where HF_HOME defaults to `$XDG_CACHE_HOME/huggingface`, else
 * `~/.cache/huggingface`.
 */
export function hubCacheDir(): string {
  const env = process.env;
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return resolve(expandHome(explicit));
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface");
  return resolve(expandHome(home), "hub");
}

/** `models--org--name`, `datasets--org--name`, `spaces--org--name`. */
export function repoFolderName(repoType: HfRepoType, repoId: string): string {
  return [`${repoType}s`, ...repoId.split("/")].join("--");
}

/** The folder of a repo's extracted archives (see the module comment). */
export const EXTRACTED_FOLDER = "fsspec-ts-extracted";

const TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";

/** One repo's part of a Hub cache. */
export class HubRepoCache {
  readonly folder: string;
  readonly lockDir: string;

  constructor(readonly cacheDir: string, repoType: HfRepoType, repoId: string) {
    const name = repoFolderName(repoType, repoId);
    this.folder = join(cacheDir, name);
    this.lockDir = join(cacheDir, ".locks", name);
  }

  blobPath(etag: string): string {
    return join(this.folder, "blobs", etag);
  }

  /** `snapshots/<commit>/<path>`; a path that would leave its snapshot is EINVAL. */
  pointerPath(commit: string, path: string): string {
    const snapshot = join(this.folder, "snapshots", commit);
    const pointer = join(snapshot, ...path.split("/"));
    if (!pointer.startsWith(snapshot + sep)) throw FsError.einval(`'${path}' does not name a file inside a snapshot`, path);
    return pointer;
  }

  snapshotDir(commit: string): string {
    return join(this.folder, "snapshots", commit);
  }

  lockPath(etag: string): string {
    return join(this.lockDir, `${etag}.lock`);
  }

  /** The folder the archive with this key (a blob name, or a copy's sha256) is extracted into. */
  extractedPath(key: string): string {
    return join(this.folder, EXTRACTED_FOLDER, key);
  }

  /** Held while the archive with this key is extracted (never while its blob's lock is wanted). */
  extractLockPath(key: string): string {
    return join(this.lockDir, `${key}.extract.lock`);
  }

  private refPath(revision: string): string {
    return join(this.folder, "refs", ...revision.split("/"));
  }

  /** The commit `refs/<revision>` records, or undefined. */
  async readRef(revision: string): Promise<string | undefined> {
    try {
      const sha = (await readFile(this.refPath(revision), "utf8")).trim();
      return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw toFsError(err, this.refPath(revision));
    }
  }

  /**
   * Record that `revision` points at `commit` (temporary file, then rename: readers never see
   * half a sha). Left alone when it already says so, so a read-only cache that is up to date
   * is never written.
   */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit || (await this.readRef(revision)) === commit) return;
    const ref = this.refPath(revision);
    await mkdir(dirname(ref), { recursive: true });
    await replaceVia(ref, (temp) => writeFile(temp, commit));
  }

  async ensureDirs(commit: string, path: string): Promise<void> {
    await mkdir(join(this.folder, "blobs"), { recursive: true });
    await mkdir(dirname(this.pointerPath(commit, path)), { recursive: true });
    await mkdir(this.lockDir, { recursive: true });
    await tagCacheDir(this.cacheDir);
  }

  /** A new `blobs/<etag>.<8 hex>.incomplete` name: one per download, never shared. */
  incompletePath(etag: string): string {
    return `${this.blobPath(etag)}.${randomBytes(4).toString("hex")}.incomplete`;
  }

  /**
   * Remove `.incomplete` files of `etag` (a shared `<etag>.incomplete` of older clients, or
   * `<etag>.<hex>.incomplete`) untouched for `staleMs`: downloads that were killed. Called
   * under the blob's lock, so no live download of ours or huggingface_hub's is writing one
   * (the age also spares one whose lock is not honoured, on filesystems without flock).
   */
  async removeStaleIncomplete(etag: string, staleMs: number): Promise<number> {
    const blobs = join(this.folder, "blobs");
    let removed = 0;
    for (const name of await readdir(blobs).catch(() => [] as string[])) {
      if (!name.startsWith(`${etag}.`) || !name.endsWith(".incomplete")) continue;
      const st = await lstat(join(blobs, name)).catch(() => undefined);
      if (!st || Date.now() - st.mtimeMs <= staleMs) continue;
      if (await unlink(join(blobs, name)).then(() => true, () => false)) removed++;
    }
    return removed;
  }
}

/** Where nothing is: ENOENT, or ENOTDIR for a path through a file. */
function isMissing(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** The size of the file at `path`, symlinks followed; undefined when nothing (or a broken link) is there. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw toFsError(err, path);
  }
}

/** The sha256 (hex) of the bytes of the file at `path`. */
export function fileSha256(path: string): Promise<string> {
  return hashFile(path, createHash("sha256"));
}

/** `hash` (hex) fed with the bytes of the file at `path`, after whatever it was fed already. */
export async function hashFile(path: string, hash: Hash): Promise<string> {
  const fh = await open(path, "r");
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}

/** `CACHEDIR.TAG` in the cache's root, so backup tools skip it (as huggingface_hub writes it). */
async function tagCacheDir(cacheDir: string): Promise<void> {
  const tag = join(cacheDir, "CACHEDIR.TAG");
  const text = `${TAG_SIGNATURE}\n# This file is a cache directory tag created by fsspec-ts (a Hugging Face Hub cache).\n`;
  await writeFile(tag, text, { flag: "wx" }).catch(() => undefined);
}

/** Errors of `symlink` that mean "not here" (no symlinks on this filesystem or for this user). */
const NO_SYMLINKS = new Set(["EPERM", "EACCES", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EINVAL", "EXDEV"]);

/**
 * Make `pointer` show the blob: a relative symlink (`../../blobs/<etag>`, deeper for nested
 * paths) as huggingface_hub makes them, so the cache can be moved whole. Without symlinks
 * (`useSymlinks` false, or the filesystem refuses them) the pointer is the file itself: a blob
 * downloaded just now (`newBlob`) is moved there, an older one is copied (other snapshots may
 * point at it). Either way the pointer appears whole, never half-written.
 */
export async function linkPointer(blob: string, pointer: string, options: { newBlob: boolean; useSymlinks: boolean }): Promise<void> {
  if (options.useSymlinks) {
    const target = relative(dirname(pointer), blob);
    try {
      await symlink(target, pointer);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (code === "EEXIST") {
        // Made meanwhile by another process: fine when it shows the same blob.
        if ((await realpath(pointer).catch(() => undefined)) === (await realpath(blob))) return;
        await replaceVia(pointer, (temp) => symlink(target, temp));
        return;
      }
      if (!NO_SYMLINKS.has(code)) throw toFsError(err, pointer);
    }
  }
  if (options.newBlob) {
    await rename(blob, pointer).catch((err) => {
      throw toFsError(err, pointer);
    });
    return;
  }
  await replaceVia(pointer, (temp) => copyFile(blob, temp, fsConstants.COPYFILE_FICLONE));
}

/** Put what `make` writes at a temporary name in place of `path`, in one rename. */
async function replaceVia(path: string, make: (temp: string) => Promise<void>): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await make(temp);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw toFsError(err, path);
  }
}

/** A file's entries below a snapshot directory, for offline listings: name -> size (files) or null (directories). */
export async function listSnapshotDir(dir: string): Promise<Map<string, number | null> | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw toFsError(err, dir);
  }
  const out = new Map<string, number | null>();
  for (const name of names.sort()) {
    if (name.endsWith(".tmp")) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st?.isDirectory()) out.set(name, null);
    else if (st?.isFile()) out.set(name, st.size);
  }
  return out;
}
