/**
 * Version-pinned reads: bytes of a file guaranteed to belong to one version of it, for callers
 * that read a file piece by piece over time, possibly across processes (the block cache).
 *
 * A version is taken once (`fileVersion`) and stored; each later read passes it back
 * (`catFilePinned`) and fails with ECHANGED when the file is another version by then. Backends
 * that can make a ranged read conditional implement `PinnedReads` (HTTP: If-Range with the ETag
 * or Last-Modified; S3: GetObject IfMatch; NGC: the ETag; HF: the oid at the pinned commit;
 * memory: the stored buffer); for every other filesystem the read is followed by a fresh look at
 * the file's `ukey`, which must not have moved. A backend implementing `PinnedReads` also pins
 * the files it opens for reading to one version.
 */
import type { AbstractFileSystem } from "./abstract.js";
import { FsError } from "./errors.js";
import type { SignalOptions } from "./types.js";

/** One version of a file, as plain JSON (it is stored in cache metadata). */
export interface FileVersion {
  /** Bytes in that version (null: unknown). */
  size: number | null;
  /** The backend's validator for the content (HTTP, S3, NGC ETag), when it has one. */
  etag?: string;
  /** HTTP Last-Modified, verbatim: the validator when there is no strong ETag. */
  lastModified?: string;
  /** Any other key the backend identifies the content by (HF oid, memory buffer, else `ukey`). */
  key?: string;
}

/** Options of `catFilePinned`. */
export interface PinnedReadOptions extends SignalOptions {
  /** The version the bytes must come from (as `fileVersion` gave it). */
  version: FileVersion;
}

/** What a backend with conditional ranged reads implements. */
export interface PinnedReads {
  /** The current version of the file at `path` (EISDIR for a directory). */
  fileVersion(path: string, options?: SignalOptions): Promise<FileVersion>;
  /** Bytes [start, end) of `path` only from `options.version`; ECHANGED when the file is another one now. */
  catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array>;
}

export function hasPinnedReads(fs: AbstractFileSystem): fs is AbstractFileSystem & PinnedReads {
  const candidate = fs as Partial<PinnedReads>;
  return typeof candidate.fileVersion === "function" && typeof candidate.catFilePinned === "function";
}

/** The error for a file that is no longer the version a read was pinned to. */
export function versionChanged(path: string, detail = ""): FsError {
  return new FsError("ECHANGED", `file changed since the version this read is pinned to${detail ? ` (${detail})` : ""}`, { path });
}

/** Whether two recorded versions name the same content. */
export function sameVersion(a: FileVersion | undefined, b: FileVersion | undefined): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && a.etag === b.etag && a.lastModified === b.lastModified && a.key === b.key;
}

/** The current version of `path` on `fs`: the backend's own, else its size and `ukey`. */
export async function fileVersion(fs: AbstractFileSystem, path: string, options: SignalOptions = {}): Promise<FileVersion> {
  if (hasPinnedReads(fs)) return fs.fileVersion(path, options);
  // The key first: a change after it moves the key, which every pinned read checks afterwards.
  const key = await fs.ukey(path, options);
  const info = await fs.info(path, options);
  if (info.type === "directory") throw FsError.eisdir(path);
  return { size: info.size, key };
}

/** Bytes [start, end) of `path` from `version` only (ECHANGED otherwise). */
export async function catFilePinned(
  fs: AbstractFileSystem,
  path: string,
  start: number,
  end: number,
  version: FileVersion,
  options: SignalOptions = {},
): Promise<Uint8Array> {
  if (hasPinnedReads(fs)) return fs.catFilePinned(path, start, end, { ...options, version });
  const data = await fs.catFile(path, start, end, options);
  await checkKey(fs, path, version.key, options);
  return data;
}

/**
 * For reads through a file opened on `fs`: backends with pinned reads pin their opened files
 * themselves; for the others the file's ukey is taken now, and the returned check (to run after
 * the last read) fails with ECHANGED when it moved.
 */
export async function guardOpenedReads(fs: AbstractFileSystem, path: string, options: SignalOptions = {}): Promise<() => Promise<void>> {
  if (hasPinnedReads(fs)) return async () => undefined;
  const key = await fs.ukey(path, options);
  return () => checkKey(fs, path, key, options);
}

/** Read, then look again: a key unchanged after the reads means the bytes are of it. */
async function checkKey(fs: AbstractFileSystem, path: string, key: string | undefined, options: SignalOptions): Promise<void> {
  // A listings cache would answer with what it saw before the reads.
  fs.invalidateCache(path);
  if ((await fs.ukey(path, options)) !== key) throw versionChanged(path);
}
