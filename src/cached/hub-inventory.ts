/**
 * What a Hugging Face Hub cache directory holds (the layout of hub-layout.ts), for the `cache`
 * CLI and hfcache's management calls: the snapshot files of each repo with the blobs they show,
 * blobs no snapshot shows, and downloads in progress. Sizes count every file once: a blob once
 * however many snapshots link to it, symlinks nothing, hard links once.
 *
 * Removing from it is hub-removal.ts.
 */
import type { Stats } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { toFsError } from "../core/errors.js";
import { formatHfPath, type HfRepoType } from "../implementations/hf/path.js";
import { EXTRACTED_FOLDER, fileSha256, fileSize } from "./hub-layout.js";
import type { CachedFileInfo } from "./layer.js";

/** Any character may follow (a newline too): each folder is read by its own name, never matched as a pattern. */
const REPO_FOLDER = /^(model|dataset|space)s--([\s\S]+)$/;

/** The repo a folder name such as `models--org--name` stands for (as huggingface_hub reads it). */
export function repoOfFolder(name: string): { repoType: HfRepoType; repoId: string } | undefined {
  const m = REPO_FOLDER.exec(name);
  return m ? { repoType: m[1] as HfRepoType, repoId: m[2]!.split("--").join("/") } : undefined;
}

export async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw toFsError(err, dir);
  }
}

/** Whether `path` is a directory itself, not a symlink to one: nothing below a link is walked. */
export async function isDir(path: string): Promise<boolean> {
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
export async function filesBelow(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await names(dir)) {
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (st?.isDirectory()) out.push(...(await filesBelow(join(dir, name), `${prefix}${name}/`)));
    else if (st) out.push(`${prefix}${name}`);
  }
  return out;
}

/** One file of a snapshot: a symlink to a blob (or elsewhere), or a copy. */
export interface SnapshotPointer {
  commit: string;
  /** Its path inside the snapshot, with `/`. */
  file: string;
  /** Its path on the disk. */
  abs: string;
  /** The name in the repo's `blobs/` its symlink names (the first hop, as huggingface_hub reads it). */
  blob?: string;
  /** What it shows: the blob, or the copy itself; undefined for a dangling symlink. */
  shown?: Stats;
  /** When it was fetched: the newer of the link's own time and what it shows. */
  timeMs: number;
}

/** Every file of every snapshot of the repo folder `repoDir`, commits and files sorted by name. */
export async function snapshotPointers(repoDir: string): Promise<SnapshotPointer[]> {
  const out: SnapshotPointer[] = [];
  const snapshots = join(repoDir, "snapshots");
  if (!(await isDir(snapshots))) return out;
  for (const commit of await names(snapshots)) {
    if (!(await isDir(join(snapshots, commit)))) continue;
    for (const file of await filesBelow(join(snapshots, commit))) {
      const abs = join(snapshots, commit, ...file.split("/"));
      const link = await lstat(abs).catch(() => undefined);
      if (!link) continue;
      if (!link.isSymbolicLink()) {
        if (link.isFile()) out.push({ commit, file, abs, shown: link, timeMs: link.mtimeMs });
        continue;
      }
      const target = resolve(dirname(abs), await readlink(abs).catch(() => ""));
      const blob = dirname(target) === join(repoDir, "blobs") ? basename(target) : undefined;
      const shown = await stat(abs).catch(() => undefined);
      if (shown && !shown.isFile()) continue;
      out.push({ commit, file, abs, blob, shown, timeMs: Math.max(link.mtimeMs, shown?.mtimeMs ?? 0) });
    }
  }
  return out;
}

/** Bytes of the files below `dir` (symlinks count nothing; nothing below a symlink is read). */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const rel of await filesBelow(dir)) {
    const st = await lstat(join(dir, rel)).catch(() => undefined);
    if (st?.isFile()) total += st.size;
  }
  return total;
}

/** A temporary folder an extraction writes into before renaming it: `<key>.<hex>.tmp`. */
export const EXTRACT_TEMP = /^([^.]+)\.[0-9a-f]+\.tmp$/;

/** The extracted folders of the repo folder `repoDir` by key (temporary folders left out). */
export async function extractedFolders(repoDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const base = join(repoDir, EXTRACTED_FOLDER);
  if (!(await isDir(base))) return out;
  for (const key of await names(base)) {
    if (!EXTRACT_TEMP.test(key) && (await isDir(join(base, key)))) out.set(key, join(base, key));
  }
  return out;
}

/**
 * The extracted folders of `repoDir` that belong to no archive the repo still holds: no blob of
 * their name, and no snapshot copy (`copies`, files that are no symlink) whose sha256 is it.
 */
export async function orphanFolders(repoDir: string, copies: readonly SnapshotPointer[]): Promise<Map<string, string>> {
  const folders = await extractedFolders(repoDir);
  for (const key of [...folders.keys()]) if ((await fileSize(join(repoDir, "blobs", key))) !== undefined) folders.delete(key);
  for (const copy of copies) {
    if (folders.size === 0) break;
    if (copy.blob === undefined && copy.shown) folders.delete(await fileSha256(copy.abs).catch(() => ""));
  }
  return folders;
}

/**
 * Every file of the Hub cache at `dir`: one entry per snapshot file (`path` is its hf:// name at
 * its commit, `uid` the blob's ETag, `size` the blob's, `timeMs` when it was fetched: the newer
 * of the snapshot's link and the blob), then blobs no snapshot shows and `.incomplete` downloads
 * (`complete: false`), without a path. An archive extracted by Package.extract is `extracted` of
 * the first entry showing its blob; a folder whose archive is gone is an entry of its own
 * (`directory: true`).
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
    const repoDir = join(dir, folder);
    if (!repo || !(await isDir(repoDir))) continue;
    const pointers = await snapshotPointers(repoDir);
    const orphans = await orphanFolders(repoDir, pointers);
    const folders = await extractedFolders(repoDir);
    for (const key of orphans.keys()) folders.delete(key);
    const extracted = async (key: string | undefined) => {
      const at = key === undefined ? undefined : folders.get(key);
      if (at === undefined) return {};
      folders.delete(key!);
      return { extracted: { localPath: at, size: await treeSize(at) } };
    };
    const shown = new Set<string>();
    for (const p of pointers) {
      if (!p.shown) continue;
      if (p.blob !== undefined) shown.add(p.blob);
      const key = p.blob ?? (folders.size > 0 ? await fileSha256(p.abs).catch(() => undefined) : undefined);
      const fn = `${folder}/snapshots/${p.commit}/${p.file}`;
      out.push(entry(fn, p.shown.size, p.timeMs, { path: `hf://${formatHfPath({ ...repo, revision: p.commit, path: p.file })}`, uid: p.blob ?? null, ...(await extracted(key)) }));
    }
    for (const blob of await names(join(repoDir, "blobs"))) {
      if (shown.has(blob)) continue;
      const st = await lstat(join(repoDir, "blobs", blob)).catch(() => undefined);
      if (st?.isFile()) out.push(entry(`${folder}/blobs/${blob}`, st.size, st.mtimeMs, { complete: !blob.endsWith(".incomplete"), ...(await extracted(blob)) }));
    }
    for (const [key, at] of orphans) {
      const st = await lstat(at);
      out.push(entry(`${folder}/${EXTRACTED_FOLDER}/${key}`, await treeSize(at), st.mtimeMs, { directory: true }));
    }
  }
  return out;
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
