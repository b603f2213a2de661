/**
 * What the three cache layers share: a target filesystem that every call the layer does not
 * handle goes to (paths are the target's own), the cache storage directories with their
 * metadata, the name mapper, offline mode, and the management API (clear, expire, pop, size,
 * list). The layers add how bytes are cached: whole files (filecache, simplecache) or blocks
 * (blockcache).
 */
import type { FileSystemJSON } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import { isInside, trimTrailingSlashes } from "../core/paths.js";
import { SIGNAL_OPTIONS, type FileInfo, type FindOptions, type LsOptions, type PipeMode, type SignalOptions, type SignOptions } from "../core/types.js";
import { anyValue, checkOptions, either, isBoolean, isFileSystem, isNonNegativeNumber, isString, oneOf, optionSpec } from "../core/validate.js";
import { promises as nodeFsPromises } from "node:fs";
import { offlineFromEnv, OFFLINE_ENV } from "./env.js";
import { hubCacheSize, isHubCache, listHubCache } from "./hub-inventory.js";
import { clearHubCache, pruneHubCache, type HubRemovalOptions } from "./hub-removal.js";
import { OverTarget, type OverTargetOptions } from "./over-target.js";
import { DEFAULT_STALE_MS, type LockOptions } from "./locks.js";
import { makeMapper, type CacheMapper, type MapperSpec } from "./mappers.js";
import { CacheMetadata, type CacheEntry } from "./metadata.js";
import { EXTRACTED_SUFFIX, extractedName, isInternalName, resolveStorage, type StorageDir, type StorageOptions } from "./storage.js";

/** `fs` (or `targetProtocol` / `targetOptions`) is the filesystem being cached. */
export interface CacheLayerOptions extends OverTargetOptions, StorageOptions {
  /** Milliseconds between re-reads of the metadata files (default 10,000; 0 or false = on every lookup). */
  cacheCheckMs?: number | false;
  /** Compare the target's `ukey` with the recorded one on every open (default false). */
  checkFiles?: boolean;
  /** Milliseconds a cached file stays valid (default 7 days); 0 or false = forever. */
  expiryMs?: number | false;
  /** Cache files under their basename instead of a hash of the path (default false). */
  sameNames?: boolean;
  /**
   * How paths become file names: a mapper, "hash" (the default), "basename", or `{type: "basename",
   * directoryLevels}`.
   */
  cacheMapper?: CacheMapper | MapperSpec;
  /**
   * Decompress at download: a codec name, or "infer" from the extension (whole-file layers); default
   * none.
   */
  compression?: string | null;
  /**
   * Never touch the target: serve what is cached (even expired), ENOENT otherwise. Default false, or
   * true when `FSSPEC_TS_OFFLINE` is set.
   */
  offline?: boolean;
  /** Milliseconds after which an untouched lock or temporary file belongs to a dead process (default 60,000). */
  lockStaleMs?: number;
  /** Milliseconds to wait for another process's download before ETIMEDOUT (default: no limit). */
  lockTimeoutMs?: number;
}

/** Milliseconds a cached file stays valid by default (`expiryMs`): 7 days. */
export const DEFAULT_EXPIRY_MS = 7 * 24 * 3600 * 1000;
/** Milliseconds between re-reads of the metadata files by default (`cacheCheckMs`): 10 s. */
export const DEFAULT_CACHE_CHECK_MS = 10_000;

/** What `clearExpiredCache` takes. */
export interface ClearExpiredOptions {
  /** Remove files fetched more than this many milliseconds ago (default: the layer's `expiryMs`). */
  expiryMs?: number;
}

const CLEAR_EXPIRED_OPTIONS = optionSpec<ClearExpiredOptions>({ expiryMs: isNonNegativeNumber });

/**
 * The age limit `clearExpiredCache` was given (or the layer's own, `fallbackMs`); EINVAL for a bare
 * number (once seconds: read as milliseconds it would remove 1000x too much) or no limit at all.
 * @internal
 */
export function checkExpiry(options: ClearExpiredOptions, fallbackMs: number | undefined): number {
  if (typeof options === "number") {
    throw FsError.einval(`clearExpiredCache takes { expiryMs } (milliseconds), got the number ${options}`);
  }
  checkOptions("clearExpiredCache", options, CLEAR_EXPIRED_OPTIONS);
  const limit = options.expiryMs ?? fallbackMs;
  if (limit === undefined) throw FsError.einval("clearExpiredCache needs { expiryMs } (this layer has no expiryMs)");
  return limit;
}

