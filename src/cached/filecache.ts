/**
 * filecache: whole files are downloaded on first open and served from the cache after that,
 * with metadata (fetch time, the target's ukey) for expiry and revalidation. Writes go to a
 * local temporary that is uploaded on close or on transaction commit.
 *
 * A download: lookup -> (miss) one shared promise per file in this process -> the entry's lock
 * across processes -> lookup again (someone may have finished meanwhile) -> download to a
 * temporary, verified -> rename into place -> metadata merged and saved. A killed process
 * leaves at most a temporary file, which later runs delete.
 */
import type { AbstractFileSystem } from "../core/abstract.js";
import { mapBounded, Semaphore } from "../core/limiter.js";
import { resolveRange } from "../core/ranges.js";
import { FsError, isFsError } from "../core/errors.js";
import { SIGNAL_OPTIONS, type FileInfo, type ProgressCallback, type SignalOptions } from "../core/types.js";
import { checkOffset, checkOptions, checkPath, checkPaths, hasMethods, isBoolean, isFunction, isPositiveInteger, isSignal, mergeSpecs, optionSpec, type Check } from "../core/validate.js";
import { BufferedFile, readableFile, type FileOpenOptions } from "../files/buffered-file.js";
import { resolveCompression } from "../files/compression.js";
import { LocalFileSystem } from "../implementations/local.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import type { SinkOptions, UploadSink } from "../files/upload-sink.js";
import { downloadTo, statedDigest } from "./download.js";
import { CacheLayer, type CacheLayerOptions } from "./layer.js";
import { DEFAULT_STALE_MS } from "./locks.js";
import { HashMapper } from "./mappers.js";
import { SharedTasks } from "./shared-tasks.js";
import type { CacheEntry } from "./metadata.js";
import { extractedName, lockNameFor, type StorageDir } from "./storage.js";
import { WriteThroughSink, type WrittenFile } from "./write-through.js";

export interface WholeFileCacheOptions extends CacheLayerOptions {
  /** fsync downloads before renaming them into place (survives power loss; slower). Default false. */
  fsync?: boolean;
  /** Bytes per read of a download (default 8 MiB). */
  downloadChunkSize?: number;
  /**
   * Most downloads this layer runs at once, whoever asks (openLocal, prefetch, open...); the
   * others wait for a slot. Default: no limit beyond the callers' own.
   */
  downloadConcurrency?: number;
}

/** Options of `localPath` and the other calls that download a whole file into the cache. */
export interface FetchOptions extends SignalOptions {
  /** Progress of a download; never called when the file is served from the cache. */
  callback?: ProgressCallback;
  /**
   * The sha256 (hex) the file must have (a pin). A download that differs is EIO "checksum
   * mismatch" and is never published; a cached copy that differs is never served (dropped and
   * fetched again; offline, EIO).
   */
  sha256?: string;
  /**
   * The target's info of the file, when the caller just looked it up (a prefetch asks for all of
   * its files at once): a download starts from it instead of asking again, pinned to that version;
   * a file replaced since is fetched again whole.
   */
  info?: FileInfo;
}

const progress = hasMethods("setSize", "relativeUpdate");
/** A pin's shape (its value is checked where it is used: checkSha256). */
const isSha256: Check = (v) => (typeof v === "string" && /^[0-9a-f]{64}$/i.test(v) ? undefined : "must be 64 hex digits (a sha256)");
/** What `localPath`, `openLocal` and `ensureCached` take (the Hugging Face cache layer's too). */
const isInfo: Check = (v) =>
  typeof v === "object" && v !== null && typeof (v as FileInfo).name === "string" && typeof (v as FileInfo).type === "string" ? undefined : "must be a FileInfo";
export const FETCH_OPTIONS = optionSpec<FetchOptions>({ signal: isSignal, callback: progress, sha256: isSha256, info: isInfo });

/** What extracts an archive: reads the archive at `archive` on `fs` and writes its members under the empty folder `into`. */
export type Extractor = (job: { fs: AbstractFileSystem; archive: string; into: string; signal?: AbortSignal }) => Promise<void>;

