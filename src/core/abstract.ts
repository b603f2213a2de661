/**
 * AbstractFileSystem: the whole user-facing API built on a handful of primitives that a
 * backend provides (`_ls`, `_catFile`, `_pipeFile`, `_rmFile`, and optionally `_info`,
 * `_mkdir`, `_rmdir`, `_cpFile`, `_openWriter`). Backends override derived methods only to
 * be faster, never to change their meaning.
 */
import { createHash } from "node:crypto";
import { FsError, isFsError, throwIfAborted } from "./errors.js";
import { hasMagic, planGlob } from "./glob.js";
import { DEFAULT_CONCURRENCY, mapBounded, settleBounded } from "./limiter.js";
import { ListingsCache } from "./listings-cache.js";
import { basename, isInside, normalizePosix, parentOf, trimTrailingSlashes } from "./paths.js";
import type {
  BytesLike,
  CatOptions,
  CatRangesOptions,
  DuOptions,
  ExpandOptions,
  FileInfo,
  FileSystemOptions,
  FindOptions,
  GlobOptions,
  LsOptions,
  PipeMode,
  PipeOptions,
  RmOptions,
  SignalOptions,
  TransferOptions,
  WalkOptions,
} from "./types.js";
import { BufferedFile, readableFile, parseMode, type FileOpenOptions, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { DEFAULT_MAX_BLOCK, DEFAULT_MAX_GAP, sliceMerged } from "../files/coalesce.js";
import { broadcastRanges, needsSize, planRangeJobs, resolveRange, type RangeJob } from "./ranges.js";
import { CollectingSink, type SinkOptions, type UploadSink } from "../files/upload-sink.js";
import { TextFile } from "../files/text-file.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import { planTransfer, runTransfers, transferOne } from "./transfer.js";

export type FileSystemClass<T extends AbstractFileSystem = AbstractFileSystem> = (new (
  options?: any,
) => T) & typeof AbstractFileSystem;

/** Serialised form of a filesystem: enough to rebuild it with `AbstractFileSystem.fromJSON`. */
export interface FileSystemJSON {
  protocol: string;
  options: Record<string, unknown>;
}

export type CatResult = Record<string, Uint8Array | Error>;
export type WalkEntry = [root: string, dirs: string[], files: string[]];
export type WalkEntryDetail = [root: string, dirs: Record<string, FileInfo>, files: Record<string, FileInfo>];

const encoder = new TextEncoder();

export function toBytes(data: BytesLike, path?: string): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if ((data as unknown) instanceof ArrayBuffer) return new Uint8Array(data as unknown as ArrayBuffer);
  throw FsError.einval("data must be a Uint8Array or a string", path);
}

function checkMaxDepth(maxDepth: number | undefined): void {
  if (maxDepth !== undefined && (!Number.isInteger(maxDepth) || maxDepth < 1)) {
    throw FsError.einval(`maxDepth must be a positive integer, got ${maxDepth}`);
  }
}

function checkOffset(name: string, value: number | null | undefined, path: string): void {
  if (value !== undefined && value !== null && !Number.isInteger(value)) {
    throw FsError.einval(`${name} must be an integer, got ${value}`, path);
  }
}

function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v instanceof Date) return v.toISOString();
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/** Late-bound so this module never imports the registry (which imports the backends). */
let jsonReviver: ((json: FileSystemJSON) => Promise<AbstractFileSystem>) | undefined;
let defaultLocalFs: (() => AbstractFileSystem) | undefined;

export function setFileSystemReviver(fn: (json: FileSystemJSON) => Promise<AbstractFileSystem>): void {
  jsonReviver = fn;
}

export function setDefaultLocalFileSystem(fn: () => AbstractFileSystem): void {
  defaultLocalFs = fn;
}

class Transaction {
  readonly files: BufferedFile[] = [];
}

export abstract class AbstractFileSystem {
  /** Protocol names this class answers to; the first is its canonical name. */
  static protocols: readonly string[] = ["abstract"];
  /** The path of the root as this filesystem names it ("/" or ""). */
  static rootMarker = "/";

  /** Whether `filesystem()` may hand out one shared instance for these options. */
  static cacheable(_options: FileSystemOptions): boolean {
    return true;
  }

  /** Resolve options that need async work (e.g. a target protocol) before construction. */
  static async prepareOptions(options: FileSystemOptions): Promise<FileSystemOptions> {
    return options;
  }

  /**
   * How a URL chain builds this class over an inner layer (`outer::inner`): by default the
   * inner filesystem becomes `fs` and the path passes through.
   */
  static chainOptions(
    inner: { fs: AbstractFileSystem; path: string },
    outerPath: string,
    options: FileSystemOptions,
  ): { options: FileSystemOptions; path: string } {
    return { options: { ...options, fs: inner.fs }, path: outerPath || inner.path };
  }

  /** Remove this class's protocol prefix and trailing slashes; empty means the root. */
  static stripProtocol(path: string): string {
    let p = path;
    const lower = p.toLowerCase();
    for (const proto of this.protocols) {
      if (lower.startsWith(`${proto}://`)) {
        p = p.slice(proto.length + 3);
        break;
      }
      if (lower.startsWith(`${proto}::`)) {
        p = p.slice(proto.length + 2);
        break;
      }
    }
    p = trimTrailingSlashes(p);
    if (p === "/" && this.rootMarker === "") return "";
    return p === "" ? this.rootMarker : p;
  }

  static async fromJSON(json: FileSystemJSON | string): Promise<AbstractFileSystem> {
    const parsed: FileSystemJSON = typeof json === "string" ? JSON.parse(json) : json;
    if (!jsonReviver) throw FsError.enotsup("the registry is not loaded; import fsspec-ts");
    return jsonReviver(parsed);
  }

