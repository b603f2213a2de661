/**
 * The metadata of one cache directory: a JSON file `cache` keyed by remote path, as fsspec
 * writes it: `{path: {original, fn, blocks: true | [n...], time, uid, size?, blocksize?}}`.
 *
 * Saves happen under a lock, read what is on disk, merge this process's changes into it and
 * replace the file atomically, so processes sharing a directory never lose each other's
 * entries. An unreadable or corrupted file is rebuilt (entries whose files still exist are
 * written back; other complete files are adopted again on their next lookup), never a crash.
 */
import { sameVersion, type FileVersion } from "../core/versions.js";
import type { FileLock, LockOptions } from "./locks.js";
import { isInternalName, type StorageDir } from "./storage.js";
import { METADATA_NAME, RESERVED_PREFIX } from "./mappers.js";

/** One cached file as a metadata file records it (fsspec's layout: see docs/cache-layers.md). */
export interface CacheEntry {
  /** The target path this entry caches. */
  original: string;
  /** The file name in the storage directory. */
  fn: string;
  /** `true` when the whole file is present, else the indices of the blocks present. */
  blocks: true | number[];
  /** Seconds since the epoch when the entry was fetched (expiry counts from here). */
  time: number;
  /** The target's `ukey` when fetched (null when unknown). */
  uid: string | null;
  /** Bytes of the cached file (after decompression). */
  size?: number | null;
  /** Block size of a block-cached file. */
  blocksize?: number;
  /** sha256 of the cached bytes, recorded by whole-file downloads. */
  sha256?: string;
  /** The cached file's mtime (ms) when `sha256` was taken: while it and the size hold, `sha256` is trusted unread. */
  mtime?: number;
  /** The sha256 of the archive its extracted folder (`<fn>.extracted`) was made from. */
  extracted?: string;
  /** blockcache: the version of the remote file every block of the entry is fetched from. */
  version?: FileVersion;
}

export const METADATA_LOCK = `${RESERVED_PREFIX}metalock`;
/** Writes one hold of the metadata lock makes at most (changes keep coming: the lock is let go for others). */
const MAX_WRITES_PER_LOCK = 4;

const decoder = new TextDecoder();

function validEntry(path: string, e: unknown): e is CacheEntry {
  if (!e || typeof e !== "object") return false;
  const x = e as Record<string, unknown>;
  return (
    typeof x.fn === "string" && isDataFileName(x.fn) &&
    (x.blocks === true || (Array.isArray(x.blocks) && x.blocks.every((b) => Number.isInteger(b)))) &&
    typeof x.time === "number" && (x.original === undefined || x.original === path)
  );
}

/**
 * Whether `fn` can name a cached file of the directory: not the metadata, a lock or a
 * temporary (RESERVED_PREFIX), nor anything outside the directory (separators, `.`, `..`).
 */
export function isDataFileName(fn: string): boolean {
  return (
    fn !== "" && fn !== "." && fn !== ".." && !isInternalName(fn) && !/[/\\\u0000-\u001f\u007f]/.test(fn)
  );
}

/** A recorded version, or undefined when the field is missing or not of the right shape. */
function parseVersion(v: unknown): FileVersion | undefined {
  if (!v || typeof v !== "object") return undefined;
  const x = v as Record<string, unknown>;
  if (x.size !== null && !(Number.isInteger(x.size) && (x.size as number) >= 0)) return undefined;
  const out: FileVersion = { size: x.size as number | null };
  for (const k of ["etag", "lastModified", "key"] as const) {
    if (x[k] === undefined) continue;
    if (typeof x[k] !== "string") return undefined;
    out[k] = x[k];
  }
  return out;
}

/** Parse a metadata file; undefined when it is not valid JSON of the right shape. */
export function parseMetadata(raw: Uint8Array): Map<string, CacheEntry> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(raw));
  } catch {
    return undefined;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return undefined;
  const out = new Map<string, CacheEntry>();
  for (const [path, e] of Object.entries(data as Record<string, unknown>)) {
    // One bad entry (a newer writer's, a hand edit) costs that entry, not the file.
    if (!validEntry(path, e)) continue;
    const entry: CacheEntry = { ...e, original: path, uid: e.uid ?? null };
    if (!Number.isFinite(entry.mtime)) delete entry.mtime;
    if (typeof entry.sha256 !== "string") delete entry.sha256;
    if (typeof entry.extracted !== "string") delete entry.extracted;
    const version = parseVersion(e.version);
    if (version) entry.version = version;
    else delete entry.version;
    out.set(path, entry);
  }
  return out;
}

/** Combine an entry on disk with ours: blocks add up for the same file version, else the newer wins. */
function mergeEntry(disk: CacheEntry | undefined, ours: CacheEntry): CacheEntry {
  if (!disk) return ours;
  if (disk.fn === ours.fn && disk.uid === ours.uid && disk.size === ours.size && sameVersion(disk.version, ours.version)) {
    const blocks = disk.blocks === true || ours.blocks === true ? true : [...new Set([...disk.blocks, ...ours.blocks])].sort((a, b) => a - b);
    return { ...disk, ...ours, blocks, time: Math.max(disk.time, ours.time) };
  }
  return ours.time >= disk.time ? ours : disk;
}