/** Options of a download that extracts the archive into a folder beside the cached file. */
export interface ExtractOptions extends FetchOptions {
  /** Writes the archive's members under `into` (`extractArchive` of Package does zip and tar). */
  extract: Extractor;
}

/** What `ensureExtracted` takes (the Hugging Face cache layer's too). */
export const EXTRACT_OPTIONS = mergeSpecs(FETCH_OPTIONS, optionSpec<Pick<ExtractOptions, "extract">>({ extract: isFunction }));

/** Extractions in progress in this process, per storage directory and archive: shared by callers. */
const extracting = new SharedTasks<string | undefined>();

/** Where a valid cached copy of a file is. */
export interface CacheHit {
  /**
   * The storage directory holding it.
   * @internal
   */
  storage: StorageDir;
  /** Its file name in that directory. */
  fn: string;
  /** Its metadata entry (none for simplecache). */
  entry?: CacheEntry;
}

/** Downloads in progress in this process, per storage filesystem and file: shared by callers. */
const inflight = new WeakMap<AbstractFileSystem, SharedTasks<CacheHit>>();
/** Every LocalFileSystem on node:fs is the same disk: their downloads are shared too. */
const diskInflight = new SharedTasks<CacheHit>();

function inflightTable(fs: AbstractFileSystem): SharedTasks<CacheHit> {
  if (fs instanceof LocalFileSystem && fs.options.fs === undefined) return diskInflight;
  let table = inflight.get(fs);
  if (!table) inflight.set(fs, (table = new SharedTasks()));
  return table;
}

/** A pin: 64 hex digits, compared in lower case. */
export function checkSha256(value: unknown, path?: string): string {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/i.test(value)) {
    throw FsError.einval(`a sha256 pin must be 64 hex digits, got ${JSON.stringify(value)}`, path);
  }
  return value.toLowerCase();
}

/** EIO naming both digests: what the bytes hash to and what the pin says. */
export function checksumMismatch(path: string, actual: string, expected: string, what: string): FsError {
  return new FsError("EIO", `checksum mismatch: ${what} has sha256 ${actual}, the pin says ${expected}`, { path });
}

/** A cached file's mtime in ms, as its entry records it. */
function mtimeOf(st: FileInfo | undefined): number | undefined {
  return st?.mtime instanceof Date ? st.mtime.getTime() : undefined;
}

/**
 * filecache: downloads whole files into local storage on first read (atomically, verified, once across
 * processes) and serves them from there; `localPath` gives a real path on disk (docs/cache-layers.md).
 */
export class WholeFileCacheFileSystem extends CacheLayer {
  static override protocols: readonly string[] = ["filecache"];
  static override ownOptions = optionSpec<WholeFileCacheOptions, CacheLayerOptions>({ fsync: isBoolean, downloadChunkSize: isPositiveInteger, downloadConcurrency: isPositiveInteger });
  /**
   * Opening reports the download's progress to `callback` (never called on a cache hit).
   * @internal
   */
  static override callOptions = { open: optionSpec<Pick<FetchOptions, "callback">>({ callback: progress }) };

  declare readonly options: Readonly<WholeFileCacheOptions>;

  /** Download slots (downloadConcurrency); undefined: no limit. */
  private readonly downloadSlots: Semaphore | undefined;
  /** Digests of cached files without an entry (simplecache), per `index\0fn`, for their size and mtime. */
  private readonly digests = new Map<string, { size: number | null; mtime: number | undefined; sha256: string }>();

  constructor(options: WholeFileCacheOptions) {
    super(options);
    const c = options.compression;
    if (c !== undefined && c !== null && c !== "infer") resolveCompression(c, "");
    const n = options.downloadConcurrency;
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw FsError.einval(`downloadConcurrency must be a positive integer, got ${n}`);
    this.downloadSlots = n === undefined ? undefined : new Semaphore(n);
  }

  /** How many downloads the layer runs at once (Infinity: no limit of its own). */
  get downloadLimit(): number {
    return this.downloadSlots?.limit ?? Infinity;
  }

  private get wholeOptions(): WholeFileCacheOptions {
    return this.options as WholeFileCacheOptions;
  }

