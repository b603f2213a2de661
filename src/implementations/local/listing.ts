/**
 * How LocalFileSystem reads a directory and stats its entries. Names and kinds come from the
 * directory itself (readdir's file types), so only what needs sizes and times pays for a stat.
 *
 * On node:fs the calls are synchronous: a stat on the main thread costs about a third of what
 * one through the thread pool costs, in CPU and in time (measured in docs/benchmarks.md). They
 * are paced: all listings together hold the event loop for at most SLICE_MS between yields, so
 * a 20,000-entry directory never blocks it for long (its one readdir takes about 1 µs an
 * entry). Any other module (a memfs volume, or `{ promises: fs.promises }` to keep every call
 * off the main thread, say on a network mount that may hang) is used through its promises,
 * with a bounded number of stats in flight.
 */
import * as nodeFs from "node:fs";
import { throwIfAborted } from "../../core/errors.js";
import type { NodeFsLike } from "../local.js";

/** What an entry is, from the directory alone; a symlink needs a stat to say what it points at. */
export type EntryKind = "file" | "directory" | "symlink" | "other";

/**
 * A directory's entries: their names in no particular order, and the kind of each that is
 * not a regular file (most entries are files: keeping them out of the map spares a lookup
 * structure the size of the directory).
 */
export interface DirEntries {
  names: string[];
  notFiles: Map<string, Exclude<EntryKind, "file">>;
}

/** Builds an entry's info from its own stats and, for a symlink, its target's (undefined: it dangles). */
export type MakeInfo<T> = (path: string, own: nodeFs.Stats, target: nodeFs.Stats | undefined) => T;

export interface ListingIo {
  /** The names in `dir`, in no particular order; rejects as readdir does (ENOTDIR for a file). */
  names(dir: string, signal?: AbortSignal): Promise<string[]>;
  /** The entries of `dir`; rejects as readdir does. */
  entries(dir: string, signal?: AbortSignal): Promise<DirEntries>;
  /**
   * `make` of each of `paths` from its stats, in order: undefined for one removed since it was
   * listed; any other failure rejects, with the error's `path` set to the entry's. Each entry's
   * stats are handed over at once, so they die young instead of piling up for the collector.
   */
  infos<T>(paths: readonly string[], make: MakeInfo<T>, signal?: AbortSignal): Promise<Array<T | undefined>>;
}

/** Longest the synchronous calls may hold the event loop, all listings together, before yielding. */
const SLICE_MS = 4;
/** Entries between looks at the clock. */
const CLOCK_EVERY = 32;
/** Stats in flight through an injected module's promises. */
const ASYNC_STATS = 64;

function kindOf(d: nodeFs.Dirent): EntryKind {
  return d.isFile() ? "file" : d.isDirectory() ? "directory" : d.isSymbolicLink() ? "symlink" : "other";
}

function addEntry(into: DirEntries, d: nodeFs.Dirent): void {
  const name = String(d.name);
  into.names.push(name);
  const kind = kindOf(d);
  if (kind !== "file") into.notFiles.set(name, kind);
}

export function joinEntry(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function withPath(err: unknown, path: string): Error {
  return Object.assign(err as Error, { path });
}

/**
 * The slice the synchronous calls are in: it starts with the first call after the event loop
 * last turned (an immediate armed then says when it turns), so concurrent listings (find's
 * directories) share one budget rather than each taking its own.
 */
let sliceStart = 0;
let inSlice = false;

function startSlice(): void {
  if (inSlice) return;
  inSlice = true;
  sliceStart = performance.now();
  setImmediate(() => {
    inSlice = false;
  });
}

/** Yield to the event loop when this slice has used its budget. */
async function pace(signal: AbortSignal | undefined, path: string): Promise<void> {
  startSlice();
  if (performance.now() - sliceStart <= SLICE_MS) return;
  await new Promise((resolve) => setImmediate(resolve));
  throwIfAborted(signal, path);
  startSlice();
}

/** A link's target, or undefined when it cannot be reached (dangling, a loop, no permission). */
function targetStats(path: string): nodeFs.Stats | undefined {
  try {
    return nodeFs.statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** node:fs itself: synchronous calls, paced. */
class PacedSyncIo implements ListingIo {
  async names(dir: string, signal?: AbortSignal): Promise<string[]> {
    await pace(signal, dir);
    return nodeFs.readdirSync(dir);
  }

  async entries(dir: string, signal?: AbortSignal): Promise<DirEntries> {
    await pace(signal, dir);
    const out: DirEntries = { names: [], notFiles: new Map() };
    // One readdir: cheaper than opendir's batches for all but huge directories (see
    // docs/benchmarks.md), and it holds the loop for about a microsecond an entry.
    for (const d of nodeFs.readdirSync(dir, { withFileTypes: true })) addEntry(out, d);
    return out;
  }

  async infos<T>(paths: readonly string[], make: MakeInfo<T>, signal?: AbortSignal): Promise<Array<T | undefined>> {
    const out = new Array<T | undefined>(paths.length);
    for (let i = 0; i < paths.length; i++) {
      if (i % CLOCK_EVERY === 0) await pace(signal, paths[i]!);
      const path = paths[i]!;
      let own: nodeFs.Stats | undefined;
      try {
        own = nodeFs.lstatSync(path, { throwIfNoEntry: false });
      } catch (err) {
        throw withPath(err, path);
      }
      if (own) out[i] = make(path, own, own.isSymbolicLink() ? targetStats(path) : undefined);
    }
    return out;
  }
}

/** Any other node:fs-shaped module, through its promises. */
class PromiseIo implements ListingIo {
  constructor(private readonly fs: NodeFsLike["promises"]) {}

  async names(dir: string): Promise<string[]> {
    return (await this.fs.readdir(dir)).map(String);
  }

  async entries(dir: string): Promise<DirEntries> {
    const out: DirEntries = { names: [], notFiles: new Map() };
    for (const d of await this.fs.readdir(dir, { withFileTypes: true })) addEntry(out, d);
    return out;
  }

  async infos<T>(paths: readonly string[], make: MakeInfo<T>, signal?: AbortSignal): Promise<Array<T | undefined>> {
    const out = new Array<T | undefined>(paths.length);
    let next = 0;
    const worker = async () => {
      while (next < paths.length) {
        const i = next++;
        throwIfAborted(signal, paths[i]!);
        out[i] = await this.infoOf(paths[i]!, make);
      }
    };
    await Promise.all(Array.from({ length: Math.min(ASYNC_STATS, paths.length) }, worker));
    return out;
  }

  private async infoOf<T>(path: string, make: MakeInfo<T>): Promise<T | undefined> {
    let own: nodeFs.Stats;
    try {
      own = (await this.fs.lstat(path)) as nodeFs.Stats;
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return undefined;
      throw withPath(err, path);
    }
    const target = own.isSymbolicLink() ? ((await this.fs.stat(path).catch(() => undefined)) as nodeFs.Stats | undefined) : undefined;
    return make(path, own, target);
  }
}

const syncIo = new PacedSyncIo();

/** The listing I/O for a LocalFileSystem over `fs` (node:fs itself when undefined). */
export function listingIo(fs: NodeFsLike | undefined): ListingIo {
  const isNodeFs = fs === undefined || fs === nodeFs || fs === (nodeFs as { default?: unknown }).default;
  return isNodeFs ? syncIo : new PromiseIo(fs.promises);
}
