/**
 * Read caches for opened files, selected by name with `cacheType`. Each sits between the
 * file's reads and a ranged fetch of the backend, and counts what it does so tests and
 * benchmarks can see hits, misses, fetches and bytes requested.
 */
import { LruMap } from "../core/lru.js";
import { FsError } from "../core/errors.js";
import { concatBytes } from "./upload-sink.js";

/** Fetch bytes [start, end) of the file; must return exactly end - start bytes. */
export type RangeFetcher = (start: number, end: number) => Promise<Uint8Array>;

/** What a read cache did, counted since the file was opened (`file.cacheStats`). */
export interface CacheStats {
  /** Reads (or blocks, for block caches) served without a fetch. */
  hits: number;
  /** Reads (or blocks) that needed a fetch. */
  misses: number;
  /** Requests made to the backend. */
  fetches: number;
  /** Bytes asked of the backend. */
  bytesRequested: number;
}

/** What a read cache is built from (`registerReadCache` classes get it). */
export interface ReadCacheInit {
  /** Bytes per block (the file's `blockSize`). */
  blockSize: number;
  /** The file's size in bytes. */
  size: number;
  /** The backend's ranged fetch. */
  fetcher: RangeFetcher;
  /** Cache-specific options (`maxBlocks`, `data` for parts...). */
  options?: Record<string, unknown>;
  /** For messages. */
  path?: string;
  /**
   * The fetcher returns memory nobody else holds (`_catFile` results are the caller's), so a
   * cache may hand it to the reader without copying. False (the default) for fetchers that
   * return views of stored bytes, like the memory backend's.
   */
  ownedFetches?: boolean;
}

/**
 * The base of read caches (`cacheType`): implement `read(start, end)`, fetching with `this.fetch` and
 * counting in `this.stats`; register the class with `registerReadCache`.
 */
export abstract class ReadCache {
  /** What the cache did so far. */
  readonly stats: CacheStats = { hits: 0, misses: 0, fetches: 0, bytesRequested: 0 };
  /** Bytes per block. */
  protected readonly blockSize: number;
  /** The file's size in bytes. */
  readonly size: number;
  /** The file's path, for messages. */
  protected readonly path: string | undefined;
  /**
   * Whether fetched bytes may be handed to the reader without a copy (see
   * `ReadCacheInit.ownedFetches`).
   */
  protected readonly ownedFetches: boolean;
  private readonly fetcher: RangeFetcher;

  constructor(init: ReadCacheInit) {
    if (!(init.blockSize > 0)) throw FsError.einval(`blockSize must be positive, got ${init.blockSize}`);
    this.blockSize = Math.floor(init.blockSize);
    this.size = init.size;
    this.fetcher = init.fetcher;
    this.path = init.path;
    this.ownedFetches = init.ownedFetches ?? false;
  }

  /**
   * Bytes [start, end) with 0 <= start <= end <= size (the file clips before calling). The
   * answer may be the cache's own memory: look, don't change (see `take`).
   */
  abstract read(start: number, end: number): Promise<Uint8Array>;

  /**
   * Bytes [start, end) that the caller keeps and may change: never memory the cache will
   * serve again or the backend still holds. By default a copy of `read`.
   */
  async take(start: number, end: number): Promise<Uint8Array> {
    // The copying constructor: a plain Uint8Array (a Buffer's `slice` would be a view).
    return new Uint8Array(await this.read(start, end));
  }

  /** Drop held buffers (called on close). */
  clear(): void {}

  /** Fetch through the backend, refusing short or long answers: a cache never pads. */
  protected async fetch(start: number, end: number): Promise<Uint8Array> {
    end = Math.min(end, this.size);
    if (end <= start) return new Uint8Array(0);
    this.stats.fetches++;
    this.stats.bytesRequested += end - start;
    const data = await this.fetcher(start, end);
    if (data.byteLength !== end - start) {
      throw new FsError(
        "EIO",
        `fetch of bytes ${start}-${end} returned ${data.byteLength} bytes instead of ${end - start}`,
        { path: this.path },
      );
    }
    return data;
  }
}