  /** A valid cached copy of `path` in some layer (first hit wins), or undefined. */
  protected async lookup(path: string, signal?: AbortSignal): Promise<CacheHit | undefined> {
    const offline = this.offline;
    const fn = this.mapper.map(path);
    let ukey: string | undefined;
    const currentUkey = async () => (ukey ??= await this.target.ukey(path, { signal }));
    for (const storage of this.storages) {
      if (this.shadowed.has(`${storage.index}\0${path}`)) continue;
      const hit = await this.lookupIn(storage, path, fn, offline, currentUkey, signal);
      if (hit) return hit;
    }
    return undefined;
  }

  private async lookupIn(
    storage: StorageDir, path: string, fn: string, offline: boolean,
    currentUkey: () => Promise<string>, signal: AbortSignal | undefined, fresh = false,
  ): Promise<CacheHit | undefined> {
    if (this.usesMetadata) {
      const entry = (fresh ? this.metadataOf(storage) : await this.freshMetadata(storage)).get(path);
      if (entry) {
        if (entry.blocks !== true) return undefined; // a block cache's partial file
        if (!offline && (this.isExpired(entry) || (this.checkFiles && entry.uid !== (await currentUkey())))) return undefined;
        const st = await storage.stat(entry.fn);
        if (!st) return undefined;
        const rewritten = st.mtime instanceof Date && st.mtime.getTime() > entry.time * 1000;
        // Written after its entry was recorded: another process took the file over (basename
        // mappers: for another path), so our view is stale; read the metadata again first.
        if (!fresh && !(this.mapper instanceof HashMapper) && rewritten) {
          await this.freshMetadata(storage, true);
          return this.lookupIn(storage, path, fn, offline, currentUkey, signal, true);
        }
        const damage = await this.damageOf(storage, path, entry, st, rewritten);
        if (damage) return this.discardDamaged(storage, path, entry, damage, offline);
        return { storage, fn: entry.fn, entry: this.metadataOf(storage).get(path) ?? entry };
      }
    }
    const st = await storage.stat(fn);
    if (!st) return undefined;
    if (!this.usesMetadata) return { storage, fn };
    // A file without an entry in our view: another process may have recorded it since we last
    // read the metadata, for this path or (basename mappers) for another one, whose bytes it holds.
    if (!fresh) {
      await this.freshMetadata(storage, true);
      return this.lookupIn(storage, path, fn, offline, currentUkey, signal, true);
    }
    if (this.ownedByOther(storage, path, fn)) return undefined;
    if (offline) return { storage, fn };
    return this.adopt(storage, path, fn, st, signal);
  }

  /**
   * Why the cached copy of `entry` is not what was recorded, if it is not: its size is checked
   * on every hit, its sha256 when the file's mtime is not the one recorded with it (entries
   * without one: when it was written after its entry was recorded). Bytes found unchanged get
   * the new mtime recorded, so they are hashed once.
   */
  private async damageOf(storage: StorageDir, path: string, entry: CacheEntry, st: FileInfo, rewritten: boolean): Promise<string | undefined> {
    if (typeof entry.size === "number" && st.size !== entry.size) return `${st.size} bytes where ${entry.size} were cached`;
    const mtime = mtimeOf(st);
    const changed = entry.mtime === undefined ? rewritten : mtime !== entry.mtime;
    if (!changed || !entry.sha256) return undefined;
    if ((await storage.digest(entry.fn, "sha256")) !== entry.sha256) return "its sha256 differs from the one recorded";
    await this.recordDigest(storage, path, entry, entry.sha256, mtime);
    return undefined;
  }

  /** Record that `entry`'s file, at `mtime`, hashes to `sha256` (kept in memory for read-only layers). */
  private async recordDigest(storage: StorageDir, path: string, entry: CacheEntry, sha256: string, mtime: number | undefined): Promise<void> {
    const md = this.metadataOf(storage);
    if (md.get(path)?.fn !== entry.fn) return;
    md.set(path, { ...md.get(path)!, sha256, mtime });
    await md.save().catch(() => undefined); // a lost record only costs one more hash later
  }

