/**
 * The directory tree an object store implies (S3, GCS): objects are named `bucket/key`, a
 * directory is a key prefix ending in `/`, and a run of slashes is one separator (`d//f` is an
 * entry of `d`). What is the same for every such store lives here, over the primitives each
 * backend supplies: pages of a listing under a prefix (with or without the `/` delimiter), an
 * object's own metadata, and the list of buckets.
 */
import { createHash } from "node:crypto";
import { LruMap } from "../core/lru.js";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { trimTrailingSlashes } from "../core/paths.js";
import { type FileInfo, type FindOptions, type RmOptions, type SignalOptions } from "../core/types.js";
import type { ByteSink, DownloadToOptions } from "../files/byte-sink.js";
import { finishFromFirst, goesParallel, linkedAbort, partSizeFor, partsInOrder, type DownloadTuning, type PartReader } from "../files/parallel-ranges.js";
import type { ChunkWriter } from "./http/download.js";
import { directoriesOf, dirPrefix, isMarkerOf, joinObject, splitPath } from "./s3/paths.js";

/** One page of a listing: the objects (key and info named `bucket/key`) and, with a delimiter, the prefixes. */
export interface StorePage {
  objects: Array<{ key: string; info: FileInfo }>;
  prefixes: string[];
}

/** Pages of the listing of `bucket` under `prefix`, one level (delimiter "/") or the whole subtree. */
export type PageLister = (bucket: string, prefix: string, delimiter: "/" | undefined, maxKeys?: number) => AsyncIterable<StorePage>;

export const directory = (name: string): FileInfo => ({ name, size: 0, type: "directory" });

/**
 * Add the entries of one directory level (keys under `prefix`, up to the next slash) to
 * `entries`; whether any key lies under `prefix`. An empty segment is no level of its own:
 * the prefix `prefix/` is listed as part of this one, so `d//f` is an entry of `d`.
 */
export async function listLevel(list: PageLister, bucket: string, prefix: string, entries: FileInfo[]): Promise<boolean> {
  let seen = false;
  for await (const page of list(bucket, prefix, "/")) {
    for (const p of page.prefixes) {
      seen = true;
      if (p === `${prefix}/`) await listLevel(list, bucket, p, entries);
      else entries.push(directory(joinObject(bucket, p)));
    }
    for (const { key, info } of page.objects) {
      seen = true;
      // The directory's own marker object (`key/`, made by consoles) is not an entry.
      if (key !== prefix) entries.push(info);
    }
  }
  return seen;
}

export interface SubtreeOptions {
  list: PageLister;
  /** The path's own object, for a path with nothing below it. */
  head: () => Promise<FileInfo>;
  withDirs?: boolean;
  /** Where the marker objects found (`d/`, `d//`) are kept by directory, for removeEntries. */
  markerKeys: LruMap<string, string[]>;
}

/**
 * Everything below `path` from one flat listing (no delimiter, paginated) instead of one per
 * directory: the files, and with `withDirs` the directories their keys imply. A path with
 * nothing below is its own file, or nothing; a missing bucket is nothing.
 */
export async function findSubtree(path: string, options: SubtreeOptions): Promise<Map<string, FileInfo>> {
  const { bucket, key } = splitPath(path);
  const prefix = dirPrefix(key);
  const out = new Map<string, FileInfo>();
  const dirs = new Set<string>();
  const markers = new Map<string, string[]>();
  let seen = false;
  try {
    for await (const page of options.list(bucket, prefix, undefined)) {
      for (const { key: name, info } of page.objects) {
        seen = true;
        const rel = name.slice(prefix.length);
        // Directories between `path` and the object; a key ending in `/` marks the last of them.
        const levels = directoriesOf(rel);
        for (const level of levels) dirs.add(joinObject(bucket, prefix + level));
        if (rel === "" || rel.endsWith("/")) {
          const marked = levels.length > 0 ? joinObject(bucket, prefix + levels[levels.length - 1]!) : path;
          markers.get(marked)?.push(name) ?? markers.set(marked, [name]);
        } else {
          out.set(joinObject(bucket, name), info);
        }
      }
    }
  } catch (err) {
    if (isFsError(err, "ENOENT")) return out;
    throw err;
  }
  if (!seen) {
    if (key === "") {
      if (options.withDirs) out.set(path, directory(path));
      return out;
    }
    try {
      out.set(path, await options.head());
    } catch (err) {
      if (!isFsError(err, "ENOENT")) throw err;
    }
    return out;
  }
  if (options.withDirs) {
    for (const d of [path, ...dirs]) {
      if (out.has(d)) continue;
      const found = markers.get(d);
      if (found) options.markerKeys.set(d, found);
      out.set(d, directory(d));
    }
  }
  return out;
}

/**
 * What deleting these files and directories means in objects: the keys by bucket (each
 * directory's marker `key/` and the markers a listing found below it), and the buckets that
 * go themselves. The root is never among them.
 */