/** One cached file as the management API reports it. */
export interface CachedFileInfo {
  /** The target path, when known (simplecache and files without metadata have none). */
  path: string | undefined;
  /** File name in the storage directory. */
  fn: string;
  /** Full path of the file on the storage filesystem. */
  localPath: string;
  /** The storage directory, and whether it is a read-only layer. */
  storage: string;
  /** Whether that storage directory is a read-only layer (every one but the last). */
  readOnly: boolean;
  /** Bytes on disk. */
  size: number;
  /** When it was fetched (milliseconds since the epoch; the file's mtime without metadata). */
  timeMs: number | undefined;
  /** Milliseconds since it was fetched. */
  ageMs: number | undefined;
  /** False for a block-cached file still missing blocks. */
  complete: boolean;
  /** The target's `ukey` recorded at download, when the layer keeps one. */
  uid?: string | null;
  /** The folder the archive was extracted into beside it (`<fn>.extracted`), with the bytes of its files. */
  extracted?: { localPath: string; size: number };
  /** An extracted folder whose archive is no longer cached (`fn` is the folder's name). */
  directory?: boolean;
}

/**
 * The base of the cache layers (blockcache, filecache, simplecache): a filesystem over a target (`fs`)
 * whose reads are cached in local storage directories, with the management API (`listCache`,
 * `cacheSize`, `clearCache`, `clearExpiredCache`, `popFromCache`). Every call the layer does not cache
 * goes to the target; paths are the target's own. See docs/cache-layers.md.
 */
export abstract class CacheLayer extends OverTarget {
  /** Whether entries are recorded in metadata files (not for simplecache). */
  static keepsMetadata = true;
  static override ownOptions = optionSpec<CacheLayerOptions, OverTargetOptions>({
    cacheCheckMs: either(isNonNegativeNumber, oneOf(false)),
    checkFiles: isBoolean,
    expiryMs: either(isNonNegativeNumber, oneOf(false)),
    sameNames: isBoolean,
    // The mapper, the storage list and the codec name are checked where they are resolved.
    cacheMapper: anyValue,
    compression: either(isString, oneOf(null)),
    offline: isBoolean,
    lockStaleMs: isNonNegativeNumber,
    lockTimeoutMs: isNonNegativeNumber,
    cacheStorage: anyValue,
    storageFs: isFileSystem,
  });

  declare readonly options: Readonly<CacheLayerOptions>;
  /**
   * The storage directories, read-only layers first and the writable one last.
   * @internal
   */
  readonly storages: readonly StorageDir[];
  /** How target paths become file names in a storage directory (`cacheMapper`, `sameNames`). */
  readonly mapper: CacheMapper;
  /** Whether an open compares the target's `ukey` with the recorded one (`checkFiles`). */
  readonly checkFiles: boolean;
  /** Milliseconds a cached file stays valid; 0: forever (always 0 for simplecache). */
  readonly expiryMs: number;
  /** Milliseconds between re-reads of the metadata files; 0: on every lookup. */
  readonly cacheCheckMs: number;
  /** How the layer locks cache entries (`lockStaleMs`, `lockTimeoutMs`). */
  protected readonly lockOptions: LockOptions;
  private readonly metadatas = new Map<StorageDir, CacheMetadata>();
  /** Read-only copies made stale by writes through this instance, as `index\0path`. */
  protected readonly shadowed = new Set<string>();

  constructor(options: CacheLayerOptions) {
    super(options, "a cache layer");
    this.storages = resolveStorage(options);
    this.mapper = makeMapper(options.cacheMapper, options.sameNames);
    this.checkFiles = options.checkFiles ?? false;
    const keeps = (this.constructor as typeof CacheLayer).keepsMetadata;
    this.expiryMs = !keeps ? 0 : options.expiryMs === undefined ? DEFAULT_EXPIRY_MS : Number(options.expiryMs || 0);
    this.cacheCheckMs = options.cacheCheckMs === undefined ? DEFAULT_CACHE_CHECK_MS : Number(options.cacheCheckMs || 0);
    this.lockOptions = { staleMs: options.lockStaleMs ?? DEFAULT_STALE_MS, timeoutMs: options.lockTimeoutMs };
  }