  /**
   * The sha256 of a cached copy's bytes: the recorded one while the file keeps the size and
   * mtime recorded with it, else read and hashed (and recorded). `rehash` always reads.
   */
  async sha256Of(hit: CacheHit, path: string, options: { rehash?: boolean } = {}): Promise<string | undefined> {
    const p = this.normalizePath(path);
    const st = await hit.storage.stat(hit.fn);
    if (!st) return undefined;
    const mtime = mtimeOf(st);
    const entry = hit.entry && this.usesMetadata ? (this.metadataOf(hit.storage).get(p) ?? hit.entry) : hit.entry;
    const key = `${hit.storage.index}\0${hit.fn}`;
    if (!options.rehash) {
      if (entry?.sha256 && entry.mtime !== undefined && entry.mtime === mtime && entry.size === st.size) return entry.sha256;
      const known = this.digests.get(key);
      if (known && known.mtime === mtime && known.size === st.size) return known.sha256;
    }
    const sha256 = await hit.storage.digest(hit.fn, "sha256");
    if (sha256 === undefined) return undefined;
    if (!entry || !this.usesMetadata) this.digests.set(key, { size: st.size, mtime, sha256 });
    // Only bytes that agree with what the entry recorded are vouched for: recording the digest
    // of a damaged copy would make it look sound.
    else if (entry.size === st.size && (entry.sha256 === undefined || entry.sha256 === sha256)) await this.recordDigest(hit.storage, p, entry, sha256, mtime);
    return sha256;
  }

  /**
   * The copy of `path` in the cache, whatever its state (expired, damaged): the first layer
   * holding it. For checking a cache (verify), never for serving; never downloads.
   */
  async cachedCopy(path: string): Promise<CacheHit | undefined> {
    checkPath("cachedCopy", path);
    const p = this.normalizePath(path);
    for (const storage of this.storages) {
      const found = await this.findIn(storage, p);
      if (found) return { storage, ...found };
    }
    return undefined;
  }

  /**
   * `hit` when its bytes match the pin. A copy that does not is never served: offline that is
   * EIO; online a writable layer drops it (a read-only one is skipped from now on) and the
   * caller fetches the file again.
   */
  private async pinned(hit: CacheHit, path: string, expected: string | undefined): Promise<CacheHit | undefined> {
    if (expected === undefined) return hit;
    const actual = await this.sha256Of(hit, path);
    if (actual === expected) return hit;
    if (actual === undefined) return undefined; // gone meanwhile: fetched again
    if (this.offline) throw checksumMismatch(path, actual, expected, "the cached copy");
    if (hit.storage.readOnly) this.shadowed.add(`${hit.storage.index}\0${path}`);
    else {
      const md = this.metadataOf(hit.storage);
      if (md.get(path)?.fn === hit.fn) md.delete(path);
      await this.removeCopy(hit.storage, hit.fn).catch(() => undefined);
      await md.save().catch(() => undefined);
    }
    return undefined;
  }

  /** The valid cached copy of `path`, if there is one; never downloads. */
  async findCached(path: string, options: SignalOptions = {}): Promise<CacheHit | undefined> {
    checkPath("findCached", path);
    this.checkCall("findCached", options, SIGNAL_OPTIONS);
    return this.lookup(this.normalizePath(path), options.signal);
  }

  /**
   * A damaged copy is never served. A writable layer drops it; online the file is then looked
   * up further (a read-only layer's copy is skipped from now on) and downloaded again; offline,
   * where no good copy can be had, it is EIO.
   */
  private async discardDamaged(storage: StorageDir, path: string, entry: CacheEntry, why: string, offline: boolean): Promise<undefined> {
    if (storage.readOnly) this.shadowed.add(`${storage.index}\0${path}`);
    else {
      const md = this.metadataOf(storage);
      if (md.get(path)?.fn === entry.fn) md.delete(path);
      await this.removeCopy(storage, entry.fn).catch(() => undefined);
      await md.save().catch(() => undefined);
    }
    if (offline) throw new FsError("EIO", `the cached copy is damaged (${why}), and offline mode forbids fetching it again`, { path });
    return undefined;
  }