/** No caching: every read is a fetch. */
export class NoCache extends ReadCache {
  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    this.stats.misses++;
    return this.fetch(start, end);
  }

  /** Nothing is kept, so owned fetches go to the caller as they are (copies otherwise). */
  override async take(start: number, end: number): Promise<Uint8Array> {
    return this.ownedFetches ? this.read(start, end) : super.take(start, end);
  }
}

/** The request plus one block ahead; a following sequential read is served from memory. */
export class ReadAheadCache extends ReadCache {
  private bufStart = 0;
  private buf: Uint8Array = new Uint8Array(0);

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const bufEnd = this.bufStart + this.buf.byteLength;
    if (start >= this.bufStart && end <= bufEnd) {
      this.stats.hits++;
      return this.buf.subarray(start - this.bufStart, end - this.bufStart);
    }
    this.stats.misses++;
    if (start >= this.bufStart && start < bufEnd) {
      // Keep the part we have, fetch only the rest plus one block.
      const head = this.buf.subarray(start - this.bufStart);
      const more = await this.fetch(bufEnd, Math.min(this.size, end + this.blockSize));
      this.bufStart = bufEnd;
      this.buf = more;
      return concatBytes([head, more.subarray(0, end - bufEnd)]);
    }
    this.buf = await this.fetch(start, Math.min(this.size, end + this.blockSize));
    this.bufStart = start;
    return this.buf.subarray(0, end - start);
  }

  /**
   * Without a copy when fetches are owned: the bytes handed over, and everything before them,
   * leave the buffer, so nothing the caller does to them can reach a later read (reading them
   * again is a miss). Sequential reads, the case this cache is for, never look back.
   */
  override async take(start: number, end: number): Promise<Uint8Array> {
    if (!this.ownedFetches) return super.take(start, end);
    const out = await this.read(start, end);
    const bufEnd = this.bufStart + this.buf.byteLength;
    const cut = Math.min(Math.max(end, this.bufStart), bufEnd);
    this.buf = this.buf.subarray(cut - this.bufStart);
    this.bufStart = cut;
    return out;
  }

  override clear(): void {
    this.buf = new Uint8Array(0);
  }
}

/**
 * One contiguous window, extended forward when reads continue past its end (only the missing
 * tail is fetched). Bytes more than a block behind the read are dropped as the window moves,
 * so sequential reads through a large file neither grow it nor re-copy it without bound.
 */
export class BytesCache extends ReadCache {
  private winStart = 0;
  private win: Uint8Array = new Uint8Array(0);

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    // Captured before any await: a concurrent read may replace the window meanwhile.
    const win = this.win;
    const winStart = this.winStart;
    const winEnd = winStart + win.byteLength;
    if (start >= winStart && end <= winEnd) {
      this.stats.hits++;
      return win.subarray(start - winStart, end - winStart);
    }
    this.stats.misses++;
    const fetchEnd = Math.min(this.size, end + this.blockSize);
    if (win.byteLength > 0 && start >= winStart && start <= winEnd) {
      const more = await this.fetch(winEnd, fetchEnd);
      const keepFrom = Math.max(winStart, start - this.blockSize);
      this.win = concatBytes([win.subarray(keepFrom - winStart), more]);
      this.winStart = keepFrom;
    } else {
      this.win = await this.fetch(start, fetchEnd);
      this.winStart = start;
    }
    return this.win.subarray(start - this.winStart, end - this.winStart);
  }

  override clear(): void {
    this.win = new Uint8Array(0);
  }
}

/**
 * Fixed blocks in an LRU (`maxBlocks`, default 32); consecutive missing blocks are fetched in
 * one request, and a block already being fetched is waited for, not fetched twice. Counters
 * are per block: a block found (or in flight) is a hit, a block fetched is a miss.
 */
export class BlockCache extends ReadCache {
  protected readonly blocks: LruMap<number, Uint8Array>;
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();
  /** Blocks whose in-flight fetch is a prefetch (its failure must not fail a read). */
  private readonly prefetching = new Set<number>();
  /** Bumped by clear(): fetches that land afterwards are not kept. */
  private generation = 0;

  constructor(init: ReadCacheInit) {
    super(init);
    const maxBlocks = Number(init.options?.maxBlocks ?? 32);
    if (!(maxBlocks >= 1)) throw FsError.einval(`maxBlocks must be at least 1, got ${maxBlocks}`);
    this.blocks = new LruMap<number, Uint8Array>({ max: Math.floor(maxBlocks) });
  }