export class CacheMetadata {
  entries = new Map<string, CacheEntry>();
  /** When the file was last read (ms); -Infinity before the first load. */
  private loadedAt = -Infinity;
  /** Paths changed since the last save, with a change counter (changes during a save survive it). */
  private readonly dirty = new Map<string, number>();
  private changes = 0;
  /** Removed paths with the time of the entry removed (a newer entry elsewhere survives). */
  private readonly removed = new Map<string, number>();
  private queued: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Set when the last load found a corrupted file (tests and listings report it). */
  rebuilt = false;

  constructor(
    readonly storage: StorageDir,
    private readonly lockOptions: LockOptions = {},
  ) {}

  /** Read the file again if it was last read more than `maxAgeMs` ago; 0: always (also within the millisecond of the last read). */
  async refresh(maxAgeMs: number): Promise<void> {
    if (maxAgeMs <= 0 || Date.now() - this.loadedAt > maxAgeMs) await this.load();
  }

  async load(): Promise<void> {
    let raw: Uint8Array | undefined;
    try {
      raw = await this.storage.readWhole(METADATA_NAME);
    } catch {
      raw = new Uint8Array(0); // unreadable: rebuilt like a corrupted one
    }
    const disk = raw === undefined ? new Map<string, CacheEntry>() : parseMetadata(raw);
    this.loadedAt = Date.now();
    if (disk === undefined) {
      await this.rebuild();
      return;
    }
    // Changes not saved yet stay on top of what is on disk.
    this.entries = this.overlay(disk);
  }

  /** `disk` with the changes not saved yet on top. */
  private overlay(disk: Map<string, CacheEntry>): Map<string, CacheEntry> {
    for (const path of this.dirty.keys()) disk.set(path, mergeEntry(disk.get(path), this.entries.get(path)!));
    for (const path of this.removed.keys()) disk.delete(path);
    return disk;
  }

  /** Keep the entries we know whose files exist, and write a valid file back. */
  private async rebuild(): Promise<void> {
    this.rebuilt = true;
    const kept = new Map<string, CacheEntry>();
    for (const [path, e] of this.entries) {
      if (await this.storage.stat(e.fn)) kept.set(path, e);
    }
    this.entries = kept;
    if (this.storage.readOnly) return;
    for (const path of kept.keys()) this.dirty.set(path, ++this.changes);
    await this.save({ replaceCorrupt: true });
  }

  get(path: string): CacheEntry | undefined {
    return this.entries.get(path);
  }

  set(path: string, entry: CacheEntry): void {
    this.entries.set(path, entry);
    this.dirty.set(path, ++this.changes);
    this.removed.delete(path);
  }

  /**
   * Record `entry` as the owner of its file name: other paths mapped to the same name
   * (basename mappers) lost their bytes to it, so their entries go.
   */
  claim(path: string, entry: CacheEntry): void {
    for (const [other, e] of [...this.entries]) if (other !== path && e.fn === entry.fn) this.delete(other);
    this.set(path, entry);
  }

  /** Forget every entry and every unsaved change (the directory was emptied). */
  clear(): void {
    this.entries = new Map();
    this.dirty.clear();
    this.removed.clear();
  }

  delete(path: string): CacheEntry | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    this.entries.delete(path);
    this.dirty.delete(path);
    this.removed.set(path, e.time);
    return e;
  }

  /**
   * Merge our changes into the file on disk, under the directory's metadata lock. Calls made
   * while a save runs share the next one.
   */
  save(opts: { replaceCorrupt?: boolean } = {}): Promise<void> {
    if (this.storage.readOnly) return Promise.resolve();
    if (this.queued) return this.queued;
    const run = this.chain.then(() => {
      this.queued = undefined;
      return this.saveNow(opts.replaceCorrupt ?? false);
    });
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Run `fn` holding this directory's metadata lock (clearing a cache does). */
  withLock<T>(fn: (lock: FileLock) => Promise<T>): Promise<T> {
    return this.storage.withLock(METADATA_LOCK, this.lockOptions, fn);
  }

  private async saveNow(replaceCorrupt: boolean): Promise<void> {
    if (this.dirty.size === 0 && this.removed.size === 0 && !replaceCorrupt) return;
    await this.withLock(async () => {
      // A read that fails (not a missing file: readWhole says undefined for that) fails the save:
      // writing over a file we could not read would drop other processes' entries. A file that
      // reads but does not parse is corrupt and is replaced, as documented.
      const raw = await this.storage.readWhole(METADATA_NAME);
      const disk = (raw && parseMetadata(raw)) || new Map<string, CacheEntry>();
      // Changes made while a write runs are written too before the lock goes (what is on disk is
      // known while it is held): concurrent downloads of one process share one lock and one read.
      for (let round = 0; round < MAX_WRITES_PER_LOCK && (round === 0 || this.dirty.size > 0 || this.removed.size > 0); round++) {
        const dirty = [...this.dirty];
        const removed = [...this.removed];
        for (const [path] of dirty) disk.set(path, mergeEntry(disk.get(path), this.entries.get(path)!));
        for (const [path, time] of removed) {
          if ((disk.get(path)?.time ?? -Infinity) <= time) disk.delete(path);
        }
        await this.storage.writeWhole(METADATA_NAME, JSON.stringify(Object.fromEntries(disk)));
        // Only what was saved is clean; a change made while we wrote waits for the next round.
        for (const [path, n] of dirty) if (this.dirty.get(path) === n) this.dirty.delete(path);
        for (const [path, time] of removed) if (this.removed.get(path) === time) this.removed.delete(path);
        this.entries = this.overlay(new Map(disk));
        this.loadedAt = Date.now();
      }
    });
  }
}