  /**
   * A complete file under the mapped name but without an entry (seeded by hand, or its metadata
   * was lost) is used when the target agrees on its size and, where the target states one, on
   * its digest; its entry, with the sha256 of its bytes, is recorded (on disk where the layer is
   * writable).
   */
  private async adopt(storage: StorageDir, path: string, fn: string, st: FileInfo, signal?: AbortSignal): Promise<CacheHit | undefined> {
    if (this.checkFiles || resolveCompression(this.options.compression, path)) return undefined;
    const remote = await this.target.info(path, { signal });
    if (remote.type !== "file" || remote.size !== st.size) return undefined;
    const sha256 = await storage.digest(fn, "sha256");
    const stated = statedDigest(remote);
    if (sha256 === undefined || (stated && (stated.algorithm === "sha256" ? sha256 : await storage.digest(fn, stated.algorithm)) !== stated.hex)) {
      return undefined;
    }
    // Checked against the target just now: its expiry counts from here (a seeded file's mtime
    // says when it was copied, not when it was fetched).
    const entry: CacheEntry = { original: path, fn, blocks: true, time: Date.now() / 1000, uid: null, size: st.size, sha256, mtime: mtimeOf(st) };
    // Kept in memory for read-only layers too (saving is a no-op there), so the check is not repeated.
    const md = this.metadataOf(storage);
    md.set(path, entry);
    await md.save();
    return { storage, fn, entry };
  }

  /** The cached copy of `path`, downloading it first if needed (checked against `sha256` when given). */
  async ensureCached(path: string, options: FetchOptions = {}): Promise<CacheHit> {
    checkPath("ensureCached", path);
    this.checkCall("ensureCached", options, FETCH_OPTIONS);
    const expected = options.sha256 === undefined ? undefined : checkSha256(options.sha256, path);
    const found = await this.lookup(path, options.signal);
    const hit = found && (await this.pinned(found, path, expected));
    if (hit) return hit;
    if (this.offline) throw this.offlineError(path);
    const storage = this.writable;
    const fn = this.mapper.map(path);
    // The progress callback is the starter's: the download is reported once.
    // Keyed by path too: two paths mapped to one name (basename mappers) are two downloads; and
    // by the pin, so a caller never gets bytes checked against another caller's pin (or none).
    // A slot is taken inside: callers joining a download in progress need none.
    return inflightTable(storage.fs).run(`${storage.dir}\0${fn}\0${path}\0${expected ?? ""}`, options.signal, async (signal) => {
      const release = await this.downloadSlots?.acquire(signal, path);
      try {
        return await this.fetchLocked(path, fn, { ...options, sha256: expected, signal });
      } finally {
        release?.();
      }
    });
  }

  private async fetchLocked(path: string, fn: string, options: FetchOptions): Promise<CacheHit> {
    const storage = this.writable;
    await storage.ensureDir();
    await storage.cleanTemporaries(this.lockOptions.staleMs ?? DEFAULT_STALE_MS);
    return storage.withLock(lockNameFor(fn), { ...this.lockOptions, signal: options.signal }, async () => {
      // Another process may have fetched it while we waited for the lock: then its file is there
      // (renamed into place before its entry was saved and its lock released), and the metadata is
      // read again to find the entry. No file, nothing to find: no second lookup (the one before
      // the lock covered the read-only layers, which nobody writes).
      if (await storage.stat(fn)) {
        if (this.usesMetadata) await this.freshMetadata(storage, true);
        const found = await this.lookup(path, options.signal);
        const again = found && (await this.pinned(found, path, options.sha256));
        if (again) return again;
      }
      try {
        return await this.fetchOnce(path, fn, options);
      } catch (err) {
        // Changed under our feet (since the caller's info, too): one more try reads the new version whole.
        if (!isFsError(err, "ECHANGED")) throw err;
        return this.fetchOnce(path, fn, { ...options, info: undefined });
      }
    });
  }

