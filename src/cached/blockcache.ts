/**
 * blockcache (alias cached): the blocks of a remote file that were read land in a sparse file
 * in the cache, and the metadata records which blocks are present. Missing consecutive blocks
 * are fetched in one ranged request (several runs through the target's catRanges); a file
 * whose blocks are all present is read locally without touching the target.
 *
 * A block is recorded only after its bytes are written, so a killed process costs at most a
 * refetch. Each entry's data file has a fresh name, so a process still holding an older entry
 * (expired, or revalidated away by another process) never writes into the current one.
 *
 * An entry records the version of the remote file it began with (ETag, Last-Modified, size, or
 * the target's key: see core/versions.ts), and every block of it, in any process, is fetched
 * pinned to that version. A file that changed is ECHANGED, never blocks of two versions: the
 * entry is dropped, and a `catFile` reads once more from a new entry (whole, from the new
 * version), while an opened file fails (it promised one version). A failed write to the cache
 * storage (ENOSPC, EIO) drops the entry and its data file too, and fails the read.
 */
import { randomBytes } from "node:crypto";
import { FsError, isFsError } from "../core/errors.js";
import { settleBounded } from "../core/limiter.js";
import { SIGNAL_OPTIONS, type SignalOptions } from "../core/types.js";
import { checkOffset, isPositiveInteger, optionSpec } from "../core/validate.js";
import { catFilePinned, fileVersion, type FileVersion } from "../core/versions.js";
import { BufferedFile, readableFile, type FileOpenOptions } from "../files/buffered-file.js";
import { DEFAULT_MAX_BLOCK } from "../files/coalesce.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import type { SinkOptions, UploadSink } from "../files/upload-sink.js";
import { CacheLayer, type CacheLayerOptions, type ClearExpiredOptions } from "./layer.js";
import type { CacheEntry } from "./metadata.js";
import type { StorageDir } from "./storage.js";
import { TargetWriterSink } from "./write-through.js";

export interface BlockCacheOptions extends CacheLayerOptions {
  /** Bytes per cached block (default 5 MiB). */
  blockSize?: number;
}

interface BlockState {
  storage: StorageDir;
  /** `version` is absent only for complete entries written before versions were recorded. */
  entry: CacheEntry & { size: number; blocksize: number; version?: FileVersion };
  /** Blocks present, or true when the file is complete. */
  present: Set<number> | true;
  /** Fetches in flight by block, shared by concurrent readers. */
  inflight: Map<number, Promise<void>>;
  /**
   * Set when the entry was removed (popped, cleared, expired, dropped by a write, or its data
   * file vanished): nothing more is written or recorded for it, and readers still holding it
   * (opened files) read from the target.
   */
  retired?: boolean;
}

/**
 * blockcache (also `cached`): caches the blocks of remote files that reads touch, in sparse local files
 * with metadata, so a large file is never downloaded whole (docs/cache-layers.md).
 */
export class CachingFileSystem extends CacheLayer {
  static override protocols: readonly string[] = ["blockcache", "cached"];
  static override ownOptions = optionSpec<BlockCacheOptions, CacheLayerOptions>({ blockSize: isPositiveInteger });
  /** Bytes per cached block (`blockSize` option; default 5 MiB). */
  readonly blockSize: number;
  private readonly states = new Map<string, Promise<BlockState>>();