  readonly options: Readonly<FileSystemOptions>;
  /** Directory listings kept between calls (remote backends), or undefined. */
  readonly dircache: ListingsCache | undefined;
  /** How many operations batch calls run at once. */
  readonly concurrency: number;
  private activeTransaction: Transaction | undefined;

  constructor(options: FileSystemOptions = {}) {
    this.options = Object.freeze({ ...options });
    this.concurrency = Math.max(1, Number(options.concurrency ?? DEFAULT_CONCURRENCY));
    const useListings = options.useListingsCache ?? this.listsRemotely;
    this.dircache = useListings
      ? new ListingsCache({ maxPaths: options.maxPaths, expiry: options.listingsExpiryTime })
      : undefined;
  }

  /** Remote backends return true so listings are cached by default. */
  protected get listsRemotely(): boolean {
    return false;
  }

  get protocol(): string {
    return this.klass.protocols[0] ?? "abstract";
  }

  get rootMarker(): string {
    return this.klass.rootMarker;
  }

  protected get klass(): typeof AbstractFileSystem {
    return this.constructor as typeof AbstractFileSystem;
  }

  // ---------------------------------------------------------------- paths

  /** Validate a user path and strip its protocol: the one entry point for paths. */
  normalizePath(path: string): string {
    if (typeof path !== "string") throw FsError.einval(`path must be a string, got ${typeof path}`);
    if (path === "") throw FsError.einval("empty path; use the root ('/' or 'protocol://') to mean the top");
    if (path.includes("\0")) throw FsError.einval("path contains a NUL byte", path);
    return this.klass.stripProtocol(path);
  }

