/**
 * The directory tree an object store implies (S3, GCS): objects are named `bucket/key`, a
 * directory is a key prefix ending in `/`, and a run of slashes is one separator (`d//f` is an
 * entry of `d`). What is the same for every such store lives here, over one primitive each
 * backend supplies: pages of a listing under a prefix, with or without the `/` delimiter.
 */
import { createHash } from "node:crypto";
import type { LRUCache } from "lru-cache";
import { FsError, isFsError } from "../core/errors.js";
import type { FileInfo } from "../core/types.js";
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
  markerKeys: LRUCache<string, string[]>;
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
export function removalPlan(files: readonly string[], dirs: readonly string[], markerKeys: LRUCache<string, string[]>): { keys: Map<string, string[]>; buckets: string[] } {
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