  get cachedBlocks(): number[] {
    return [...this.blocks.keys()].sort((a, b) => a - b);
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const first = Math.floor(start / this.blockSize);
    const last = Math.floor((end - 1) / this.blockSize);
    const parts = await this.blocksFor(first, last);
    const joined = parts.length === 1 ? parts[0]! : concatBytes(parts);
    const offset = start - first * this.blockSize;
    return joined.subarray(offset, offset + (end - start));
  }

  /** Blocks first..last, fetching runs of missing ones in single requests. */
  protected async blocksFor(first: number, last: number): Promise<Uint8Array[]> {
    const pending: Array<Promise<Uint8Array>> = [];
    let runStart = -1;
    const flushRun = (runEnd: number) => {
      if (runStart < 0) return;
      this.fetchRun(runStart, runEnd).forEach((p, k) => (pending[runStart + k - first] = p));
      runStart = -1;
    };
    for (let b = first; b <= last; b++) {
      const have = this.blocks.get(b);
      const flying = have ? undefined : this.inFlight.get(b);
      if (have || flying) {
        flushRun(b - 1);
        this.stats.hits++;
        if (have) pending[b - first] = Promise.resolve(have);
        else pending[b - first] = this.prefetching.has(b) ? flying!.catch(() => this.refetch(b)) : flying!;
      } else {
        this.stats.misses++;
        if (runStart < 0) runStart = b;
      }
    }
    flushRun(last);
    return Promise.all(pending);
  }

  /** One request for blocks from..to; a promise per block. */
  private fetchRun(from: number, to: number): Array<Promise<Uint8Array>> {
    const generation = this.generation;
    const fetched = this.fetch(from * this.blockSize, (to + 1) * this.blockSize);
    const out: Array<Promise<Uint8Array>> = [];
    for (let b = from; b <= to; b++) {
      const p = fetched.then((data) => {
        const block = data.subarray((b - from) * this.blockSize, (b - from + 1) * this.blockSize);
        if (generation === this.generation) this.blocks.set(b, block);
        return block;
      });
      this.inFlight.set(b, p);
      const settle = () => {
        if (this.inFlight.get(b) !== p) return;
        this.inFlight.delete(b);
        this.prefetching.delete(b);
      };
      p.then(settle, settle);
      out.push(p);
    }
    return out;
  }

  /** A read found its block in a prefetch that failed: it is a miss after all, fetched now. */
  private refetch(b: number): Promise<Uint8Array> {
    this.stats.hits--;
    this.stats.misses++;
    return this.fetchRun(b, b)[0]!;
  }

  /** Start fetching block `b` without waiting (the background cache). Counts a fetch, not a miss. */
  protected prefetch(b: number): void {
    if (b < 0 || b * this.blockSize >= this.size || this.blocks.has(b) || this.inFlight.has(b)) return;
    const [p] = this.fetchRun(b, b);
    this.prefetching.add(b);
    // A failed prefetch is retried by the read that needs the block.
    p!.catch(() => undefined);
  }

  override clear(): void {
    this.generation++;
    this.blocks.clear();
  }
}

/** Block cache that also fetches the block after the last one read while the caller works. */
export class BackgroundBlockCache extends BlockCache {
  override async read(start: number, end: number): Promise<Uint8Array> {
    const out = await super.read(start, end);
    if (end > start) this.prefetch(Math.floor((end - 1) / this.blockSize) + 1);
    return out;
  }
}

/** Keeps only block 0 (file headers); everything else is fetched as asked. */
export class FirstChunkCache extends ReadCache {
  private first: Uint8Array | undefined;

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const firstEnd = Math.min(this.blockSize, this.size);
    if (start >= firstEnd) {
      this.stats.misses++;
      return this.fetch(start, end);
    }
    // A read is a hit only when block 0 alone serves it.
    if (this.first === undefined || end > firstEnd) this.stats.misses++;
    else this.stats.hits++;
    if (this.first === undefined) this.first = await this.fetch(0, firstEnd);
    if (end <= firstEnd) return this.first.subarray(start, end);
    const rest = await this.fetch(firstEnd, end);
    return concatBytes([this.first.subarray(start), rest]);
  }

  override clear(): void {
    this.first = undefined;
  }
}