  /** `name` with this filesystem's protocol in front (unchanged if it has one). */
  unstripProtocol(name: string): string {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(name)) return name;
    return `${this.protocol}://${name}`;
  }

  protected parent(path: string): string {
    return parentOf(path, this.rootMarker);
  }

  // ---------------------------------------------------------------- primitives

  /**
   * List a directory (or return `[info]` for a file). Throws ENOENT when missing. With
   * `options.detail === false` the caller needs only each entry's name and type, so a backend
   * may leave sizes and times out (size null) where that saves work.
   */
  protected abstract _ls(path: string, options: LsOptions): Promise<FileInfo[]>;

  /** Bytes [start, end) of a file; `end` undefined = to the end. Clips past the end. */
  protected abstract _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array>;

  /** Write a whole file. `mode: "create"` must fail with EEXIST if the file exists. */
  protected async _pipeFile(path: string, _data: Uint8Array, _mode: PipeMode, _options: SignalOptions): Promise<void> {
    throw FsError.enotsup(`${this.protocol} is read-only`, path);
  }

  protected async _rmFile(path: string, _options: SignalOptions): Promise<void> {
    throw FsError.enotsup(`${this.protocol} is read-only`, path);
  }

  /** Entry for one path; by default looked up in its parent's listing. */
  protected async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    if (path === this.rootMarker) return { name: path, size: 0, type: "directory" };
    const parent = this.parent(path);
    if (parent !== path) {
      try {
        const listing = await this.listDir(parent, options);
        const hit = listing.find((e) => e.name === path || trimTrailingSlashes(e.name) === path);
        if (hit) return hit;
      } catch (err) {
        if (!isFsError(err, "ENOENT") && !isFsError(err, "ENOTDIR")) throw err;
      }
    }
    // Not in the parent's listing: it may still be a directory with children (object stores).
    const own = await this.listDir(path, options).catch((err) => {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return undefined;
      throw err;
    });
    if (own && own.length === 1 && own[0]!.name === path && own[0]!.type !== "directory") return own[0]!;
    if (own && own.length > 0) return { name: path, size: 0, type: "directory" };
    throw FsError.enoent(path);
  }

  /** Directories: by default nothing to do (object stores have implied directories). */
  protected async _mkdir(_path: string, _createParents: boolean, _options: SignalOptions): Promise<void> {}

  protected async _rmdir(path: string, options: SignalOptions): Promise<void> {
    const listing = await this.listDir(path, options);
    if (listing.some((e) => e.name !== path)) throw new FsError("ENOTEMPTY", undefined, { path });
  }

  /** Copy one file within this filesystem; by default read then write. */
  protected async _cpFile(src: string, dst: string, options: SignalOptions): Promise<void> {
    const data = await this._catFile(src, 0, undefined, options);
    await this._pipeFile(dst, data, "overwrite", options);
  }

  /** Where a file opened for writing sends its bytes; by default one whole-file write on commit. */
  protected async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    return new CollectingSink(
      (data, mode) => this._pipeFile(path, data, mode, { signal: options.signal }),
      options,
      async () => {
        try {
          return await this._catFile(path, 0, undefined, {});
        } catch (err) {
          if (isFsError(err, "ENOENT")) return undefined;
          throw err;
        }
      },
    );
  }

  /** Update the modification time of an existing file (non-truncating touch). */
  protected async _touchExisting(_path: string): Promise<void> {}

  // ---------------------------------------------------------------- listings

  /** A listing through the listings cache (only directory listings are kept). */
  protected async listDir(path: string, options: LsOptions = {}): Promise<FileInfo[]> {
    throwIfAborted(options.signal, path);
    if (this.dircache && !options.refresh) {
      const cached = this.dircache.get(path);
      if (cached) return cached;
    }
    // The cache keeps whole entries only, so that a later detailed listing can use them.
    const listing = await this._ls(path, this.dircache && options.detail === false ? { ...options, detail: true } : options);
    const isFileItself = listing.length === 1 && listing[0]!.name === path && listing[0]!.type !== "directory";
    if (this.dircache && !isFileItself) this.dircache.set(path, listing);
    return listing;
  }

  ls(path: string, options: LsOptions & { detail: false }): Promise<string[]>;
  ls(path: string, options?: LsOptions & { detail?: true }): Promise<FileInfo[]>;
  ls(path: string, options?: LsOptions): Promise<FileInfo[] | string[]>;
  async ls(path: string, options: LsOptions = {}): Promise<FileInfo[] | string[]> {
    const p = this.normalizePath(path);
    const listing = await this.listDir(p, options);
    return options.detail === false ? listing.map((e) => e.name) : listing;
  }

  async info(path: string, options: SignalOptions = {}): Promise<FileInfo> {
    return this._info(this.normalizePath(path), options);
  }

  /** The entry's type, or undefined when nothing is there (ENOENT/ENOTDIR); other errors propagate. */
  private async typeOrMissing(path: string, options: SignalOptions): Promise<FileInfo["type"] | undefined> {
    try {
      return (await this._info(this.normalizePath(path), options)).type;
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return undefined;
      throw err;
    }
  }

  async exists(path: string, options: SignalOptions = {}): Promise<boolean> {
    return (await this.typeOrMissing(path, options)) !== undefined;
  }

  async isDir(path: string, options: SignalOptions = {}): Promise<boolean> {
    return (await this.typeOrMissing(path, options)) === "directory";
  }

  async isFile(path: string, options: SignalOptions = {}): Promise<boolean> {
    return (await this.typeOrMissing(path, options)) === "file";
  }

  async size(path: string, options: SignalOptions = {}): Promise<number | null> {
    return (await this.info(path, options)).size;
  }

  async sizes(paths: readonly string[], options: SignalOptions = {}): Promise<Array<number | null>> {
    return (await mapBounded(paths, (p) => this.size(p, options), {
      concurrency: this.concurrency,
      signal: options.signal,
    })) as Array<number | null>;
  }

  /** A hex digest of the entry's metadata: changes when the file does. */
  async checksum(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    return createHash("sha256").update(stableStringify(info)).digest("hex").slice(0, 32);
  }

  /** A key that changes whenever the content changes (backends with ETags override). */
  async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    return createHash("sha256").update(stableStringify(info)).digest("hex");
  }

  async modified(path: string, options: SignalOptions = {}): Promise<Date> {
    const info = await this.info(path, options);
    const m = info.mtime ?? info.modified ?? info.LastModified;
    if (m instanceof Date) return m;
    if (typeof m === "string" || typeof m === "number") return new Date(m);
    throw FsError.enotsup(`${this.protocol} does not record modification times`, info.name);
  }

  async created(path: string, options: SignalOptions = {}): Promise<Date> {
    const info = await this.info(path, options);
    const c = info.created;
    if (c instanceof Date) return c;
    if (typeof c === "string" || typeof c === "number") return new Date(c);
    throw FsError.enotsup(`${this.protocol} does not record creation times`, info.name);
  }

  /** A URL that grants temporary access, where the backend can make one. */
  async sign(path: string, _options: { expiration?: number } = {}): Promise<string> {
    throw FsError.enotsup(`${this.protocol} cannot sign URLs`, path);
  }

  invalidateCache(path?: string): void {
    if (!this.dircache) return;
    this.dircache.invalidate(path === undefined ? undefined : this.normalizePath(path), this.rootMarker);
  }

  /** Forget the listing of `path` (already normalised) after a write. */
  protected invalidateNormalized(path: string): void {
    this.dircache?.invalidate(path, this.rootMarker);
  }

  // ---------------------------------------------------------------- walking

  walk(path: string, options: WalkOptions & { detail: true }): AsyncGenerator<WalkEntryDetail>;
  walk(path: string, options?: WalkOptions & { detail?: false }): AsyncGenerator<WalkEntry>;
  async *walk(path: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry | WalkEntryDetail> {
    checkMaxDepth(options.maxDepth);
    const p = this.normalizePath(path);
    yield* this.walkFrom(p, options.maxDepth, options.detail ? options : { ...options, detail: false });
  }

  private async *walkFrom(path: string, depth: number | undefined, options: WalkOptions): AsyncGenerator<WalkEntry | WalkEntryDetail> {
    let listing: FileInfo[];
    try {
      listing = await this.listDir(path, options);
    } catch (err) {
      const onError = options.onError ?? "omit";
      if (onError === "raise") throw err;
      if (typeof onError === "function") onError(err);
      return;
    }
    if (listing.length === 1 && listing[0]!.name === path && listing[0]!.type !== "directory") return;
    const dirs: Record<string, FileInfo> = {};
    const files: Record<string, FileInfo> = {};
    for (const info of listing) {
      const name = trimTrailingSlashes(info.name);
      if (name === path) continue;
      // What follows `path/`, so that path + "/" + name names the entry again (S3's `d//f` is `/f` in `d`).
      const base = name.startsWith(`${path}/`) ? name.slice(path.length + 1) : basename(name);
      if (info.type === "directory") dirs[base] = info;
      else files[base] = info;
    }
    const topdown = options.topdown ?? true;
    const dirNames = Object.keys(dirs).sort();
    const entry: WalkEntry | WalkEntryDetail = options.detail
      ? [path, dirs, files]
      : [path, dirNames, Object.keys(files).sort()];
    if (topdown) yield entry;
    if (depth === undefined || depth > 1) {
      // Callers may prune `dirs` in place while walking top-down.
      const next = options.detail ? Object.keys(entry[1]).sort() : (entry[1] as string[]);
      for (const d of [...next]) {
        yield* this.walkFrom(trimTrailingSlashes(dirs[d]?.name ?? `${path}/${d}`), depth === undefined ? undefined : depth - 1, options);
      }
    }
    if (!topdown) yield entry;
  }

  find(path: string, options: FindOptions & { detail: true }): Promise<Record<string, FileInfo>>;
  find(path: string, options?: FindOptions & { detail?: false }): Promise<string[]>;
  find(path: string, options?: FindOptions): Promise<string[] | Record<string, FileInfo>>;
  async find(path: string, options: FindOptions = {}): Promise<string[] | Record<string, FileInfo>> {
    checkMaxDepth(options.maxDepth);
    const found = await this.findInfos(this.normalizePath(path), options.detail ? options : { ...options, detail: false });
    const names = [...found.keys()].sort();
    if (!options.detail) return names;
    return Object.fromEntries(names.map((n) => [n, found.get(n)!]));
  }

  /** Breadth-first, listing each level's directories concurrently. */
  protected async findInfos(path: string, options: FindOptions): Promise<Map<string, FileInfo>> {
    const out = new Map<string, FileInfo>();
    let listing: FileInfo[];
    try {
      listing = await this.listDir(path, options);
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return out;
      throw err;
    }
    if (listing.length === 1 && trimTrailingSlashes(listing[0]!.name) === path && listing[0]!.type !== "directory") {
      out.set(path, listing[0]!);
      return out;
    }
    if (options.withDirs && path !== this.rootMarker) {
      out.set(path, options.detail ? await this._info(path, options).catch(() => ({ name: path, size: 0, type: "directory" as const })) : { name: path, size: 0, type: "directory" });
    }
    let level: Array<[string, FileInfo[]]> = [[path, listing]];
    for (let depth = 1; level.length > 0; depth++) {
      const nextDirs: string[] = [];
      for (const [dir, entries] of level) {
        for (const info of entries) {
          const name = trimTrailingSlashes(info.name);
          if (name === dir) continue;
          if (info.type === "directory") {
            if (options.withDirs) out.set(name, info);
            if (options.maxDepth === undefined || depth < options.maxDepth) nextDirs.push(name);
          } else {
            out.set(name, info);
          }
        }
      }
      const listed = await settleBounded(nextDirs, (d) => this.listDir(d, options), {
        concurrency: this.concurrency,
        signal: options.signal,
        onError: "return",
      });
      level = [];
      listed.forEach((r, i) => {
        if (r.ok) level.push([nextDirs[i]!, r.value]);
      });
    }
    return out;
  }

  glob(pattern: string, options: GlobOptions & { detail: true }): Promise<Record<string, FileInfo>>;
  glob(pattern: string, options?: GlobOptions & { detail?: false }): Promise<string[]>;
  glob(pattern: string, options?: GlobOptions): Promise<string[] | Record<string, FileInfo>>;
  async glob(pattern: string, options: GlobOptions = {}): Promise<string[] | Record<string, FileInfo>> {
    const found = await this.globInfos(pattern, options.detail ? options : { ...options, detail: false });
    const names = [...found.keys()].sort();
    if (!options.detail) return names;
    return Object.fromEntries(names.map((n) => [n, found.get(n)!]));
  }

  /** Matches of `pattern`, each with its info when a listing gave one. */
  protected async globInfos(pattern: string, options: GlobOptions): Promise<Map<string, FileInfo>> {
    checkMaxDepth(options.maxDepth);
    const endsWithSep = pattern.endsWith("/");
    const path = this.normalizePath(pattern);
    const out = new Map<string, FileInfo>();
    if (!hasMagic(path)) {
      try {
        const info = await this._info(path, options);
        if (!endsWithSep || info.type === "directory") out.set(path, info);
      } catch (err) {
        if (!isFsError(err, "ENOENT") && !isFsError(err, "ENOTDIR")) throw err;
      }
      return out;
    }
    const { root, depth, matches } = planGlob(path, endsWithSep, options.maxDepth, this.rootMarker);
    // detail: false lets the listings skip sizes and times; undefined (expandInfos) keeps them.
    const all = await this.findInfos(root, { maxDepth: depth, withDirs: true, signal: options.signal, detail: options.detail === false ? false : undefined });
    for (const [name, info] of all) {
      if (matches(name, info.type === "directory")) out.set(name, info);
    }
    return out;
  }

  async du(path: string, options: DuOptions = {}): Promise<number | Record<string, number>> {
    const infos = await this.find(path, { maxDepth: options.maxDepth, withDirs: options.withDirs, detail: true, signal: options.signal });
    if (options.total ?? true) {
      return Object.values(infos).reduce((n, i) => n + (i.size ?? 0), 0);
    }
    return Object.fromEntries(Object.entries(infos).map(([k, i]) => [k, i.size ?? 0]));
  }

  /**
   * Turn paths and globs into a sorted list of existing paths (below each match too, when
   * recursive). Literal paths are kept as given unless recursive. Empty result: ENOENT.
   */
  async expandPath(pathOrPaths: string | readonly string[], options: ExpandOptions = {}): Promise<string[]> {
    const found = await this.expandInfos(pathOrPaths, options);
    return [...found.keys()].sort();
  }

  /** expandPath with the infos the listings produced (undefined for literal paths); copy planning uses it. */
  async expandInfos(
    pathOrPaths: string | readonly string[],
    options: ExpandOptions = {},
  ): Promise<Map<string, FileInfo | undefined>> {
    checkMaxDepth(options.maxDepth);
    const inputs = typeof pathOrPaths === "string" ? [pathOrPaths] : [...pathOrPaths];
    const out = new Map<string, FileInfo | undefined>();
    const add = (m: Map<string, FileInfo | undefined>) => {
      for (const [k, v] of m) if (v || !out.has(k)) out.set(k, v);
    };
    for (const raw of inputs) {
      const p = this.normalizePath(raw);
      if (hasMagic(p)) {
        const matches = await this.globInfos(raw, { maxDepth: options.maxDepth, signal: options.signal });
        add(matches);
        if (options.recursive) {
          if (options.maxDepth !== undefined && options.maxDepth <= 1) continue;
          const below = [...matches.keys()].filter((m) => matches.get(m)?.type === "directory");
          if (below.length > 0) {
            add(await this.expandInfos(below, { ...options, maxDepth: options.maxDepth === undefined ? undefined : options.maxDepth - 1 }));
          }
        }
        continue;
      }
      if (options.recursive) {
        add(await this.findInfos(p, { maxDepth: options.maxDepth, withDirs: true, detail: true, signal: options.signal }));
      }
      if (!out.has(p) && (!options.recursive || (await this.exists(p, options)))) out.set(p, undefined);
    }
    if (out.size === 0) throw FsError.enoent(typeof pathOrPaths === "string" ? pathOrPaths : pathOrPaths.join(", "));
    return out;
  }

  // ---------------------------------------------------------------- reading

  cat(path: readonly string[], options?: CatOptions): Promise<CatResult>;
  cat(path: string, options?: CatOptions): Promise<Uint8Array | CatResult>;
  async cat(path: string | readonly string[], options: CatOptions = {}): Promise<Uint8Array | CatResult> {
    const found = await this.expandInfos(path, { recursive: options.recursive, maxDepth: options.maxDepth, signal: options.signal });
    const paths = [...found.keys()].sort();
    if (typeof path === "string" && paths.length === 1 && paths[0] === this.normalizePath(path)) {
      return this.catFile(paths[0]!, undefined, undefined, options);
    }
    const files = paths.filter((p) => found.get(p)?.type !== "directory");
    const onError = options.onError ?? "raise";
    const results = await settleBounded(files, (p) => this.catFile(p, undefined, undefined, { signal: options.signal }), {
      concurrency: this.concurrency,
      signal: options.signal,
      onError: onError === "raise" ? "raise" : "return",
    });
    const out: CatResult = {};
    results.forEach((r, i) => {
      const p = files[i]!;
      if (r.ok) out[p] = r.value;
      else if (isFsError(r.error, "EISDIR")) return;
      else if (onError === "return") out[p] = r.error as Error;
    });
    return out;
  }

  /**
   * Bytes [start, end) of one file with slice semantics: negative offsets count from the end,
   * undefined/null means the end, past-the-end gives fewer bytes (or none), never an error.
   */
  catFile(path: string, start?: number | null, end?: number | null, options: SignalOptions = {}): Promise<Uint8Array> {
    // Not async on purpose: the common case hands back the backend's promise without extra ticks.
    try {
      const p = this.normalizePath(path);
      checkOffset("start", start, p);
      checkOffset("end", end, p);
      const s = start ?? 0;
      const e = end ?? undefined;
      if (s < 0 || (e !== undefined && e < 0)) return this.catFileFromEnd(p, s, e, options);
      return this._catFile(p, s, e !== undefined && e < s ? s : e, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** catFile with offsets counted from the end: needs the size first. */
  private async catFileFromEnd(p: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    const size = (await this._info(p, options)).size;
    if (size === null) throw FsError.enotsup("negative offsets need a known size", p);
    const range = resolveRange(start, end, size);
    return this._catFile(p, range.start, range.end, options);
  }

  /**
   * One result per range, in the caller's order. Ranges of the same file are sorted and merged
   * when close (`maxGap`), fetched with bounded concurrency, then sliced back apart.
   */
  async catRanges(
    paths: string | readonly string[],
    starts: number | null | ReadonlyArray<number | null>,
    ends: number | null | ReadonlyArray<number | null>,
    options: CatRangesOptions = {},
  ): Promise<Array<Uint8Array | Error>> {
    const list = broadcastRanges(paths, starts, ends);
    const ps = list.paths.map((p) => this.normalizePath(p));
    const { starts: ss, ends: es } = list;
    ss.forEach((s, i) => checkOffset("start", s, ps[i]!));
    es.forEach((e, i) => checkOffset("end", e, ps[i]!));
    const onError = options.onError ?? "return";
    const results: Array<Uint8Array | Error> = new Array(ps.length);

    // Group by file; offsets that need the size get it once per file.
    const groups = new Map<string, number[]>();
    ps.forEach((p, i) => groups.get(p)?.push(i) ?? groups.set(p, [i]));
    const jobs: RangeJob[] = [];
    const failures = new Map<string, unknown>();
    await mapBounded([...groups.keys()], async (p) => {
      const slots = groups.get(p)!;
      let size: number | null | undefined;
      if (slots.some((i) => needsSize(ss[i], es[i]))) {
        try {
          size = (await this._info(p, options)).size;
        } catch (err) {
          failures.set(p, err);
          return;
        }
      }
      if (size === null && slots.some((i) => (ss[i] ?? 0) < 0 || (es[i] ?? 0) < 0)) {
        failures.set(p, FsError.enotsup("negative offsets need a known size", p));
        return;
      }
      const ranges = slots.map((i) => resolveRange(ss[i], es[i], size));
      jobs.push(...planRangeJobs(p, slots, ranges, options.maxGap ?? DEFAULT_MAX_GAP, options.maxBlock ?? DEFAULT_MAX_BLOCK));
    }, { concurrency: this.concurrency, signal: options.signal });

    for (const [p, err] of failures) {
      if (onError === "raise") throw err;
      for (const i of groups.get(p)!) results[i] = err as Error;
    }
    const settled = await settleBounded(
      jobs,
      (job) => this._catFile(job.path, job.merged.start, job.merged.end, options),
      { concurrency: options.concurrency ?? this.concurrency, signal: options.signal, onError: onError === "raise" ? "raise" : "return" },
    );
    settled.forEach((r, j) => {
      const job = jobs[j]!;
      if (!r.ok) {
        for (const slot of job.slots) results[slot] = r.error as Error;
        return;
      }
      // Views into the fetched buffer where that is safe; see sliceMerged.
      const slices = sliceMerged(job.merged, job.ranges, r.value);
      job.slots.forEach((slot, k) => (results[slot] = slices[k]!));
    });
    if (onError === "omit") return results.filter((r) => r instanceof Uint8Array);
    return results;
  }

  async head(path: string, size = 1024, options: SignalOptions = {}): Promise<Uint8Array> {
    return this.catFile(path, 0, size, options);
  }

  async tail(path: string, size = 1024, options: SignalOptions = {}): Promise<Uint8Array> {
    if (size <= 0) return new Uint8Array(0);
    return this.catFile(path, -size, undefined, options);
  }

  async readText(path: string, encoding: BufferEncoding = "utf8", options: SignalOptions = {}): Promise<string> {
    const data = await this.catFile(path, undefined, undefined, options);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(encoding);
  }

  async writeText(path: string, text: string, encoding: BufferEncoding = "utf8", options: PipeOptions = {}): Promise<void> {
    if (typeof text !== "string") throw FsError.einval("text must be a string", path);
    await this.pipeFile(path, Buffer.from(text, encoding), options);
  }

  /**
   * `length` bytes from `offset`; with a delimiter the block starts just after the first
   * delimiter at or after `offset` (unless offset is 0) and ends just after the first
   * delimiter at or after `offset + length` (unless that is 0), or at the end of the file.
   * So blocks [0, n), [n, 2n), ... hand out every record exactly once, and a block in which no
   * record starts is empty (fsspec's rule).
   */
  async readBlock(path: string, offset: number, length: number | null, delimiter?: Uint8Array | string, options: SignalOptions = {}): Promise<Uint8Array> {
    const p = this.normalizePath(path);
    checkOffset("offset", offset, p);
    if (offset < 0) throw FsError.einval("offset must not be negative", p);
    if (length !== null && (!Number.isInteger(length) || length < 0)) throw FsError.einval("length must be a non-negative integer", p);
    if (delimiter === undefined || (typeof delimiter !== "string" && delimiter.byteLength === 0) || delimiter === "") {
      return this.catFile(p, offset, length === null ? undefined : offset + length, options);
    }
    const delim = toBytes(delimiter);
    const size = (await this._info(p, options)).size ?? Infinity;
    const start = offset === 0 ? 0 : await this.seekDelimiter(p, offset, delim, size, options);
    if (length === null) return this.catFile(p, start, undefined, options);
    const target = offset + length;
    const end = target === 0 ? 0 : target >= size ? size : await this.seekDelimiter(p, target, delim, size, options);
    return this.catFile(p, start, Math.max(start, end), options);
  }

  /** Position just after the first `delim` at or after `from`, or the end of the file. */
  private async seekDelimiter(path: string, from: number, delim: Uint8Array, size: number, options: SignalOptions): Promise<number> {
    const block = 2 ** 16;
    let pos = from;
    let carry: Uint8Array = new Uint8Array(0);
    while (pos < size) {
      const chunk = await this._catFile(path, pos, Math.min(size, pos + block), options);
      if (chunk.byteLength === 0) break;
      const hay = carry.byteLength ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const at = hay.indexOf(delim);
      if (at >= 0) return pos - carry.byteLength + at + delim.byteLength;
      carry = hay.subarray(Math.max(0, hay.byteLength - (delim.byteLength - 1)));
      pos += chunk.byteLength;
    }
    return Math.min(pos, size);
  }

  // ---------------------------------------------------------------- writing

  /** Write one file (`pipe(path, data)`) or several (`pipe({path: data})`). */
  async pipe(pathOrRecord: string | Record<string, BytesLike>, data?: BytesLike, options: PipeOptions = {}): Promise<void> {
    if (typeof pathOrRecord === "string") {
      if (data === undefined) throw FsError.einval("pipe(path, data) needs data", pathOrRecord);
      return this.pipeFile(pathOrRecord, data, options);
    }
    const entries = Object.entries(pathOrRecord);
    await mapBounded(entries, ([p, d]) => this.pipeFile(p, d, options), { concurrency: this.concurrency, signal: options.signal });
  }

  pipeFile(path: string, data: BytesLike, options: PipeOptions = {}): Promise<void> {
    // Not async on purpose (see catFile): small writes are the memory backend's hot path.
    try {
      const p = this.normalizePath(path);
      const bytes = toBytes(data, p);
      const mode = options.mode ?? "overwrite";
      if (mode !== "overwrite" && mode !== "create") throw FsError.einval(`mode must be "overwrite" or "create", got ${String(mode)}`, p);
      if (this.activeTransaction) return this.pipeInTransaction(p, bytes, mode);
      if (!this.dircache) return this._pipeFile(p, bytes, mode, options);
      return this._pipeFile(p, bytes, mode, options).finally(() => this.invalidateNormalized(p));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async pipeInTransaction(p: string, bytes: Uint8Array, mode: PipeMode): Promise<void> {
    const f = await this.open(p, mode === "create" ? "xb" : "wb");
    await f.write(bytes);
    await f.close();
  }

  async touch(path: string, options: { truncate?: boolean } & SignalOptions = {}): Promise<void> {
    const p = this.normalizePath(path);
    if ((options.truncate ?? true) || !(await this.exists(p, options))) {
      await this.pipeFile(p, new Uint8Array(0), options);
    } else {
      await this._touchExisting(p);
      this.invalidateNormalized(p);
    }
  }

  async mkdir(path: string, options: { createParents?: boolean } & SignalOptions = {}): Promise<void> {
    const p = this.normalizePath(path);
    try {
      await this._mkdir(p, options.createParents ?? true, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  async makedirs(path: string, options: { existOk?: boolean } & SignalOptions = {}): Promise<void> {
    const p = this.normalizePath(path);
    const info = await this._info(p, options).catch((err) => {
      if (isFsError(err, "ENOENT")) return undefined;
      throw err;
    });
    if (info) {
      if (info.type !== "directory") throw FsError.eexist(p, "a file exists at this path");
      if (options.existOk) return;
      throw FsError.eexist(p);
    }
    try {
      await this._mkdir(p, true, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  async rmdir(path: string, options: SignalOptions = {}): Promise<void> {
    const p = this.normalizePath(path);
    try {
      await this._rmdir(p, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  async rmFile(path: string, options: SignalOptions = {}): Promise<void> {
    const p = this.normalizePath(path);
    try {
      await this._rmFile(p, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  /** Delete files (and, with `recursive`, directories: children before parents). */
  async rm(pathOrPaths: string | readonly string[], options: RmOptions = {}): Promise<void> {
    const found = await this.expandInfos(pathOrPaths, { recursive: options.recursive, maxDepth: options.maxDepth, signal: options.signal });
    const entries = await mapBounded(
      [...found.keys()],
      async (p): Promise<FileInfo> => found.get(p) ?? (await this._info(p, options)),
      { concurrency: this.concurrency, signal: options.signal },
    ) as FileInfo[];
    const files = entries.filter((e) => e.type !== "directory").map((e) => trimTrailingSlashes(e.name));
    const dirs = entries.filter((e) => e.type === "directory").map((e) => trimTrailingSlashes(e.name));
    if (!options.recursive && dirs.length > 0) {
      throw FsError.eisdir(dirs[0]!, "is a directory; pass recursive: true to delete it");
    }
    try {
      await mapBounded(files, (f) => this._rmFile(f, options), { concurrency: this.concurrency, signal: options.signal });
      // Deepest directories first so each is empty when its turn comes.
      const byDepth = new Map<number, string[]>();
      for (const d of dirs) {
        const depth = d.split("/").length;
        byDepth.get(depth)?.push(d) ?? byDepth.set(depth, [d]);
      }
      for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
        await mapBounded(byDepth.get(depth)!, async (d) => {
          try {
            await this._rmdir(d, options);
          } catch (err) {
            // An implied directory vanishes with its last file.
            if (!isFsError(err, "ENOENT")) throw err;
          }
          this.invalidateNormalized(d);
        }, { concurrency: this.concurrency, signal: options.signal });
      }
    } finally {
      for (const f of files) this.invalidateNormalized(f);
      for (const d of dirs) this.invalidateNormalized(d);
    }
  }

  // ---------------------------------------------------------------- copying

  /** Copy within this filesystem (see README for fsspec's destination rules). */
  async copy(src: string | readonly string[], dst: string | readonly string[], options: TransferOptions = {}): Promise<void> {
    const pairs = await planTransfer(this, src, this, dst, options);
    // Like fsspec, a recursive copy skips sources that vanish unless told to raise.
    await runTransfers(pairs, this, this, { ...options, onError: options.onError ?? (options.recursive ? "omit" : "raise") });
  }

  async cpFile(src: string, dst: string, options: SignalOptions = {}): Promise<void> {
    const s = this.normalizePath(src);
    const d = this.normalizePath(dst);
    try {
      await this._cpFile(s, d, options);
    } finally {
      this.invalidateNormalized(d);
    }
  }

  /** Move: copy then delete the source. */
  async mv(src: string | readonly string[], dst: string | readonly string[], options: TransferOptions = {}): Promise<void> {
    if (typeof src === "string" && typeof dst === "string" && this.normalizePath(src) === this.normalizePath(dst)) return;
    const pairs = await planTransfer(this, src, this, dst, options);
    await runTransfers(pairs, this, this, options);
    await this.rm(src, { recursive: options.recursive, maxDepth: options.maxDepth, signal: options.signal });
  }

  /** Download to the local filesystem (or `localFs`), with fsspec's copy rules. */
  async get(rpath: string | readonly string[], lpath: string | readonly string[], options: TransferOptions & { localFs?: AbstractFileSystem } = {}): Promise<void> {
    const local = options.localFs ?? localFileSystem();
    const pairs = await planTransfer(this, rpath, local, lpath, options);
    if (typeof lpath === "string") {
      // Remote names must never steer a download outside the local target.
      const root = local.normalizePath(lpath);
      for (const pair of pairs) {
        if (!isInside(normalizePosix(pair.dst), root)) {
          throw FsError.eacces(pair.dst, `destination escapes the target directory '${root}'`);
        }
      }
    }
    await runTransfers(pairs, this, local, options);
  }

  /** Upload from the local filesystem (or `localFs`), with fsspec's copy rules. */
  async put(lpath: string | readonly string[], rpath: string | readonly string[], options: TransferOptions & { localFs?: AbstractFileSystem } = {}): Promise<void> {
    const local = options.localFs ?? localFileSystem();
    const pairs = await planTransfer(local, lpath, this, rpath, options);
    await runTransfers(pairs, local, this, options);
  }

  async getFile(rpath: string, lpath: string, options: TransferOptions & { localFs?: AbstractFileSystem } = {}): Promise<void> {
    const local = options.localFs ?? localFileSystem();
    await transferOne(this, this.normalizePath(rpath), local, local.normalizePath(lpath), options);
  }

  async putFile(lpath: string, rpath: string, options: TransferOptions & { localFs?: AbstractFileSystem } = {}): Promise<void> {
    const local = options.localFs ?? localFileSystem();
    await transferOne(local, local.normalizePath(lpath), this, this.normalizePath(rpath), options);
  }

  // ---------------------------------------------------------------- opened files

  open(path: string, mode: TextMode, options?: FileOpenOptions): Promise<TextFile>;
  open(path: string, mode?: "rb" | "wb" | "ab" | "xb", options?: FileOpenOptions): Promise<BufferedFile>;
  open(path: string, mode?: OpenMode, options?: FileOpenOptions): Promise<BufferedFile | TextFile>;
  async open(path: string, mode: OpenMode = "rb", options: FileOpenOptions = {}): Promise<BufferedFile | TextFile> {
    const { kind, text } = parseMode(mode);
    const p = this.normalizePath(path);
    const raw = kind === "r" ? await this.openForRead(p, options) : await this.openForWrite(p, kind, options);
    return text ? new TextFile(raw, options.encoding ?? "utf8") : raw;
  }

  /** A readable file over `_catFile`; backends with a better fetch override. */
  protected async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    let size = options.size;
    let details: Record<string, unknown> = {};
    if (size === undefined) {
      const info = await this._info(path, options);
      if (info.type === "directory") throw FsError.eisdir(path);
      if (info.size === null) throw FsError.enotsup("cannot open a file of unknown size for random access", path);
      size = info.size;
      details = info;
    }
    // What _catFile returns is the caller's (as catFile's is), so the cache may hand it on.
    return readableFile(path, size, (start, end) => this._catFile(path, start, end, { signal: options.signal }), options, {
      details,
      ownedFetches: true,
    });
  }

  protected async openForWrite(path: string, kind: "w" | "a" | "x", options: FileOpenOptions): Promise<BufferedFile> {
    // One lookup. Only "x" must know for sure; other modes write even where a lookup is refused
    // (a presigned PUT URL may forbid HEAD).
    const existing = await this._info(path, options).catch((err) => {
      if (kind === "x" && !isFsError(err, "ENOENT") && !isFsError(err, "ENOTDIR")) throw err;
      return undefined;
    });
    if (kind === "x" && existing) throw FsError.eexist(path);
    if (existing?.type === "directory") throw FsError.eisdir(path);
    const sink = await this._openWriter(path, { mode: kind, signal: options.signal });
    const transaction = this.activeTransaction;
    const file = new BufferedFile({
      path,
      mode: `${kind}b` as "wb" | "ab" | "xb",
      blockSize: options.blockSize ?? DEFAULT_BLOCK_SIZE,
      sink: {
        uploadChunk: (data, final) => sink.uploadChunk(data, final),
        commit: async () => {
          try {
            await sink.commit();
          } finally {
            this.invalidateNormalized(path);
          }
        },
        discard: () => sink.discard(),
      },
      autocommit: transaction ? false : (options.autocommit ?? true),
    });
    this.enlist(file);
    return file;
  }

  /** Put a writer opened elsewhere (a wrapped target) into the running transaction, if any. */
  protected enlist(file: BufferedFile): boolean {
    if (!this.activeTransaction) return false;
    file.autocommit = false;
    this.activeTransaction.files.push(file);
    return true;
  }

  // ---------------------------------------------------------------- transactions

  get inTransaction(): boolean {
    return this.activeTransaction !== undefined;
  }

  /** Files written from now on are published only by `endTransaction(true)`. */
  startTransaction(): void {
    if (this.activeTransaction) throw FsError.einval("a transaction is already in progress");
    this.activeTransaction = new Transaction();
  }

  /** Publish (commit = true) or drop every file written since `startTransaction`. */
  async endTransaction(commit = true): Promise<void> {
    const tx = this.activeTransaction;
    if (!tx) throw FsError.einval("no transaction in progress");
    this.activeTransaction = undefined;
    if (commit) {
      for (const [i, f] of tx.files.entries()) {
        if (f.discarded) continue;
        try {
          await f.commit();
        } catch (err) {
          // Publish no more: the files not yet committed are dropped, not left half-done.
          await Promise.all(tx.files.slice(i + 1).map((g) => g.discard().catch(() => undefined)));
          throw err;
        }
      }
    } else {
      await Promise.all(tx.files.map((f) => f.discard().catch(() => undefined)));
    }
  }

  /** Run `fn` in a transaction: published together on success, discarded if it throws. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    this.startTransaction();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await this.endTransaction(false);
      throw err;
    }
    await this.endTransaction(true);
    return result;
  }

  // ---------------------------------------------------------------- serialisation

  /** Class and options; filesystem-valued options (a `dir` target) nest. */
  toJSON(): FileSystemJSON {
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.options)) {
      if (v === undefined || k === "skipInstanceCache") continue;
      if (v instanceof AbstractFileSystem) options[k] = { __filesystem__: v.toJSON() };
      else if (typeof v === "function" || (v !== null && typeof v === "object" && !isPlainData(v))) {
        throw FsError.einval(`option '${k}' of ${this.protocol} cannot be serialised`);
      } else options[k] = v;
    }
    return { protocol: this.protocol, options };
  }
}

function isPlainData(v: object): boolean {
  if (Array.isArray(v)) return v.every((x) => x === null || typeof x !== "object" || isPlainData(x));
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && Object.values(v).every((x) => x === null || typeof x !== "object" || isPlainData(x as object));
}

function localFileSystem(): AbstractFileSystem {
  if (!defaultLocalFs) throw FsError.enotsup("no local filesystem is registered");
  return defaultLocalFs();
}