  /** Whether this layer records entries in metadata files (`keepsMetadata`). */
  protected get usesMetadata(): boolean {
    return (this.constructor as typeof CacheLayer).keepsMetadata;
  }

  /**
   * The last storage directory: the only one written.
   * @internal
   */
  get writable(): StorageDir {
    return this.storages[this.storages.length - 1]!;
  }

  /** Offline by option or by `FSSPEC_TS_OFFLINE` (read at call time; the variable wins). */
  get offline(): boolean {
    return this.options.offline === true || offlineFromEnv();
  }

  /**
   * The metadata of one storage directory, as last read.
   * @internal
   */
  protected metadataOf(storage: StorageDir): CacheMetadata {
    let md = this.metadatas.get(storage);
    if (!md) {
      md = new CacheMetadata(storage, this.lockOptions);
      this.metadatas.set(storage, md);
    }
    return md;
  }

  /**
   * Metadata of `storage`, re-read when older than `cacheCheckMs`.
   * @internal
   */
  protected async freshMetadata(storage: StorageDir, force = false): Promise<CacheMetadata> {
    const md = this.metadataOf(storage);
    if (force) await md.load();
    else await md.refresh(this.cacheCheckMs);
    return md;
  }

  /** Whether an entry fetched at `entry.time` (seconds, fsspec's metadata format) is older than `expiryMs`. */
  protected isExpired(entry: Pick<CacheEntry, "time">): boolean {
    return this.expiryMs > 0 && Date.now() - entry.time * 1000 > this.expiryMs;
  }

  /** The ENOENT of a path that offline mode cannot serve. */
  protected offlineError(path: string): FsError {
    return FsError.enoent(path, `not in the cache, and offline mode (offline option or ${OFFLINE_ENV}) forbids fetching it`);
  }

  /** EACCES in offline mode: writes and other calls that need the target are refused. */
  protected refuseOffline(path: string): void {
    if (this.offline) throw FsError.eacces(path, `offline mode (offline option or ${OFFLINE_ENV}): the target is not touched`);
  }

