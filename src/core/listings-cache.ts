/**
 * Directory listings kept between calls for remote backends. A real LRU (bounded by
 * `maxPaths`) with optional expiry; writes invalidate the path, its parents and anything below.
 */
import { LruMap } from "./lru.js";
import type { FileInfo } from "./types.js";
import { isInside, parentOf } from "./paths.js";
import { checkOptions, isNonNegativeNumber, isPositiveInteger, optionSpec } from "./validate.js";

/** Options of a `ListingsCache` (filesystems take `maxPaths` and `listingsExpiryMs`). */
export interface ListingsCacheOptions {
  /** Most directories kept (default 10,000). */
  maxPaths?: number;
  /** Milliseconds a listing stays valid; undefined (the default) or 0 keeps it until invalidated. */
  expiryMs?: number;
}

const LISTINGS_CACHE_OPTIONS = optionSpec<ListingsCacheOptions>({ maxPaths: isPositiveInteger, expiryMs: isNonNegativeNumber });

/**
 * Directory listings kept between calls (a filesystem's `dircache`): a real LRU bounded by `maxPaths`,
 * with optional expiry. Writes invalidate a path, its parents and everything below it.
 */
export class ListingsCache {
  private readonly lru: LruMap<string, FileInfo[]>;

  constructor(options: ListingsCacheOptions = {}) {
    checkOptions("ListingsCache", options, LISTINGS_CACHE_OPTIONS);
    this.lru = new LruMap<string, FileInfo[]>({
      max: Math.max(1, options.maxPaths ?? 10_000),
      ttlMs: options.expiryMs,
    });
  }

  /** The listing of `path`, unless missing or expired. */
  get(path: string): FileInfo[] | undefined {
    return this.lru.get(path);
  }

  /** Keep the listing of `path` (the least recently used one goes beyond `maxPaths`). */
  set(path: string, listing: FileInfo[]): void {
    this.lru.set(path, listing);
  }

  /** Whether a listing of `path` is kept and not expired. */
  has(path: string): boolean {
    return this.lru.has(path);
  }

  /** How many listings are kept. */
  get size(): number {
    return this.lru.size;
  }

  /** Forget `path`, every ancestor (their listings name it) and every listing below it. */
  invalidate(path?: string, root = "/"): void {
    if (path === undefined) {
      this.lru.clear();
      return;
    }
    for (const key of [...this.lru.keys()]) {
      if (isInside(key, path)) this.lru.delete(key);
    }
    let p = path;
    for (;;) {
      this.lru.delete(p);
      const parent = parentOf(p, root);
      if (parent === p) break;
      p = parent;
      if (p === root || p === "") {
        this.lru.delete(p);
        break;
      }
    }
  }

  /** Forget every listing. */
  clear(): void {
    this.lru.clear();
  }
}