export function removalPlan(files: readonly string[], dirs: readonly string[], markerKeys: LruMap<string, string[]>): { keys: Map<string, string[]>; buckets: string[] } {
  const byBucket = new Map<string, Set<string>>();
  const add = (bucket: string, key: string) => byBucket.get(bucket)?.add(key) ?? byBucket.set(bucket, new Set([key]));
  for (const f of files) {
    const { bucket, key } = splitPath(f);
    if (key !== "") add(bucket, key);
  }
  const buckets: string[] = [];
  for (const d of dirs) {
    if (d === "") continue;
    const { bucket, key } = splitPath(d);
    for (const marker of markerKeys.get(d) ?? []) add(bucket, marker);
    markerKeys.delete(d);
    if (key === "") buckets.push(bucket);
    else add(bucket, `${key}/`);
  }
  return { keys: new Map([...byBucket].map(([b, keys]) => [b, [...keys]])), buckets };
}

/** The marker objects of the directory `path` (`key/`, `key//`...): ENOTEMPTY when anything else lies below, ENOENT when nothing does. */
export async function directoryMarkers(list: PageLister, path: string): Promise<string[]> {
  const { bucket, key } = splitPath(path);
  const prefix = dirPrefix(key);
  const markers: string[] = [];
  for await (const page of list(bucket, prefix, undefined, 2)) {
    for (const { key: k } of page.objects) {
      if (!isMarkerOf(k, prefix)) throw new FsError("ENOTEMPTY", undefined, { path });
      markers.push(k);
    }
  }
  if (markers.length === 0) throw FsError.enoent(path);
  return markers;
}

/** A ukey for an object: sha256 of its name, version (ETag, generation) and size. */
export function versionKey(info: FileInfo, version: string): string {
  return createHash("sha256").update(`${info.name}\n${version}\n${info.size}`).digest("hex");
}

/** A checksum of an entry from its name, size, version and type: the same whether the info came from a listing or a lookup. */
export function entryChecksum(info: FileInfo, version: unknown): string {
  return createHash("sha256").update(`${info.name}\n${info.size}\n${String(version ?? "")}\n${info.type}`).digest("hex").slice(0, 32);
}

const MAX_KNOWN_BUCKETS = 10_000;

/** How a backend reads one object for `downloadObject`: the whole of it, or a part pinned to the version. */
export interface ObjectReads {
  whole(write: ChunkWriter): Promise<void>;
  part(start: number, end: number, signal: AbortSignal, write: ChunkWriter): Promise<void>;
}

/** The base of object-store backends: paths `bucket/key`, the root ("") lists the buckets. */
export abstract class ObjectStoreFileSystem extends AbstractFileSystem {
  static override rootMarker = "";

  /** `proto://bucket/key/` -> `bucket/key`; leading slashes go too (`proto:///b/k`). */
  static override stripProtocol(path: string): string {
    return super.stripProtocol(path).replace(/^\/+/, "");
  }

  /** Buckets this instance saw exist (mkdir of a prefix then costs no request); forgotten when it deletes them. */
  protected readonly knownBuckets = new Set<string>();
  /**
   * The marker objects (`d/`, `d//`) recent subtree listings found, by directory; rm deletes
   * them. Bounded: a forgotten marker only means a directory listed long ago keeps its marker.
   * @internal
   */
  protected readonly markerKeys = new LruMap<string, string[]>({ max: 10_000 });
  /** Refuse writes over a directory (EISDIR), at one listing per write. */
  protected abstract readonly checkDirectories: boolean;
  /** The info field that changes with every write of an object (S3: etag, GCS: generation). */
  protected abstract readonly versionField: string;

  /**
   * The listing, for `path`'s errors.
   * @internal
   */
  protected abstract pages(path: string, signal?: AbortSignal): PageLister;
  /** The object's own metadata, named `path` (ENOENT when there is none). */
  protected abstract headObject(bucket: string, key: string, path: string, signal?: AbortSignal): Promise<FileInfo>;
  /** The buckets the credentials see: the root's listing. */
  protected abstract listBuckets(signal?: AbortSignal): Promise<FileInfo[]>;

  protected override get listsRemotely(): boolean {
    return true;
  }

  /**
   * The last `length` bytes of the object in one request (`bytes=-N`): a negative start without
   * an end costs no lookup of the size.
   * @internal
   */
  protected abstract override readSuffix(path: string, length: number, options: SignalOptions): Promise<Uint8Array>;