  private async fetchOnce(path: string, fn: string, options: FetchOptions): Promise<CacheHit> {
    const storage = this.writable;
    const uid = this.checkFiles ? await this.target.ukey(path, { signal: options.signal }) : null;
    const temp = await storage.createTemp("partial", { fsync: this.wholeOptions.fsync });
    let done: Awaited<ReturnType<typeof downloadTo>>;
    try {
      done = await downloadTo(this.target, path, temp, {
        signal: options.signal,
        info: options.info,
        callback: options.callback,
        compression: resolveCompression(this.options.compression, path),
        chunkSize: this.wholeOptions.downloadChunkSize,
      });
      // The digest of the bytes just written: checked before anyone may see them.
      if (options.sha256 !== undefined && done.sha256 !== options.sha256) {
        throw checksumMismatch(path, done.sha256, options.sha256, "the download");
      }
      await temp.close();
      await storage.rename(temp.name, fn);
    } catch (err) {
      await temp.abort();
      throw err;
    }
    // What was extracted from the bytes just replaced is not this file's (the entry's stamp says so too).
    await storage.removeTree(extractedName(fn)).catch(() => undefined);
    const mtime = mtimeOf(await storage.stat(fn).catch(() => undefined));
    const entry: CacheEntry = { original: path, fn, blocks: true, time: Date.now() / 1000, uid, size: done.size, sha256: done.sha256, mtime };
    if (this.usesMetadata) {
      const md = this.metadataOf(storage);
      md.claim(path, entry);
      try {
        await md.save();
      } catch (err) {
        // A copy its metadata does not record would be space lost (or adopted later): it goes.
        md.delete(path);
        await storage.remove(fn).catch(() => undefined);
        throw err;
      }
    }
    return { storage, fn, entry };
  }