/** The whole file, fetched on the first read. */
export class AllBytesCache extends ReadCache {
  private data: Uint8Array | undefined;
  constructor(init: ReadCacheInit) {
    super(init);
    const given = init.options?.data;
    if (given instanceof Uint8Array) {
      if (given.byteLength !== init.size) {
        throw FsError.einval(`options.data has ${given.byteLength} bytes but the file has ${init.size}`, init.path);
      }
      this.data = given;
    }
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    if (this.data === undefined) {
      this.stats.misses++;
      this.data = await this.fetch(0, this.size);
    } else {
      this.stats.hits++;
    }
    return this.data.subarray(start, end);
  }

  override clear(): void {
    this.data = undefined;
  }
}

/**
 * Known parts of a file given up front (`options.data`: `{offset: bytes}` or
 * `[[offset, bytes], ...]`). Never fetches: a read outside the parts is an error.
 */
export class KnownPartsCache extends ReadCache {
  private readonly parts: Array<[number, Uint8Array]>;

  constructor(init: ReadCacheInit) {
    super(init);
    const data = init.options?.data;
    // A copy of the caller's list: sorting and merging must not touch it.
    const entries: Array<[number, Uint8Array]> = Array.isArray(data)
      ? (data as Array<[number, Uint8Array]>).map(([off, bytes]) => [Number(off), bytes])
      : Object.entries((data ?? {}) as Record<string, Uint8Array>).map(([k, v]) => [Number(k), v]);
    // Sort and merge touching or overlapping parts so a read across a seam is served.
    entries.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, Uint8Array]> = [];
    for (const [off, bytes] of entries) {
      const prev = merged[merged.length - 1];
      const prevEnd = prev ? prev[0] + prev[1].byteLength : -1;
      if (prev && off <= prevEnd) {
        if (off + bytes.byteLength > prevEnd) prev[1] = concatBytes([prev[1], bytes.subarray(prevEnd - off)]);
      } else {
        merged.push([off, bytes]);
      }
    }
    this.parts = merged;
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    for (const [off, bytes] of this.parts) {
      if (start >= off && end <= off + bytes.byteLength) {
        this.stats.hits++;
        return bytes.subarray(start - off, end - off);
      }
    }
    this.stats.misses++;
    throw new FsError("EIO", `bytes ${start}-${end} are not among the known parts of the file`, {
      path: this.path,
    });
  }
}

/** A read cache class, as `registerReadCache` takes it. */
export type ReadCacheClass = new (init: ReadCacheInit) => ReadCache;

const CACHES = new Map<string, ReadCacheClass>([
  ["none", NoCache],
  ["readahead", ReadAheadCache],
  ["bytes", BytesCache],
  ["blockcache", BlockCache],
  ["first", FirstChunkCache],
  ["parts", KnownPartsCache],
  ["all", AllBytesCache],
  ["background", BackgroundBlockCache],
]);

/**
 * Add a read cache under `name` (then `open(path, "rb", {cacheType: name})`). A registered name is
 * EINVAL unless `clobber`.
 */
export function registerReadCache(name: string, cls: ReadCacheClass, options: { clobber?: boolean } = {}): void {
  if (CACHES.has(name) && !options.clobber) {
    throw FsError.einval(`read cache '${name}' is already registered (pass clobber: true to replace it)`);
  }
  CACHES.set(name, cls);
}

/**
 * The registered read cache names (none, readahead, bytes, blockcache, first, parts, all, background
 * and any added).
 */
export function readCacheNames(): string[] {
  return [...CACHES.keys()];
}

/** A new read cache of the registered class `name`; an unknown name is EINVAL. */
export function makeReadCache(name: string, init: ReadCacheInit): ReadCache {
  const cls = CACHES.get(name);
  if (!cls) {
    throw FsError.einval(`unknown cacheType '${name}'; known: ${readCacheNames().join(", ")}`);
  }
  return new cls(init);
}

/** The default `blockSize` of opened files: 5 MiB (5,242,880 bytes). */
export const DEFAULT_BLOCK_SIZE = 5 * 2 ** 20;