  constructor(options: BlockCacheOptions) {
    super(options);
    if (options.compression) throw FsError.einval("blockcache cannot decompress; use filecache or simplecache with compression");
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isInteger(this.blockSize) || this.blockSize <= 0) throw FsError.einval(`blockSize must be a positive integer, got ${options.blockSize}`);
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    const state = await this.stateFor(path, options.signal);
    return this.readRange(path, state, start, end ?? state.entry.size, options.signal);
  }

  /**
   * Offsets from the end are resolved against the entry's size, not with a call to the target.
   * A file found changed (ECHANGED) is read once more, whole, from a new entry.
   */
  override catFile(path: string, start?: number | null, end?: number | null, options: SignalOptions = {}): Promise<Uint8Array> {
    return Promise.resolve().then(async () => {
      checkOffset("catFile", "start", start);
      checkOffset("catFile", "end", end);
      this.checkCall("catFile", options, SIGNAL_OPTIONS);
      const p = this.normalizePath(path);
      for (let attempt = 0; ; attempt++) {
        try {
          if ((start ?? 0) >= 0 && (end ?? 0) >= 0) return await super.catFile(p, start, end, options);
          const { size } = (await this.stateFor(p, options.signal)).entry;
          const fromEnd = (v: number) => (v < 0 ? Math.max(0, size + v) : v);
          return await super.catFile(p, fromEnd(start ?? 0), end === null || end === undefined ? end : fromEnd(end), options);
        } catch (err) {
          if (attempt > 0 || !isFsError(err, "ECHANGED")) throw err;
          // What the target's listings cache knows of the file is as old as the entry.
          this.target.invalidateCache(p);
        }
      }
    });
  }

  protected override async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    const state = await this.stateFor(path, options.signal);
    // Reads map onto cached blocks already; read-ahead would fetch blocks nobody asked for.
    const readOptions = { ...options, blockSize: options.blockSize ?? state.entry.blocksize, cacheType: options.cacheType ?? "none" };
    return readableFile(path, state.entry.size, (start, end) => this.readRange(path, state, start, end, options.signal), readOptions, {
      details: { ...state.entry, name: path },
      ownedFetches: true,
    });
  }

  /** Writes go to the target's own writer; the cached blocks of the path go once it is published. */
  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    this.refuseOffline(path);
    await this.forget(path);
    return TargetWriterSink.open(this.target, path, options, () => this.forget(path));
  }

  protected override async removeFromWritable(path: string): Promise<boolean> {
    await this.retireState(path);
    return super.removeFromWritable(path);
  }

  override async clearCache(): Promise<void> {
    for (const path of [...this.states.keys()]) await this.retireState(path);
    await super.clearCache();
  }

  override async clearExpiredCache(options?: ClearExpiredOptions): Promise<string[]> {
    const removed = await super.clearExpiredCache(options);
    for (const p of removed) await this.retireState(p);
    return removed;
  }

  /** Drop the state of `path`, and retire it for the opened files still holding it. */
  private async retireState(path: string): Promise<void> {
    const known = this.states.get(path);
    this.states.delete(path);
    const state = await known?.catch(() => undefined);
    if (state) state.retired = true;
  }

  /** The data file of `state` vanished (removed by another process or instance). */
  private retire(path: string, state: BlockState): void {
    state.retired = true;
    const known = this.states.get(path);
    void known?.then((s) => {
      if (s === state && this.states.get(path) === known) this.states.delete(path);
    }, () => undefined);
  }

  /** Bytes straight from the target (of the entry's version), for a retired state whose cached blocks are gone. */
  private readDirect(path: string, state: BlockState, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.offline) return Promise.reject(this.offlineError(path));
    const version = state.entry.version;
    // An entry from before versions were recorded is complete: nothing to pin it to.
    if (!version) return this.target.catFile(path, start, end, { signal });
    return catFilePinned(this.target, path, start, end, version, { signal });
  }

  /**
   * Remove the entry `state` holds and retire it: its data file first (that frees the space a
   * failed write ran out of), then its metadata entry, unless a newer entry replaced it.
   */
  private async dropEntry(path: string, state: BlockState): Promise<void> {
    this.retire(path, state);
    if (!state.storage.readOnly) await this.removeEntry(state.storage, path, state.entry.fn);
  }

  private async removeEntry(storage: StorageDir, path: string, fn: string): Promise<void> {
    await storage.remove(fn).catch(() => undefined);
    try {
      const md = await this.freshMetadata(storage, true);
      if (md.get(path)?.fn !== fn) return;
      md.delete(path);
      await md.save();
    } catch {
      // An entry left behind names a data file that is gone: lookups skip and replace it.
    }
  }

  // ---------------------------------------------------------------- entries

  /** The entry to read `path` through: kept while valid, found in a layer, or made anew. */
  private async stateFor(path: string, signal?: AbortSignal): Promise<BlockState> {
    const known = this.states.get(path);
    if (known) {
      const state = await known.catch(() => undefined);
      if (state && (await this.stillValid(path, state, signal))) return state;
      if (this.states.get(path) === known) this.states.delete(path);
    }
    const made = this.findOrCreate(path, signal);
    this.states.set(path, made);
    made.catch(() => {
      if (this.states.get(path) === made) this.states.delete(path);
    });
    return made;
  }

  private async valid(path: string, entry: CacheEntry, signal?: AbortSignal): Promise<boolean> {
    if (this.offline) return true;
    if (this.isExpired(entry)) return false;
    return !this.checkFiles || entry.uid === (await this.target.ukey(path, { signal }));
  }

  /** Still usable, with blocks other processes fetched meanwhile added in. */
  private async stillValid(path: string, state: BlockState, signal?: AbortSignal): Promise<boolean> {
    if (state.retired || !(await this.valid(path, state.entry, signal))) return false;
    if (state.present === true || state.storage.readOnly) return true;
    const onDisk = (await this.freshMetadata(state.storage)).get(path);
    // Removed by another process or instance (its blocks went with it).
    if (!onDisk) return false;
    if (onDisk.fn !== state.entry.fn && onDisk.time > state.entry.time) return false;
    if (onDisk?.fn === state.entry.fn) this.addBlocks(state, onDisk.blocks === true ? true : onDisk.blocks);
    return true;
  }

  private async findOrCreate(path: string, signal?: AbortSignal): Promise<BlockState> {
    for (const storage of this.storages) {
      if (this.shadowed.has(`${storage.index}\0${path}`)) continue;
      const e = (await this.freshMetadata(storage)).get(path);
      if (!e || typeof e.size !== "number") continue;
      // Blocks of an unknown version cannot be completed without risking a mix of two.
      if (e.blocks !== true && !e.version) continue;
      // A read-only layer's partial file is of no use online: its missing blocks cannot be added.
      if (storage.readOnly && e.blocks !== true && !this.offline) continue;
      if (!(await this.valid(path, e, signal))) continue;
      if (e.blocks === true || e.blocks.length > 0) {
        const st = await storage.stat(e.fn);
        if (!st) continue;
        // A complete file of another size, or a partial one past the end, is not what was recorded.
        if (e.blocks === true ? st.size !== e.size : (st.size ?? 0) > e.size) {
          if (!storage.readOnly) await this.removeEntry(storage, path, e.fn);
          continue;
        }
      }
      const entry = { ...e, size: e.size, blocksize: e.blocksize ?? this.blockSize };
      return { storage, entry, present: e.blocks === true ? true : new Set(e.blocks), inflight: new Map() };
    }
    if (this.offline) throw this.offlineError(path);
    return this.createEntry(path, signal);
  }

  private async createEntry(path: string, signal?: AbortSignal): Promise<BlockState> {
    const version = await fileVersion(this.target, path, { signal });
    if (version.size === null) throw FsError.enotsup("blockcache needs files of known size", path);
    const uid = this.checkFiles ? await this.target.ukey(path, { signal }) : null;
    const storage = this.writable;
    await storage.ensureDir();
    const md = await this.freshMetadata(storage, true);
    const old = md.delete(path);
    if (old) await storage.remove(old.fn);
    // A fresh name per entry: see the module comment.
    const fn = `${this.mapper.map(path).slice(0, 200)}~${randomBytes(4).toString("hex")}`;
    const entry = { original: path, fn, blocks: [] as number[], time: Date.now() / 1000, uid, size: version.size, blocksize: this.blockSize, version };
    md.set(path, entry);
    if (old) await md.save();
    return { storage, entry, present: new Set(), inflight: new Map() };
  }

  // ---------------------------------------------------------------- blocks

  private async readRange(path: string, state: BlockState, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    const { size, blocksize, fn } = state.entry;
    const e = Math.min(end, size);
    if (start >= e) return new Uint8Array(0);
    if (state.retired) return this.readDirect(path, state, start, e, signal);
    if (state.present !== true) {
      const waits: Array<Promise<void>> = [];
      const missing: number[] = [];
      for (let b = Math.floor(start / blocksize); b <= Math.floor((e - 1) / blocksize); b++) {
        if (state.present.has(b)) continue;
        const pending = state.inflight.get(b);
        if (pending) waits.push(pending);
        else missing.push(b);
      }
      if (missing.length > 0) {
        if (this.offline) throw FsError.enoent(path, `offline mode: bytes ${start}-${e} are not all in the block cache`);
        const fetching = this.fetchBlocks(path, state, missing, signal);
        for (const b of missing) state.inflight.set(b, fetching);
        void fetching.finally(() => missing.forEach((b) => state.inflight.get(b) === fetching && state.inflight.delete(b))).catch(() => undefined);
        waits.push(fetching);
      }
      try {
        await Promise.all(waits);
      } catch (err) {
        // Removed under the fetch (its data file vanished): the target still has the bytes.
        if (!state.retired || !isFsError(err, "ENOENT")) throw err;
      }
      if (state.retired) return this.readDirect(path, state, start, e, signal);
    }
    let data: Uint8Array;
    try {
      data = await state.storage.fs.catFile(state.storage.pathOf(fn), start, e, { signal });
    } catch (err) {
      if (!isFsError(err, "ENOENT")) throw err;
      this.retire(path, state);
      return this.readDirect(path, state, start, e, signal);
    }
    if (data.byteLength !== e - start) {
      // Damaged (cut short outside the cache): never served; the entry goes, the target has the bytes.
      const why = `the block cache file is shorter than its recorded blocks (${data.byteLength} of ${e - start} bytes)`;
      await this.dropEntry(path, state);
      if (this.offline) throw new FsError("EIO", `${why}: damaged, and offline mode forbids fetching it again`, { path });
      return this.readDirect(path, state, start, e, signal);
    }
    return data;
  }

  /**
   * Fetch `blocks` (sorted), one request per run of consecutive blocks (cut at the largest
   * request catRanges makes), each pinned to the entry's version, and record them.
   */
  private async fetchBlocks(path: string, state: BlockState, blocks: number[], signal?: AbortSignal): Promise<void> {
    const { size, blocksize, fn, version } = state.entry;
    // Only an entry without blocks yet may create its data file: if one with blocks finds it
    // missing, the entry was removed, and a new file would hold zeros where blocks are recorded.
    const mayCreate = state.present !== true && state.present.size === 0;
    const perRequest = Math.max(1, Math.floor(DEFAULT_MAX_BLOCK / blocksize));
    const runs: Array<[number, number]> = [];
    for (const b of blocks) {
      const last = runs[runs.length - 1];
      if (last && last[1] === b - 1 && b - last[0] < perRequest) last[1] = b;
      else runs.push([b, b]);
    }
    const storageFailures = new WeakSet<object>();
    const fetchRun = async ([first, last]: [number, number], _i: number, runSignal: AbortSignal) => {
      const start = first * blocksize;
      const end = Math.min(size, (last + 1) * blocksize);
      // A partial entry always has a version (findOrCreate skips those without).
      const data = await catFilePinned(this.target, path, start, end, version!, { signal: runSignal });
      if (data.byteLength !== end - start) {
        throw new FsError("EIO", `the target returned ${data.byteLength} bytes for ${start}-${end}; did the file change?`, { path });
      }
      try {
        await state.storage.writeAt(fn, start, data, mayCreate);
      } catch (err) {
        if (isFsError(err, "ENOENT") && !mayCreate) this.retire(path, state);
        else storageFailures.add(err as object);
        throw err;
      }
      this.addBlocks(state, Array.from({ length: last - first + 1 }, (_, k) => first + k));
    };
    // Every run settles before anything is decided: none may write after its entry is dropped.
    const settled = await settleBounded(runs, fetchRun, { concurrency: this.target.concurrency, signal, onError: "return" });
    const failed = settled.find((r) => !r.ok);
    const error = failed && !failed.ok ? failed.error : undefined;
    if (error !== undefined && (isFsError(error, "ECHANGED") || storageFailures.has(error as object))) {
      await this.dropEntry(path, state);
      throw error;
    }
    if (state.retired) {
      // Removed while we fetched: record nothing (that would bring the entry back), and drop
      // the data file this fetch may have made anew.
      await state.storage.remove(fn).catch(() => undefined);
      if (error !== undefined) throw error;
      return;
    }
    const md = this.metadataOf(state.storage);
    md.set(path, { ...state.entry, blocks: state.present === true ? true : [...state.present].sort((a, b) => a - b) });
    try {
      await md.save();
    } catch (err) {
      // Blocks that cannot be recorded are space lost: the entry goes with them.
      await this.dropEntry(path, state);
      throw err;
    }
    if (error !== undefined) throw error;
  }

  private addBlocks(state: BlockState, blocks: true | number[]): void {
    if (state.present === true) return;
    if (blocks === true) state.present = true;
    else for (const b of blocks) state.present.add(b);
    if (state.present !== true && state.present.size >= Math.ceil(state.entry.size / state.entry.blocksize)) state.present = true;
    state.entry.blocks = state.present === true ? true : state.entry.blocks;
  }
}
