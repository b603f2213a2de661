/**
 * What a Hugging Face Hub cache directory holds (the layout of hub-layout.ts), for the `cache`
 * CLI and hfcache's management calls: the snapshot files of each repo with the blobs they show,
 * blobs no snapshot shows, and downloads in progress. Sizes count every file once: a blob once
 * however many snapshots link to it, symlinks nothing, hard links once.
 *
 * Removing from a Hub cache is left to huggingface_hub's own CLI (`hf cache rm`, `hf cache prune`):
 * other processes share the cache, under locks of theirs: `refuseHubCacheRemoval` says so.
 */
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { FsError, toFsError } from "../core/errors.js";
import { formatHfPath, type HfRepoType } from "../implementations/hf/path.js";
import type { CachedFileInfo } from "./layer.js";

const REPO_FOLDER = /^(model|dataset|space)s--(.+)$/;

/** The repo a folder name such as `models--org--name` stands for (as huggingface_hub reads it). */
function repoOfFolder(name: string): { repoType: HfRepoType; repoId: string } | undefined {
  const m = REPO_FOLDER.exec(name);
  return m ? { repoType: m[1] as HfRepoType, repoId: m[2]!.split("--").join("/") } : undefined;
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw toFsError(err, dir);
  }
}

async function isDir(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Whether `dir` is laid out as a Hub cache: a `models--*` (datasets, spaces) folder with blobs or snapshots. */
export async function isHubCache(dir: string): Promise<boolean> {
  for (const name of await names(dir)) {
    if (!REPO_FOLDER.test(name)) continue;
    if ((await isDir(join(dir, name, "blobs"))) || (await isDir(join(dir, name, "snapshots")))) return true;
  }
  return false;
}

/** Files below `dir` (recursively), as paths relative to it; symlinks are listed, not followed. */
async function filesBelow(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await names(dir)) {
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (st?.isDirectory()) out.push(...(await filesBelow(join(dir, name), `${prefix}${name}/`)));
    else if (st) out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * Every file of the Hub cache at `dir`: one entry per snapshot file (`path` is its hf:// name at
 * its commit, `uid` the blob's ETag, `size` and `timeMs` the blob's), then blobs no snapshot shows
 * and `.incomplete` downloads (`complete: false`), without a path.
 */
export async function listHubCache(dir: string): Promise<CachedFileInfo[]> {
  const now = Date.now();
  const out: CachedFileInfo[] = [];
  const entry = (fn: string, size: number, mtimeMs: number, extra: Partial<CachedFileInfo>): CachedFileInfo => ({
    path: undefined, fn, localPath: join(dir, fn), storage: dir, readOnly: false,
    size, timeMs: mtimeMs, ageMs: now - mtimeMs, complete: true, ...extra,
  });
  for (const folder of await names(dir)) {
    const repo = repoOfFolder(folder);
    if (!repo) continue;
    const repoDir = join(dir, folder);
    const shown = new Set<string>();
    for (const commit of await names(join(repoDir, "snapshots"))) {
      for (const file of await filesBelow(join(repoDir, "snapshots", commit))) {
        const fn = `${folder}/snapshots/${commit}/${file}`;
        const link = await lstat(join(dir, fn));
        // A symlink shows its blob (size and fetch time are the blob's); a copy is its own file.
        const st = link.isSymbolicLink() ? await stat(join(dir, fn)).catch(() => undefined) : link;
        if (!st?.isFile()) continue;
        const etag = link.isSymbolicLink() ? await realBlobName(join(dir, fn)) : undefined;
        if (etag) shown.add(etag);
        out.push(entry(fn, st.size, st.mtimeMs, { path: `hf://${formatHfPath({ ...repo, revision: commit, path: file })}`, uid: etag ?? null }));
      }
    }
    for (const blob of await names(join(repoDir, "blobs"))) {
      if (shown.has(blob)) continue;
      const st = await lstat(join(repoDir, "blobs", blob)).catch(() => undefined);
      if (st?.isFile()) out.push(entry(`${folder}/blobs/${blob}`, st.size, st.mtimeMs, { complete: !blob.endsWith(".incomplete") }));
    }
  }
  return out;
}

/** The name of the blob a snapshot's symlink resolves to (its ETag), if it resolves into a blobs/ folder. */
async function realBlobName(pointer: string): Promise<string | undefined> {
  const real = await realpath(pointer).catch(() => undefined);
  const m = real === undefined ? null : /[/\\]blobs[/\\]([^/\\]+)$/.exec(real);
  return m ? m[1] : undefined;
}

/** Bytes the Hub cache at `dir` takes: every regular file once (by inode), symlinks nothing. */
export async function hubCacheSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  for (const rel of await filesBelow(dir)) {
    const st = await lstat(join(dir, rel)).catch(() => undefined);
    if (!st?.isFile()) continue;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total += st.size;
  }
  return total;
}

/** Clearing or pruning a Hub cache is huggingface_hub's to do: the error that says so. */
export function refuseHubCacheRemoval(dir: string, what: string): FsError {
  return FsError.enotsup(
    `${dir} is a Hugging Face Hub cache (models--*/blobs, snapshots, refs), shared with huggingface_hub; ${what} removes nothing from it. ` +
      "Use huggingface_hub's `hf cache rm` or `hf cache prune`, or remove a repo's folder (models--org--name) while nothing reads or downloads it",
    dir,
  );
}