  // ---------------------------------------------------------------- reading

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    return this.readCached(path, start, end, options.signal);
  }

  /** Offsets from the end are resolved against the cached copy, not with a call to the target. */
  override catFile(path: string, start?: number | null, end?: number | null, options: SignalOptions = {}): Promise<Uint8Array> {
    if ((start ?? 0) >= 0 && (end ?? 0) >= 0) return super.catFile(path, start, end, options);
    return Promise.resolve().then(() => {
      checkOffset("catFile", "start", start);
      checkOffset("catFile", "end", end);
      this.checkCall("catFile", options, SIGNAL_OPTIONS);
      return this.readCached(this.normalizePath(path), start, end, options.signal);
    });
  }

  /** Bytes of the cached copy (slice semantics), fetching it first if needed. */
  private async readCached(path: string, start: number | null | undefined, end: number | null | undefined, signal?: AbortSignal): Promise<Uint8Array> {
    for (let attempt = 0; ; attempt++) {
      // Only the signal: progress callbacks in a caller's options belong to its own transfer.
      const hit = await this.ensureCached(path, { signal });
      let data: Uint8Array;
      try {
        data = await hit.storage.fs.catFile(hit.storage.pathOf(hit.fn), start, end, { signal });
      } catch (err) {
        // Removed by another process between lookup and read: look again (and fetch) once.
        if (attempt > 0 || !isFsError(err, "ENOENT")) throw err;
        continue;
      }
      const size = hit.entry?.size;
      if (typeof size !== "number") return data;
      const want = resolveRange(start, end, size);
      if (data.byteLength === want.end - want.start) return data;
      // Cut short since the lookup checked it: the next lookup finds the damage.
      if (attempt > 0) throw new FsError("EIO", `the cached copy is damaged (${data.byteLength} bytes where ${want.end - want.start} were asked)`, { path });
    }
  }

  protected override async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    for (let attempt = 0; ; attempt++) {
      const hit = await this.ensureCached(path, { signal: options.signal, callback: (options as FetchOptions).callback });
      const reader = await hit.storage.openReader(hit.fn);
      if (!reader) {
        if (attempt > 0) throw FsError.enoent(path, "the cached copy vanished while opening it");
        continue;
      }
      const size = hit.entry?.size;
      if (typeof size === "number" && reader.size !== size) {
        // Changed since the lookup checked it: the next lookup finds the damage.
        await reader.close();
        if (attempt > 0) throw new FsError("EIO", `the cached copy is damaged (${reader.size} bytes where ${size} were cached)`, { path });
        continue;
      }
      // Each read is a fresh buffer, so read caches may hand it on without a copy.
      return readableFile(path, reader.size, (start, end) => reader.read(start, end), options, {
        details: { ...hit.entry, name: path, localPath: hit.storage.pathOf(hit.fn) },
        ownedFetches: true,
        onClose: () => void reader.close().catch(() => undefined),
      });
    }
  }

  /** The path of the cached copy on the local disk, downloading first if needed. */
  async localPath(path: string, options: FetchOptions = {}): Promise<string> {
    checkPath("localPath", path);
    this.checkCall("localPath", options, FETCH_OPTIONS);
    const p = this.normalizePath(path);
    if (!this.writable.local) {
      throw FsError.enotsup(
        `${this.protocol}.localPath needs cache storage on the local disk (a LocalFileSystem); this layer stores its cache on '${this.writable.fs.protocol}'`,
        p,
      );
    }
    const hit = await this.ensureCached(p, options);
    return hit.storage.pathOf(hit.fn);
  }

  /**
   * The folder the archive `path` is extracted into, beside its cached copy (`<fn>.extracted`):
   * fetched first if needed, extracted once by `options.extract` into a temporary folder that is
   * then renamed into place, under the entry's lock (racing processes extract once). The entry
   * records the sha256 of the archive the folder was made from, so a changed archive is
   * extracted again; a new download removes the old folder.
   */
  async ensureExtracted(path: string, options: ExtractOptions): Promise<string> {
    checkPath("ensureExtracted", path);
    this.checkCall("ensureExtracted", options, EXTRACT_OPTIONS);
    if (typeof options?.extract !== "function") throw FsError.einval("ensureExtracted: option 'extract' (the extractor) is needed", path);
    const p = this.normalizePath(path);
    if (!this.writable.local) throw FsError.enotsup(`${this.protocol}: extracting needs cache storage on the local disk`, p);
    const { extract: _extractor, ...fetch } = options;
    for (let attempt = 0; ; attempt++) {
      const hit = await this.ensureCached(p, fetch);
      const ready = await this.extractedFolder(hit, p);
      if (ready) return ready;
      if (hit.storage.readOnly) {
        throw FsError.eacces(p, `the archive is cached in the read-only layer '${hit.storage.dir}' without its extracted folder; extract it where that cache is written`);
      }
      const folder = await extracting.run(`${hit.storage.dir}\0${hit.fn}`, options.signal, (signal) => this.extractLocked(p, hit, options, signal));
      if (folder) return folder;
      // The archive changed or went while we waited for the lock: fetch and look again, once.
      if (attempt > 0) throw new FsError("EIO", "the archive kept changing while it was being extracted", { path: p });
    }
  }

  /** The extracted folder of `hit` when it exists and was made from these bytes. */
  private async extractedFolder(hit: CacheHit, path: string): Promise<string | undefined> {
    const name = extractedName(hit.fn);
    if (!(await hit.storage.isDir(name))) return undefined;
    if (this.usesMetadata) {
      const entry = this.metadataOf(hit.storage).get(path) ?? hit.entry;
      if (entry?.extracted === undefined || entry.fn !== hit.fn || entry.extracted !== (await this.sha256Of({ ...hit, entry }, path))) return undefined;
    }
    return hit.storage.pathOf(name);
  }

  /** Under the entry's lock: extract `hit` unless someone did meanwhile; undefined when the archive changed. */
  private async extractLocked(path: string, hit: CacheHit, options: ExtractOptions, signal: AbortSignal): Promise<string | undefined> {
    const storage = hit.storage;
    return this.withEntryLock(hit.fn, async () => {
      if (this.usesMetadata) await this.freshMetadata(storage, true);
      const found = await this.lookup(path, signal);
      const current = found && (await this.pinned(found, path, options.sha256 === undefined ? undefined : checkSha256(options.sha256, path)));
      if (!current || current.storage !== storage || current.fn !== hit.fn) return undefined;
      const done = await this.extractedFolder(current, path);
      if (done) return done;
      const sha256 = this.usesMetadata ? await this.sha256Of(current, path) : undefined;
      await storage.cleanTemporaries(this.lockOptions.staleMs ?? DEFAULT_STALE_MS, true);
      const temp = await storage.createTempDir("extract");
      const name = extractedName(current.fn);
      try {
        await options.extract({ fs: storage.fs, archive: storage.pathOf(current.fn), into: storage.pathOf(temp), signal });
        await storage.removeTree(name);
        await storage.rename(temp, name);
      } catch (err) {
        await storage.removeTree(temp).catch(() => undefined);
        throw err;
      }
      if (this.usesMetadata) {
        const md = this.metadataOf(storage);
        const entry = md.get(path);
        if (entry?.fn === current.fn) {
          md.set(path, { ...entry, extracted: sha256 });
          await md.save();
        }
      }
      return storage.pathOf(name);
    }, signal);
  }

  /** fsspec's open_local: local paths of cached copies, for one path or several. */
  openLocal(path: string, options?: FetchOptions): Promise<string>;
  openLocal(paths: readonly string[], options?: FetchOptions): Promise<string[]>;
  async openLocal(paths: string | readonly string[], options: FetchOptions = {}): Promise<string | string[]> {
    checkPaths("openLocal", paths, "paths");
    checkOptions("openLocal", options, FETCH_OPTIONS);
    if (typeof paths === "string") return this.localPath(paths, options);
    return (await mapBounded(paths, (p) => this.localPath(p, options), { concurrency: this.concurrency, signal: options.signal })) as string[];
  }

  // ---------------------------------------------------------------- writing

  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    this.refuseOffline(path);
    if (this.options.compression) {
      throw FsError.enotsup(`${this.protocol} with compression only reads; write to the target directly`, path);
    }
    const storage = this.writable;
    const temp = await storage.createTemp("write");
    const sink = new WriteThroughSink(this.target, path, storage, temp, options.mode, (w) => this.publishWritten(path, w));
    try {
      if (options.mode === "a" && (await this.target.isFile(path, { signal: options.signal }))) {
        const hit = await this.ensureCached(path, { signal: options.signal });
        const reader = await hit.storage.openReader(hit.fn);
        if (!reader) throw FsError.enoent(path, "the cached copy vanished while appending");
        try {
          for (let off = 0; off < reader.size; off += DEFAULT_BLOCK_SIZE) {
            await sink.seed(await reader.read(off, Math.min(reader.size, off + DEFAULT_BLOCK_SIZE)));
          }
        } finally {
          await reader.close();
        }
      }
    } catch (err) {
      await temp.abort();
      throw err;
    }
    return sink;
  }

  /** After an upload: the written temporary becomes the cached copy. */
  private async publishWritten(path: string, written: WrittenFile): Promise<void> {
    const storage = this.writable;
    for (const s of this.storages) if (s.readOnly) this.shadowed.add(`${s.index}\0${path}`);
    try {
      const fn = this.mapper.map(path);
      await this.withEntryLock(fn, async () => {
        await storage.rename(written.tempName, fn);
        await storage.removeTree(extractedName(fn)).catch(() => undefined);
        if (!this.usesMetadata) return;
        const uid = this.checkFiles ? await this.target.ukey(path) : null;
        const mtime = mtimeOf(await storage.stat(fn));
        const md = await this.freshMetadata(storage);
        md.claim(path, { original: path, fn, blocks: true, time: Date.now() / 1000, uid, size: written.size, sha256: written.sha256, mtime });
        await md.save();
      });
    } catch {
      // The upload succeeded; the cache only must not keep the bytes it replaced.
      await storage.remove(written.tempName).catch(() => undefined);
      await this.forget(path);
    }
  }

  /**
   * Drop the cached copy after a write, under the entry's lock: a download that began before
   * the write (and so may hold the old bytes) finishes first, instead of publishing them after.
   */
  protected override async forget(path: string): Promise<void> {
    let fn: string;
    try {
      fn = this.mapper.map(path);
    } catch {
      return super.forget(path);
    }
    await this.withEntryLock(fn, () => super.forget(path)).catch(() => super.forget(path));
  }

  /** Run `fn` holding the lock downloads of the entry `name` take. */
  private async withEntryLock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.writable.withLock(lockNameFor(name), { ...this.lockOptions, signal }, fn);
  }
}