  // ---------------------------------------------------------------- delegation

  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    if (this.offline) return this.offlineLs(path);
    return this.target.ls(path, { signal: options.signal, refresh: (options as LsOptions).refresh, detail: true });
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    if (this.offline) return this.offlineInfo(path);
    return this.target.info(path, { signal: options.signal });
  }

  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode, options: SignalOptions): Promise<void> {
    this.refuseOffline(path);
    try {
      await this.target.pipeFile(path, data, { signal: options.signal, mode });
    } finally {
      await this.forget(path);
    }
  }

  protected override async _rmFile(path: string, options: SignalOptions): Promise<void> {
    this.refuseOffline(path);
    try {
      await this.target.rmFile(path, { signal: options.signal });
    } finally {
      await this.forget(path);
    }
  }

  protected override async _cpFile(src: string, dst: string, options: SignalOptions): Promise<void> {
    this.refuseOffline(dst);
    try {
      await this.target.cpFile(src, dst, { signal: options.signal });
    } finally {
      await this.forget(dst);
    }
  }

  protected override async _mkdir(path: string, createParents: boolean, options: SignalOptions): Promise<void> {
    this.refuseOffline(path);
    await this.target.mkdir(path, { signal: options.signal, createParents });
  }

  protected override async _rmdir(path: string, options: SignalOptions): Promise<void> {
    this.refuseOffline(path);
    await this.target.rmdir(path, { signal: options.signal });
  }

  protected override async _touchExisting(path: string): Promise<void> {
    this.refuseOffline(path);
    await this.target.touch(path, { truncate: false });
    await this.forget(path);
  }

  /** The target's own (possibly one-request) find when online. */
  protected override async findInfos(path: string, options: FindOptions): Promise<Map<string, FileInfo>> {
    if (this.offline) return super.findInfos(path, options);
    const { signal, maxDepth, withDirs } = options;
    const found = await this.target.find(path, { signal, maxDepth, withDirs, detail: true });
    return new Map(Object.entries(found));
  }

  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    this.checkCall("ukey", options, SIGNAL_OPTIONS);
    if (this.offline) return super.ukey(path, options);
    return this.target.ukey(this.normalizePath(path), options);
  }

  override async sign(path: string, options: SignOptions = {}): Promise<string> {
    const p = this.checkSign(path, options);
    this.refuseOffline(p);
    return this.target.sign(p, options);
  }

  /** A mapper instance is saved as its plain-data spec. */
  override toJSON(): FileSystemJSON {
    const view = Object.create(this, { options: { value: { ...this.options, cacheMapper: undefined } } }) as this;
    const json = super.toJSON.call(view);
    if (this.options.cacheMapper !== undefined) json.options.cacheMapper = this.mapper.toJSON();
    return json;
  }

  // ---------------------------------------------------------------- what a layer defines

  /** Drop the cached copy of `path` after a write through this layer made it stale. */
  protected async forget(path: string): Promise<void> {
    for (const storage of this.storages) {
      if (storage.readOnly) this.shadowed.add(`${storage.index}\0${path}`);
    }
    await this.removeFromWritable(path).catch(() => undefined);
  }

  /** Remove `path`'s cached file, its extracted folder and its entry from the writable layer; true if there was one. */
  protected async removeFromWritable(path: string): Promise<boolean> {
    const storage = this.writable;
    let removed = false;
    if (this.usesMetadata) {
      // Read afresh: an entry another process or instance made since the last read must go too.
      const md = await this.freshMetadata(storage, true);
      const entry = md.delete(path);
      if (entry) {
        await this.removeCopy(storage, entry.fn);
        await md.save();
        removed = true;
      }
    }
    // A file under the mapped name without an entry (simplecache, seeded or adopted files).
    if (await this.removeCopy(storage, this.mapper.map(path))) removed = true;
    return removed;
  }

  /**
   * Remove a cached file and the folder it was extracted into; true if the file was there.
   * @internal
   */
  protected async removeCopy(storage: StorageDir, fn: string): Promise<boolean> {
    await storage.removeTree(extractedName(fn));
    return storage.remove(fn);
  }

  /** Extracted folders of `storage` by the name of the file they were extracted from. */
  private async extractedFolders(storage: StorageDir): Promise<Map<string, FileInfo>> {
    const out = new Map<string, FileInfo>();
    for (const info of await storage.listDirs()) {
      const name = info.name.slice(info.name.lastIndexOf("/") + 1);
      if (name.endsWith(EXTRACTED_SUFFIX) && !isInternalName(name)) out.set(name.slice(0, -EXTRACTED_SUFFIX.length), info);
    }
    return out;
  }

  /**
   * Where `path` is cached in `storage`, if it is (expired or not).
   * @internal
   */
  protected async findIn(storage: StorageDir, path: string, fresh = false): Promise<{ fn: string; entry?: CacheEntry } | undefined> {
    if (this.usesMetadata) {
      const entry = (fresh ? this.metadataOf(storage) : await this.freshMetadata(storage)).get(path);
      if (entry && (await storage.stat(entry.fn))) return { fn: entry.fn, entry };
    }
    const fn = this.mapper.map(path);
    if (!(await storage.stat(fn))) return undefined;
    if (!this.usesMetadata) return { fn };
    // A file without an entry in our view: another process may have recorded it (for this path
    // or, with basename mappers, for another one) since we last read the metadata.
    if (!fresh) {
      await this.freshMetadata(storage, true);
      return this.findIn(storage, path, true);
    }
    return this.ownedByOther(storage, path, fn) ? undefined : { fn };
  }

  /**
   * Whether another path's entry owns the file `fn` (basename mappers): it holds that path's bytes.
   * @internal
   */
  protected ownedByOther(storage: StorageDir, path: string, fn: string): boolean {
    if (!this.usesMetadata) return false;
    for (const [other, e] of this.metadataOf(storage).entries) if (other !== path && e.fn === fn) return true;
    return false;
  }

  // ---------------------------------------------------------------- offline listings

  /** info from the cache alone: a cached file, or a directory holding cached files. */
  protected async offlineInfo(path: string): Promise<FileInfo> {
    for (const storage of this.storages) {
      const found = await this.findIn(storage, path);
      if (found) {
        const size = found.entry?.size ?? (await storage.stat(found.fn))?.size ?? null;
        return { name: path, size, type: "file" };
      }
    }
    if ((await this.cachedPaths()).some((p) => p !== path && isInside(p, path))) {
      return { name: path, size: 0, type: "directory" };
    }
    throw this.offlineError(path);
  }

  /**
   * A listing made from what the cache holds (offline mode): the cached files below `path`, and the
   * directories their paths imply.
   */
  protected async offlineLs(path: string): Promise<FileInfo[]> {
    const self = await this.offlineInfo(path);
    if (self.type === "file") return [self];
    const base = trimTrailingSlashes(path);
    const children = new Map<string, FileInfo>();
    for (const p of await this.cachedPaths()) {
      if (p === base || !isInside(p, base)) continue;
      const rest = p.slice(base === "/" ? 1 : base.length + 1);
      const slash = rest.indexOf("/");
      const name = base === "/" ? `/${slash < 0 ? rest : rest.slice(0, slash)}` : `${base}/${slash < 0 ? rest : rest.slice(0, slash)}`;
      if (slash < 0) children.set(name, await this.offlineInfo(name));
      else if (!children.has(name)) children.set(name, { name, size: 0, type: "directory" });
    }
    return [...children.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Target paths with a metadata entry in any layer. */
  private async cachedPaths(): Promise<string[]> {
    if (!this.usesMetadata) return [];
    const out = new Set<string>();
    for (const storage of this.storages) for (const p of (await this.freshMetadata(storage)).entries.keys()) out.add(p);
    return [...out];
  }

  // ---------------------------------------------------------------- management

  /**
   * Whether `storage` is a Hugging Face Hub cache on the local disk (hfcache's layout, shared with
   * huggingface_hub): its files are listed, counted and removed by that layout (hub-inventory.ts, hub-removal.ts).
   */
  private async isHubCacheStorage(storage: StorageDir): Promise<boolean> {
    return storage.local === nodeFsPromises && (await isHubCache(storage.dir));
  }

  /** How removal from a Hub cache waits for its locks: as long as this layer waits for its own. */
  private get hubRemovalOptions(): HubRemovalOptions {
    return { lockTimeoutMs: this.lockOptions.timeoutMs };
  }

  /**
   * Every cached file in every layer, with sizes and ages, and with the folder each archive was
   * extracted into; an extracted folder whose archive is gone is an item of its own. A Hub
   * cache's are its snapshot files (see hub-inventory.ts).
   */
  async listCache(): Promise<CachedFileInfo[]> {
    const now = Date.now();
    const out: CachedFileInfo[] = [];
    for (const storage of this.storages) {
      if (await this.isHubCacheStorage(storage)) {
        out.push(...(await listHubCache(storage.dir)).map((e) => ({ ...e, readOnly: storage.readOnly })));
        continue;
      }
      const files = new Map((await storage.list()).map((i) => [i.name.slice(i.name.lastIndexOf("/") + 1), i]));
      const folders = await this.extractedFolders(storage);
      const extracted = async (fn: string) => {
        if (!folders.has(fn)) return {};
        folders.delete(fn);
        const name = extractedName(fn);
        return { extracted: { localPath: storage.pathOf(name), size: await storage.treeSize(name) } };
      };
      const seen = new Set<string>();
      const entries = this.usesMetadata ? (await this.freshMetadata(storage, true)).entries : new Map<string, CacheEntry>();
      for (const [path, e] of entries) {
        const file = files.get(e.fn);
        if (!file) continue;
        seen.add(e.fn);
        out.push({
          path, fn: e.fn, localPath: storage.pathOf(e.fn), storage: storage.dir, readOnly: storage.readOnly,
          size: file.size ?? 0, timeMs: e.time * 1000, ageMs: now - e.time * 1000, complete: e.blocks === true, uid: e.uid, ...(await extracted(e.fn)),
        });
      }
      for (const [fn, file] of files) {
        if (seen.has(fn) || isInternalName(fn)) continue;
        const timeMs = file.mtime instanceof Date ? file.mtime.getTime() : undefined;
        out.push({
          path: undefined, fn, localPath: storage.pathOf(fn), storage: storage.dir, readOnly: storage.readOnly,
          size: file.size ?? 0, timeMs, ageMs: timeMs === undefined ? undefined : now - timeMs, complete: true, ...(await extracted(fn)),
        });
      }
      for (const [fn, folder] of folders) {
        const name = extractedName(fn);
        const timeMs = folder.mtime instanceof Date ? folder.mtime.getTime() : undefined;
        out.push({
          path: undefined, fn: name, localPath: storage.pathOf(name), storage: storage.dir, readOnly: storage.readOnly,
          size: await storage.treeSize(name), timeMs, ageMs: timeMs === undefined ? undefined : now - timeMs, complete: true, directory: true,
        });
      }
    }
    return out;
  }

  /**
   * Bytes of every file in the writable cache directory: metadata, cached files and the folders
   * archives were extracted into (a Hub cache's: every file once, each blob once).
   */
  async cacheSize(): Promise<number> {
    const storage = this.writable;
    if (await this.isHubCacheStorage(storage)) return hubCacheSize(storage.dir);
    let total = (await storage.list()).reduce((n, i) => n + (i.size ?? 0), 0);
    for (const dir of await storage.listDirs()) total += await storage.treeSize(dir.name.slice(dir.name.lastIndexOf("/") + 1));
    return total;
  }

  /**
   * Remove every cached file and the metadata of the writable layer. Read-only layers are left
   * alone; downloads other processes have in progress finish normally. A Hub cache loses its
   * repo folders (hub-removal.ts).
   */
  async clearCache(): Promise<void> {
    const storage = this.writable;
    if (await this.isHubCacheStorage(storage)) return clearHubCache(storage.dir, this.hubRemovalOptions);
    const md = this.metadataOf(storage);
    await storage.ensureDir();
    await md.withLock(async () => {
      for (const info of await storage.list()) {
        const fn = info.name.slice(info.name.lastIndexOf("/") + 1);
        // Locks and live temporaries belong to running work (the metadata lock is ours).
        if (isInternalName(fn) && fn !== "cache") continue;
        await storage.remove(fn);
      }
      for (const fn of (await this.extractedFolders(storage)).keys()) await storage.removeTree(extractedName(fn));
      if (this.usesMetadata) await storage.writeWhole("cache", "{}");
      // Unsaved changes too: they name files just deleted, and would be saved back half-empty.
      md.clear();
    });
    await storage.cleanTemporaries(this.lockOptions.staleMs ?? DEFAULT_STALE_MS, true);
    this.shadowed.clear();
  }

  /**
   * Remove files of the writable layer fetched more than `expiryMs` milliseconds ago (default:
   * the layer's expiryMs). Returns the paths (or, without metadata, file names) removed.
   */
  async clearExpiredCache(options: ClearExpiredOptions = {}): Promise<string[]> {
    const limit = checkExpiry(options, this.expiryMs || undefined);
    const storage = this.writable;
    if (await this.isHubCacheStorage(storage)) return pruneHubCache(storage.dir, limit, this.hubRemovalOptions);
    const now = Date.now();
    const removed: string[] = [];
    if (this.usesMetadata) {
      const md = await this.freshMetadata(storage, true);
      for (const [path, e] of [...md.entries]) {
        if (now - e.time * 1000 <= limit) continue;
        md.delete(path);
        await this.removeCopy(storage, e.fn);
        removed.push(path);
      }
      await md.save();
    } else {
      for (const info of await storage.list()) {
        const fn = info.name.slice(info.name.lastIndexOf("/") + 1);
        if (isInternalName(fn) || !(info.mtime instanceof Date)) continue;
        if (now - info.mtime.getTime() > limit && (await this.removeCopy(storage, fn))) removed.push(fn);
      }
    }
    // A folder whose archive is gone (removed by hand, or a run killed in between) goes too.
    const files = new Set((await storage.list()).map((i) => i.name.slice(i.name.lastIndexOf("/") + 1)));
    for (const fn of (await this.extractedFolders(storage)).keys()) {
      if (!files.has(fn) && (await storage.removeTree(extractedName(fn)))) removed.push(extractedName(fn));
    }
    return removed;
  }

  /**
   * Remove the cached copy of `path`. The first layer holding it decides: a read-only layer
   * gives EACCES. Returns whether anything was removed.
   */
  async popFromCache(path: string): Promise<boolean> {
    const p = this.normalizePath(path);
    for (const storage of this.storages) {
      if (this.usesMetadata) await this.freshMetadata(storage, true);
      if (!(await this.findIn(storage, p))) continue;
      if (storage.readOnly) throw FsError.eacces(p, `cached in the read-only layer '${storage.dir}'`);
      return this.removeFromWritable(p);
    }
    return false;
  }
}