  /**
   * The whole object into `sink`: one stream from byte 0, or for a large object into a positioned
   * sink, parallel parts, each pinned by the backend to the version (`versionField`) the lookup saw.
   * @internal
   */
  protected async downloadObject(
    path: string,
    sink: ByteSink,
    options: DownloadToOptions,
    tuning: DownloadTuning,
    reads: (info: FileInfo, version: string | undefined) => ObjectReads,
  ): Promise<FileInfo> {
    const signal = options.signal;
    const info = await this._info(path, { signal });
    if (info.type === "directory") throw FsError.eisdir(path);
    options.onInfo?.(info);
    const field = info[this.versionField];
    const version = typeof field === "string" ? field : undefined;
    const read = reads(info, version);
    if (info.size !== null && sink.positioned && version !== undefined && goesParallel(tuning, info.size)) {
      const openPart = async (start: number, end: number, partSignal: AbortSignal): Promise<PartReader> => ({
        pipeTo: (write) => read.part(start, end, partSignal, write),
        cancel: () => undefined,
      });
      // The SDKs' bodies cannot be cut where a part was handed out: the first "stream" is parts in order.
      const stop = linkedAbort(signal);
      try {
        const first = partsInOrder(0, info.size, partSizeFor(0, info.size, tuning.concurrency), stop.signal, openPart);
        await finishFromFirst(first, 0, info.size, sink, tuning, stop.controller, openPart);
      } finally {
        stop.dispose();
      }
    } else if (info.size !== 0) {
      await read.whole((chunk, offset) => sink.write(chunk, offset));
    }
    await sink.flush();
    return info;
  }

  /** Whether any object lies below `key/` (a directory). */
  protected async hasChildren(bucket: string, key: string, path: string, signal?: AbortSignal): Promise<boolean> {
    for await (const page of this.pages(path, signal)(bucket, dirPrefix(key), undefined, 1)) return page.objects.length > 0;
    return false;
  }

  /** EISDIR when `key` is a directory (objects below it), so a write never hides a tree behind a file. */
  protected async refuseDirectory(bucket: string, key: string, path: string, signal?: AbortSignal): Promise<void> {
    if (this.checkDirectories && (await this.hasChildren(bucket, key, path, signal))) throw FsError.eisdir(path);
  }

  /**
   * Note that `bucket` exists (a bounded set), sparing later lookups.
   * @internal
   */
  protected rememberBucket(bucket: string): void {
    if (this.knownBuckets.size >= MAX_KNOWN_BUCKETS) this.knownBuckets.clear();
    this.knownBuckets.add(bucket);
  }

  /**
   * Whether `bucket` exists (ENOENT is false; other errors are thrown).
   * @internal
   */
  protected bucketExists(bucket: string, options: SignalOptions): Promise<boolean> {
    return this._info(bucket, options).then(
      () => true,
      (err: unknown) => {
        if (isFsError(err, "ENOENT")) return false;
        throw err;
      },
    );
  }

  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    if (path === "") return this.listBuckets(options.signal);
    const { bucket, key } = splitPath(path);
    const entries: FileInfo[] = [];
    const seen = await listLevel(this.pages(path, options.signal), bucket, dirPrefix(key), entries);
    // A bucket that lists at all exists (a missing one is ENOENT above).
    this.rememberBucket(bucket);
    if (seen || key === "") return entries;
    return [await this.headObject(bucket, key, path, options.signal)];
  }

  /** The directory `path` is listed in: an empty segment's slashes stay with the name (`b/d//f` is in `b/d`). */
  protected override parent(path: string): string {
    return trimTrailingSlashes(super.parent(path));
  }

  /**
   * Without maxDepth, one flat listing of the whole subtree (no delimiter, paginated) instead
   * of one per directory. Its results never enter the listings cache; with maxDepth (globs with
   * `*`) the base walks directory by directory.
   */
  protected override async findInfos(path: string, options: FindOptions): Promise<Map<string, FileInfo>> {
    if (options.maxDepth !== undefined || path === "") return super.findInfos(path, options);
    const { bucket, key } = splitPath(path);
    return findSubtree(path, {
      list: this.pages(path, options.signal),
      head: () => this.headObject(bucket, key, path, options.signal),
      withDirs: options.withDirs,
      markerKeys: this.markerKeys,
    });
  }

  /** sha256 of the name, the version and the size. */
  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    const version = info[this.versionField];
    return typeof version === "string" ? versionKey(info, version) : super.ukey(path, options);
  }

  /** A digest of name, size and version: the same whether the info came from a listing or a lookup. */
  override async checksum(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    return entryChecksum(info, info[this.versionField]);
  }

  /** Every bucket at once is never deleted: they go one by one. */
  override async rm(pathOrPaths: string | readonly string[], options: RmOptions = {}): Promise<void> {
    this.checkRm(pathOrPaths, options);
    for (const p of typeof pathOrPaths === "string" ? [pathOrPaths] : pathOrPaths) {
      if (this.normalizePath(p) === "") throw FsError.eacces(`${this.protocol}://`, "refusing to delete every bucket; remove buckets one by one");
    }
    await super.rm(pathOrPaths, options);
  }
}
