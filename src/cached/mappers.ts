/**
 * Cache mappers: how a remote path becomes a file name in a cache directory. The name must be
 * the same in every process (so processes and runs share entries) and a single path segment.
 */
import { createHash } from "node:crypto";
import { FsError } from "../core/errors.js";

/**
 * How a cache layer names the file of a target path (`cacheMapper` option): the same name in every
 * process, one path segment.
 */
export interface CacheMapper {
  /** The file name (one segment, no "/") that `path` is cached under. */
  map(path: string): string;
  /** Plain data that rebuilds this mapper with `makeMapper` (for toJSON). */
  toJSON(): MapperSpec;
}

/** A mapper as plain data: "hash", "basename", or basename keeping `directoryLevels` parents. */
export type MapperSpec = "hash" | "basename" | { type: "hash" } | { type: "basename"; directoryLevels?: number };

/** The separator between kept parent directories, as fsspec spells it. */
export const LEVEL_SEPARATOR = "_@_";

/** Names the cache keeps for itself; a mapper must never produce them. */
export const METADATA_NAME = "cache";
export const RESERVED_PREFIX = ".fsspec-";

/** sha256 of the path, hex: collision-free, but unreadable. The default. */
export class HashMapper implements CacheMapper {
  map(path: string): string {
    return createHash("sha256").update(path).digest("hex");
  }

  toJSON(): MapperSpec {
    return "hash";
  }
}

/**
 * The basename plus `directoryLevels` parent directories joined by `_@_`, so
 * `a/metadata.json` and `b/metadata.json` stay apart with one level. Readable names, for
 * caches whose files are opened by other programs (model checkpoints).
 */
export class BasenameMapper implements CacheMapper {
  /** How many parent directories the name keeps (default 0: the basename alone). */
  readonly directoryLevels: number;

  constructor(directoryLevels = 0) {
    if (!Number.isInteger(directoryLevels) || directoryLevels < 0) {
      throw FsError.einval(`directoryLevels must be a non-negative integer, got ${directoryLevels}`);
    }
    this.directoryLevels = directoryLevels;
  }

  map(path: string): string {
    const parts = path.split("/").filter((s) => s !== "");
    if (parts.length === 0) throw FsError.einval("cannot map the root to a cache file name", path);
    return checkName(parts.slice(-(this.directoryLevels + 1)).join(LEVEL_SEPARATOR), path);
  }

  toJSON(): MapperSpec {
    return this.directoryLevels === 0 ? "basename" : { type: "basename", directoryLevels: this.directoryLevels };
  }
}

/** Refuse names that would overwrite the cache's own files (metadata, locks, temporaries). */
function checkName(name: string, path: string): string {
  if (name === METADATA_NAME || name.startsWith(RESERVED_PREFIX) || name === "." || name === "..") {
    throw FsError.einval(
      `'${name}' is reserved in cache directories; use the hash mapper or keep more directory levels`,
      path,
    );
  }
  return name;
}

/** A mapper from options: an instance, a spec, or `sameNames` (true = basename). */
export function makeMapper(spec: CacheMapper | MapperSpec | undefined, sameNames?: boolean): CacheMapper {
  if (spec !== undefined && typeof spec === "object" && "map" in spec) return spec;
  const s = spec ?? (sameNames ? "basename" : "hash");
  if (s === "hash" || (typeof s === "object" && s.type === "hash")) return new HashMapper();
  if (s === "basename") return new BasenameMapper(0);
  if (typeof s === "object" && s.type === "basename") return new BasenameMapper(s.directoryLevels ?? 0);
  throw FsError.einval(`unknown cache mapper ${JSON.stringify(s)}; use "hash", "basename" or {type: "basename", directoryLevels}`);
}
