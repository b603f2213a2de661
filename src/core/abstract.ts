/**
 * AbstractFileSystem: the whole user-facing API built on a handful of primitives that a
 * backend provides (`_ls`, `_catFile`, `_pipeFile`, `_rmFile`, and optionally `_info`,
 * `_mkdir`, `_rmdir`, `_cpFile`, `_openWriter`). Backends override derived methods only to
 * be faster, never to change their meaning.
 */
import { inspect, type InspectOptions } from "node:util";
import { FsError, isFsError, throwIfAborted } from "./errors.js";
import { nodeCrypto } from "./first-use.js";
import { hasMagic, planGlob } from "./glob.js";
import { DEFAULT_CONCURRENCY, mapBounded, settleBounded } from "./limiter.js";
import { ListingsCache } from "./listings-cache.js";
import { basename, checkPathCharacters, parentOf, trimTrailingSlashes } from "./paths.js";
import { printRedacted, redactOptions } from "./redact.js";
import {
  CAT_OPTIONS,
  CAT_RANGES_OPTIONS,
  DU_OPTIONS,
  EXPAND_OPTIONS,
  FILESYSTEM_OPTIONS,
  FIND_OPTIONS,
  GET_PUT_OPTIONS,
  GLOB_OPTIONS,
  LS_OPTIONS,
  MAKEDIRS_OPTIONS,
  MKDIR_OPTIONS,
  PIPE_OPTIONS,
  RM_OPTIONS,
  SIGN_OPTIONS,
  SIGNAL_OPTIONS,
  TOUCH_OPTIONS,
  TRANSFER_OPTIONS,
  WALK_OPTIONS,
  type BytesLike,
  type CatOptions,
  type CatRangesOptions,
  type DuOptions,
  type ExpandOptions,
  type FileInfo,
  type FileSystemOptions,
  type FindOptions,
  type GetPutOptions,
  type GlobOptions,
  type LsOptions,
  type MakedirsOptions,
  type MkdirOptions,
  type PipeMode,
  type PipeOptions,
  type RmOptions,
  type SignOptions,
  type SignalOptions,
  type TouchOptions,
  type TransferOptions,
  type WalkOptions,
} from "./types.js";
import {
  checkArg,
  checkOffset,
  checkOptions,
  checkPath,
  checkPaths,
  invalidArgument,
  isBoolean,
  isEncoding,
  isFunction,
  isNonNegativeInteger,
  isPlainObject,
  mergeSpecs,
  type OptionSpec,
} from "./validate.js";
import { BufferedFile, FILE_OPEN_OPTIONS, readableFile, parseMode, type FileOpenOptions, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { DEFAULT_MAX_BLOCK, DEFAULT_MAX_GAP, sliceMerged } from "../files/coalesce.js";
import { broadcastRanges, needsSize, planRangeJobs, resolveRange, type RangeJob } from "./ranges.js";
import { CollectingSink, type SinkOptions, type UploadSink } from "../files/upload-sink.js";
import { TextFile } from "../files/text-file.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import { writerTarget, type ByteSink, type DownloadTarget, type DownloadToOptions } from "../files/byte-sink.js";
import { makeTransferPlan, planTransfer, runMoves, runTransfers, transferOne } from "./transfer.js";

/**
 * A filesystem class: constructed with its options, with the static side of `AbstractFileSystem`
 * (`protocols`, `ownOptions`, `fromJSON`...).
 */
export type FileSystemClass<T extends AbstractFileSystem = AbstractFileSystem> = (new (
  options?: any,
) => T) & typeof AbstractFileSystem;

/** Serialised form of a filesystem: enough to rebuild it with `AbstractFileSystem.fromJSON`. */
export interface FileSystemJSON {
  /** The canonical protocol of the class (`protocols[0]`). */
  protocol: string;
  /**
   * The constructor options; a filesystem-valued option (a layer's target) nests as `{__filesystem__:
   * json}`.
   */
  options: Record<string, unknown>;
}

/**
 * What `cat` of a list, a glob or a directory returns: the bytes of each file by path, or its error
 * where `onError: "return"` kept it.
 */
export type CatResult = Record<string, Uint8Array | Error>;
/**
 * One directory as `walk` yields it: its path, then the names of its subdirectories and of its files,
 * each sorted.
 */
export type WalkEntry = [root: string, dirs: string[], files: string[]];
/**
 * One directory as `walk({detail: true})` yields it: its path, then the infos of its subdirectories and
 * of its files, by name.
 */
export type WalkEntryDetail = [root: string, dirs: Record<string, FileInfo>, files: Record<string, FileInfo>];

const encoder = new TextEncoder();

export function toBytes(data: BytesLike, path?: string, where = "pipeFile", name = "data"): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if ((data as unknown) instanceof ArrayBuffer) return new Uint8Array(data as unknown as ArrayBuffer);
  throw invalidArgument(where, name, "must be a Uint8Array or a string", data, path);
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
let closeListener: ((fs: AbstractFileSystem) => void) | undefined;

/** Told of every instance closed (the registry drops it from its instance cache). */
export function setCloseListener(fn: (fs: AbstractFileSystem) => void): void {
  closeListener = fn;
}

/** Per-method option specs of a class beyond the common ones (`{open: {streaming: isBoolean}}`). */
export type CallOptionSpecs = Readonly<Partial<Record<string, OptionSpec>>>;

/** Every constructor option of a class: its own `ownOptions` and its ancestors', merged once. */
const acceptedOptions = new WeakMap<object, OptionSpec>();

class Transaction {
  readonly files: BufferedFile[] = [];
}

/**
 * The base of every filesystem: the whole API (listing, reading, writing, globs, copies, opened files,
 * transactions) built on a few primitives a backend implements (`_ls`, `_catFile`, and for writes
 * `_pipeFile`, `_rmFile`; see docs/writing-a-backend.md). Paths are the backend's own, with or without
 * its protocol; failures are `FsError`s with a code.
 */
export abstract class AbstractFileSystem {
  /** Protocol names this class answers to; the first is its canonical name. */
  static protocols: readonly string[] = ["abstract"];
  /** The path of the root as this filesystem names it ("/" or ""). */
  static rootMarker = "/";
  /**
   * Options holding credentials: printed as `***` (`util.inspect`, `console.log`, `String()`).
   * Names that look secret (`isSecretName`: token, password, headers like Authorization...) are
   * redacted at every depth of the options whatever a class declares; `toJSON` keeps them all.
   */
  static secretOptions: readonly string[] = [];

  /**
   * Constructor options this class adds to its parent's, each with the check of its value
   * (`optionSpec<MyOptions, ParentOptions>({...})`). Constructors refuse any other name.
   */
  static ownOptions: OptionSpec = FILESYSTEM_OPTIONS;

  /** Options a method of this class takes beyond the common ones, by method name. */
  static callOptions: CallOptionSpecs = {};

  /** Every constructor option this class takes: its own and its ancestors'. */
  static get acceptedOptions(): OptionSpec {
    let spec = acceptedOptions.get(this);
    if (!spec) {
      const own: OptionSpec[] = [];
      for (let c: object | null = this; c !== null && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
        if (Object.hasOwn(c, "ownOptions")) own.unshift((c as typeof AbstractFileSystem).ownOptions);
      }
      spec = mergeSpecs(...own);
      acceptedOptions.set(this, spec);
    }
    return spec;
  }

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
    options: Record<string, unknown>,
  ): {
    /** The options to construct this class with. */
    options: Record<string, unknown>;
    /** The path on the new instance. */
    path: string;
  } {
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

  /**
   * Rebuild a filesystem from what `toJSON()` returned (the object or its JSON string), through the
   * registry: the protocol must be registered (the built-in ones are). EINVAL for anything that is not
   * a serialised filesystem.
   */
  static async fromJSON(json: FileSystemJSON | string): Promise<AbstractFileSystem> {
    let parsed: unknown = json;
    if (typeof json === "string") {
      try {
        parsed = JSON.parse(json);
      } catch (err) {
        throw new FsError("EINVAL", `fromJSON: json is not valid JSON (${(err as Error).message})`, { cause: err });
      }
    }
    if (!isPlainObject(parsed) || typeof parsed.protocol !== "string" || (parsed.options !== undefined && !isPlainObject(parsed.options))) {
      throw invalidArgument("fromJSON", "json", "must be a serialised filesystem ({protocol, options})", parsed);
    }
    // Imported on use, not at load: the registry imports the backends, which import this module.
    const { reviveFileSystem } = await import("./registry.js");
    return reviveFileSystem(parsed as unknown as FileSystemJSON);
  }

  /**
   * The constructor options as given, frozen: what `toJSON` serialises and the instance cache compares.
   */
  readonly options: Readonly<FileSystemOptions>;
  /** Directory listings kept between calls (remote backends), or undefined. */
  readonly dircache: ListingsCache | undefined;
  /** How many operations batch calls run at once. */
  readonly concurrency: number;
  private activeTransaction: Transaction | undefined;
  private isClosed = false;

  /**
   * Every option is checked against `acceptedOptions`: an unknown name or a bad value is EINVAL (naming
   * the closest known option).
   */
  constructor(options: FileSystemOptions = {}) {
    checkOptions(`${this.klass.protocols[0] ?? this.constructor.name} options`, options, this.klass.acceptedOptions);
    this.options = Object.freeze({ ...options });
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    const useListings = options.useListingsCache ?? this.listsRemotely;
    this.dircache = useListings
      ? new ListingsCache({ maxPaths: options.maxPaths, expiryMs: options.listingsExpiryMs })
      : undefined;
  }

  /** Remote backends return true so listings are cached by default. */
  protected get listsRemotely(): boolean {
    return false;
  }

  /** The canonical protocol of this instance's class (`protocols[0]`). */
  get protocol(): string {
    return this.klass.protocols[0] ?? "abstract";
  }

  /**
   * The path of the root as this filesystem names it: "/", or "" for backends whose paths start with a
   * bucket, host or repository.
   */
  get rootMarker(): string {
    return this.klass.rootMarker;
  }

  /** This instance's class, for its static side (`protocols`, `callOptions`...). */
  protected get klass(): typeof AbstractFileSystem {
    return this.constructor as typeof AbstractFileSystem;
  }

  /** The options `method` takes beyond the common ones (a backend's own; wrappers add their target's). */
  callOptionsOf(method: string): OptionSpec | undefined {
    return this.klass.callOptions[method];
  }

  /**
   * The entry check of public method `method`: its options against `spec` (plus this backend's
   * additions), then an already-aborted signal is EABORT before any work starts.
   */
  protected checkCall(method: string, options: unknown, spec: OptionSpec, path?: string): void {
    if (!isPlainObject(options)) {
      if (options !== undefined) checkOptions(method, options, spec, undefined, path);
      return;
    }
    // The common call has no options at all: nothing to look up, nothing to loop over.
    for (const _ in options) {
      checkOptions(method, options, spec, this.callOptionsOf(method), path);
      const signal = (options as SignalOptions).signal;
      if (signal?.aborted) throwIfAborted(signal, path);
      return;
    }
  }

  /** True once `close()` ran; the instance cache then hands out a new instance instead. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Release what the instance holds (connections); it leaves the instance cache. Backends extend this. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    closeListener?.(this);
  }

  /** `close()`, for `await using`: every filesystem is disposable, whatever it holds. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- paths

  /** Validate a user path and strip its protocol: the one entry point for paths. */
  normalizePath(path: string): string {
    if (typeof path !== "string") throw invalidArgument("normalizePath", "path", "must be a string", path);
    if (path === "") throw FsError.einval("empty path; use the root ('/' or 'protocol://') to mean the top");
    checkPathCharacters(path);
    return this.klass.stripProtocol(path);
  }

  /** `name` with this filesystem's protocol in front (unchanged if it has one). */
  unstripProtocol(name: string): string {
    checkPath("unstripProtocol", name, "name");
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(name)) return name;
    return `${this.protocol}://${name}`;
  }

  /**
   * The plain file name one segment of this filesystem's paths stands for, as a transfer to
   * another filesystem names it there (undefined: no name). Here the segment itself; URL
   * backends decode it.
   */
  fileNameOf(segment: string): string | undefined {
    return segment;
  }

  /** The path segment that names a file called `name` here (the inverse of fileNameOf). */
  segmentOf(name: string): string {
    return name;
  }

  /** The parent of a normalised path; the root is its own parent. */
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

  /** Delete one file (ENOENT when missing). Read-only backends keep this default: ENOTSUP. */
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

  /**
   * Remove an empty directory. By default there is nothing to remove (implied directories): ENOTEMPTY
   * when its listing holds anything, ENOENT when it cannot be listed.
   */
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

  // ---------------------------------------------------------------- whole-file downloads

  /**
   * Whether `downloadTo` starts from a caller's `info` without asking for it again (HTTP does; the
   * default reads block by block and pins its own): a batch may then look up its files' infos all
   * at once.
   * @internal
   */
  get downloadsFromGivenInfo(): boolean {
    return false;
  }

  /**
   * Write the whole file at `path` into `sink`, each byte once, all of one version; the info of
   * that version is returned. Used by get, getFile and the file caches.
   * @internal
   */
  downloadTo(path: string, sink: ByteSink, options: DownloadToOptions = {}): Promise<FileInfo> {
    const p = this.normalizePath(path);
    // A given info serves only the file it names: another's would pin the download to its version.
    const info = options.info;
    if (info !== undefined && (info.type !== "file" || this.normalizePath(info.name) !== p)) return this._downloadTo(p, sink, { ...options, info: undefined });
    return this._downloadTo(p, sink, options);
  }

  /**
   * By default the file is read in order through an opened file, a block at a time; backends
   * that speak HTTP send it as one streamed response, or as parallel ranges into a positioned
   * sink (files/parallel-ranges.ts).
   * @internal
   */
  protected async _downloadTo(path: string, sink: ByteSink, options: DownloadToOptions): Promise<FileInfo> {
    const signal = options.signal;
    // Read front to back: a backend that can send the file as one response is asked to.
    const streams = this.callOptionsOf("open")?.streaming !== undefined;
    const file = await this.open(path, "rb", {
      blockSize: options.blockSize ?? DEFAULT_BLOCK_SIZE,
      cacheType: "none",
      size: options.info?.size ?? undefined,
      signal,
      ...(streams ? { streaming: true } : {}),
    });
    try {
      // The info the opened file is pinned to, where the backend hands it over.
      const details = file.details as Partial<FileInfo>;
      const info = typeof details.type === "string" ? (details as FileInfo) : (options.info ?? (await this.info(path, { signal })));
      options.onInfo?.(Number.isFinite(file.size) ? { ...info, size: file.size } : info);
      let offset = 0;
      for await (const chunk of file) {
        throwIfAborted(signal, path);
        await sink.write(chunk, offset);
        offset += chunk.byteLength;
        options.onBytes?.(chunk.byteLength);
      }
      await sink.flush();
      return info;
    } finally {
      await file.close();
    }
  }

  /**
   * Where a download into `path` writes: nothing appears under `path` before `commit`. By default
   * an opened writer (bytes in order); the local disk gives a temporary file that takes writes at
   * any offset.
   * @internal
   */
  async openDownloadTarget(path: string, options: SignalOptions & { blockSize?: number } = {}): Promise<DownloadTarget> {
    const p = this.normalizePath(path);
    return writerTarget(await this.open(p, "wb", { signal: options.signal, blockSize: options.blockSize }), p);
  }

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

  /**
   * List a directory: one info per entry (names only with `detail: false`); a file lists as `[its
   * info]`. ENOENT when nothing is there. The path is literal (no globs); remote backends answer from
   * the listings cache unless `refresh`.
   */
  ls(path: string, options: LsOptions & { detail: false }): Promise<string[]>;
  ls(path: string, options?: LsOptions & { detail?: true }): Promise<FileInfo[]>;
  ls(path: string, options?: LsOptions): Promise<FileInfo[] | string[]>;
  async ls(path: string, options: LsOptions = {}): Promise<FileInfo[] | string[]> {
    this.checkCall("ls", options, LS_OPTIONS);
    const p = this.normalizePath(path);
    const listing = await this.listDir(p, options);
    return options.detail === false ? listing.map((e) => e.name) : listing;
  }

  /**
   * The entry at `path`: `name`, `size` (bytes; null when unknown), `type` and what the backend adds
   * (`mtime`, `etag`...). ENOENT when nothing is there.
   */
  async info(path: string, options: SignalOptions = {}): Promise<FileInfo> {
    this.checkCall("info", options, SIGNAL_OPTIONS);
    return this._info(this.normalizePath(path), options);
  }

  /** The entry's type, or undefined when nothing is there (ENOENT/ENOTDIR); other errors propagate. */
  private async typeOrMissing(path: string, options: SignalOptions): Promise<FileInfo["type"] | undefined> {
    return (await this.infoOrMissing(this.normalizePath(path), options))?.type;
  }

  /** The entry at a normalised path, or undefined when nothing is there (ENOENT/ENOTDIR). */
  private async infoOrMissing(path: string, options: SignalOptions): Promise<FileInfo | undefined> {
    try {
      return await this._info(path, options);
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return undefined;
      throw err;
    }
  }

  /**
   * Whether anything is at `path`. Only "nothing there" (ENOENT, ENOTDIR) is false: other errors
   * (EACCES, a network failure) are thrown, never taken for absence.
   */
  async exists(path: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkCall("exists", options, SIGNAL_OPTIONS);
    return (await this.typeOrMissing(path, options)) !== undefined;
  }

  /**
   * Whether `path` is a directory: false when it is missing or not a directory; other errors are thrown
   * (see `exists`).
   */
  async isDir(path: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkCall("isDir", options, SIGNAL_OPTIONS);
    return (await this.typeOrMissing(path, options)) === "directory";
  }

  /**
   * Whether `path` is a file: false when it is missing or not a file; other errors are thrown (see
   * `exists`).
   */
  async isFile(path: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkCall("isFile", options, SIGNAL_OPTIONS);
    return (await this.typeOrMissing(path, options)) === "file";
  }

  /**
   * The size of `path` in bytes (0 for directories; null when the backend cannot tell). ENOENT when
   * missing.
   */
  async size(path: string, options: SignalOptions = {}): Promise<number | null> {
    this.checkCall("size", options, SIGNAL_OPTIONS);
    return (await this.info(path, options)).size;
  }

  /**
   * `size` of each path, in order, at most `concurrency` at a time; the first failure rejects the call.
   */
  async sizes(paths: readonly string[], options: SignalOptions = {}): Promise<Array<number | null>> {
    if (!Array.isArray(paths)) throw invalidArgument("sizes", "paths", "must be an array of strings", paths);
    checkPaths("sizes", paths, "paths");
    this.checkCall("sizes", options, SIGNAL_OPTIONS);
    return (await mapBounded(paths, (p) => this.size(p, options), {
      concurrency: this.concurrency,
      signal: options.signal,
    })) as Array<number | null>;
  }

  /** A hex digest of the entry's metadata: changes when the file does. */
  async checksum(path: string, options: SignalOptions = {}): Promise<string> {
    this.checkCall("checksum", options, SIGNAL_OPTIONS);
    const info = await this.info(path, options);
    return nodeCrypto().createHash("sha256").update(stableStringify(info)).digest("hex").slice(0, 32);
  }

  /** A key that changes whenever the content changes (backends with ETags override). */
  async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    this.checkCall("ukey", options, SIGNAL_OPTIONS);
    const info = await this.info(path, options);
    return nodeCrypto().createHash("sha256").update(stableStringify(info)).digest("hex");
  }

  /**
   * When `path` was last modified (its info's `mtime`). ENOTSUP where the backend records no
   * modification time.
   */
  async modified(path: string, options: SignalOptions = {}): Promise<Date> {
    this.checkCall("modified", options, SIGNAL_OPTIONS);
    const info = await this.info(path, options);
    const m = info.mtime ?? info.modified ?? info.LastModified;
    if (m instanceof Date) return m;
    if (typeof m === "string" || typeof m === "number") return new Date(m);
    throw FsError.enotsup(`${this.protocol} does not record modification times`, info.name);
  }

  /**
   * When `path` was created (its info's `created`). ENOTSUP where the backend records no creation time.
   */
  async created(path: string, options: SignalOptions = {}): Promise<Date> {
    this.checkCall("created", options, SIGNAL_OPTIONS);
    const info = await this.info(path, options);
    const c = info.created;
    if (c instanceof Date) return c;
    if (typeof c === "string" || typeof c === "number") return new Date(c);
    throw FsError.enotsup(`${this.protocol} does not record creation times`, info.name);
  }

  /** A URL that grants temporary access, where the backend can make one. */
  async sign(path: string, options: SignOptions = {}): Promise<string> {
    this.checkSign(path, options);
    throw FsError.enotsup(`${this.protocol} cannot sign URLs`, this.normalizePath(path));
  }

  /** The entry check of `sign` (backends that sign call it first). */
  protected checkSign(path: string, options: SignOptions): string {
    this.checkCall("sign", options, SIGN_OPTIONS);
    return this.normalizePath(path);
  }

  /**
   * Forget cached listings: of `path`, its ancestors and everything below it, or all of them without a
   * path. Call it when something else changed the storage.
   */
  invalidateCache(path?: string): void {
    if (path !== undefined) checkPath("invalidateCache", path);
    // Normalised even without a listings cache, so a bad path is refused everywhere alike.
    const p = path === undefined ? undefined : this.normalizePath(path);
    this.dircache?.invalidate(p, this.rootMarker);
  }

  /** Forget the listing of `path` (already normalised) after a write. */
  protected invalidateNormalized(path: string): void {
    this.dircache?.invalidate(path, this.rootMarker);
  }

  // ---------------------------------------------------------------- walking

  /**
   * Walk the tree below `path` like Python's `os.walk`: one entry per directory, parents first
   * (`topdown: false`: children first), names sorted, down to `maxDepth` levels (1: `path` alone).
   * Walking top-down, removing names from an entry's subdirectories prunes them. A directory that
   * cannot be listed is skipped (`onError`), a file or a missing path yields nothing.
   */
  walk(path: string, options: WalkOptions & { detail: true }): AsyncGenerator<WalkEntryDetail>;
  walk(path: string, options?: WalkOptions & { detail?: false }): AsyncGenerator<WalkEntry>;
  async *walk(path: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry | WalkEntryDetail> {
    this.checkCall("walk", options, WALK_OPTIONS);
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

  /**
   * Every file below `path` at any depth or down to `maxDepth` levels, as sorted paths or, with
   * `detail`, infos by path; `withDirs` adds the directories (and `path` itself, unless it is the
   * root). A file finds itself; a missing path finds nothing (no error, as in fsspec). Directories are
   * listed level by level, `concurrency` at a time.
   */
  find(path: string, options: FindOptions & { detail: true }): Promise<Record<string, FileInfo>>;
  find(path: string, options?: FindOptions & { detail?: false }): Promise<string[]>;
  find(path: string, options?: FindOptions): Promise<string[] | Record<string, FileInfo>>;
  async find(path: string, options: FindOptions = {}): Promise<string[] | Record<string, FileInfo>> {
    this.checkCall("find", options, FIND_OPTIONS);
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
        else if (!isFsError(r.error, "ENOENT") && !isFsError(r.error, "ENOTDIR")) {
          if (isFsError(r.error, "EABORT") || options.onError === "raise") throw r.error;
          if (typeof options.onError === "function") options.onError(r.error);
        }
      });
    }
    return out;
  }

  /**
   * The paths matching `pattern`, sorted (with `detail`: infos by path). fsspec's rules: `*` and `?`
   * stay within a segment, `**` spans any depth, `[a-z]` and `[!a]` are classes, a trailing `/` matches
   * directories only; `maxDepth` bounds the depth `**` reaches. A pattern without glob characters is a
   * lookup of that path. No match is an empty result, not an error.
   */
  glob(pattern: string, options: GlobOptions & { detail: true }): Promise<Record<string, FileInfo>>;
  glob(pattern: string, options?: GlobOptions & { detail?: false }): Promise<string[]>;
  glob(pattern: string, options?: GlobOptions): Promise<string[] | Record<string, FileInfo>>;
  async glob(pattern: string, options: GlobOptions = {}): Promise<string[] | Record<string, FileInfo>> {
    checkPath("glob", pattern, "pattern");
    this.checkCall("glob", options, GLOB_OPTIONS);
    const found = await this.globInfos(pattern, options.detail ? options : { ...options, detail: false });
    const names = [...found.keys()].sort();
    if (!options.detail) return names;
    return Object.fromEntries(names.map((n) => [n, found.get(n)!]));
  }

  /** Matches of `pattern`, each with its info when a listing gave one. */
  protected async globInfos(pattern: string, options: GlobOptions): Promise<Map<string, FileInfo>> {
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

  /**
   * Bytes used below `path` as `find` sees it (`maxDepth`, `withDirs`): the total (`total`, default
   * true) or bytes per path.
   */
  async du(path: string, options: DuOptions = {}): Promise<number | Record<string, number>> {
    this.checkCall("du", options, DU_OPTIONS);
    const infos = await this.find(path, { maxDepth: options.maxDepth, withDirs: options.withDirs, detail: true, signal: options.signal });
    if (options.total ?? true) {
      return Object.values(infos).reduce((n, i) => n + (i.size ?? 0), 0);
    }
    return Object.fromEntries(Object.entries(infos).map(([k, i]) => [k, i.size ?? 0]));
  }

  /**
   * Turn paths and globs into a sorted list of existing paths (below each match too, when
   * recursive). A path that exists is itself, glob characters or not; only a path that does
   * not exist is read as a glob. Literal paths are kept as given unless recursive. Empty
   * result: ENOENT.
   */
  async expandPath(pathOrPaths: string | readonly string[], options: ExpandOptions = {}): Promise<string[]> {
    checkPaths("expandPath", pathOrPaths);
    this.checkCall("expandPath", options, EXPAND_OPTIONS);
    const found = await this.expandInfos(pathOrPaths, options);
    return [...found.keys()].sort();
  }

  /** expandPath with the infos the lookups produced (undefined for unlooked-up literal paths); copy planning uses it. */
  async expandInfos(
    pathOrPaths: string | readonly string[],
    options: ExpandOptions = {},
  ): Promise<Map<string, FileInfo | undefined>> {
    checkPaths("expandInfos", pathOrPaths);
    this.checkCall("expandInfos", options, EXPAND_OPTIONS);
    const inputs = typeof pathOrPaths === "string" ? [pathOrPaths] : [...pathOrPaths];
    const out = new Map<string, FileInfo | undefined>();
    const add = (m: Map<string, FileInfo | undefined>) => {
      for (const [k, v] of m) if (v || !out.has(k)) out.set(k, v);
    };
    const below = (dir: string, maxDepth: number | undefined) =>
      this.findInfos(dir, { maxDepth, withDirs: true, detail: true, signal: options.signal });
    for (const raw of inputs) {
      const p = this.normalizePath(raw);
      const literal = hasMagic(p) ? await this.literalMatch(p, options) : undefined;
      if (hasMagic(p) && !literal) {
        const matches = await this.globInfos(raw, { maxDepth: options.maxDepth, signal: options.signal });
        add(matches);
        if (options.recursive && (options.maxDepth === undefined || options.maxDepth > 1)) {
          // What the glob found is listed, never globbed again: its own name may hold magic.
          const dirs = [...matches].filter(([, info]) => info?.type === "directory").map(([m]) => m);
          const depth = options.maxDepth === undefined ? undefined : options.maxDepth - 1;
          const listed = await mapBounded(dirs, (d) => below(d, depth), { concurrency: this.concurrency, signal: options.signal });
          for (const m of listed as Array<Map<string, FileInfo>>) add(m);
        }
        continue;
      }
      if (options.recursive) add(await below(p, options.maxDepth));
      if (!out.has(p) && (literal || !options.recursive || (await this.exists(p, { signal: options.signal })))) out.set(p, literal);
    }
    if (out.size === 0) throw FsError.enoent(typeof pathOrPaths === "string" ? pathOrPaths : pathOrPaths.join(", "));
    return out;
  }

  /**
   * The entry when a path with glob characters exists under that very name (it is then taken
   * literally), else undefined. A name the backend refuses (EINVAL) cannot exist either.
   */
  private async literalMatch(path: string, options: SignalOptions): Promise<FileInfo | undefined> {
    try {
      return await this.infoOrMissing(path, options);
    } catch (err) {
      if (isFsError(err, "EINVAL")) return undefined;
      throw err;
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * Whole files. One path that names a file: its bytes (a directory is EISDIR unless `recursive`). A
   * list, a glob, or a directory with `recursive`: the bytes of each file by path, directories left
   * out, expanded like `expandPath` (ENOENT when nothing matches). A failed read rejects the call
   * (`onError: "raise"`, default), is kept in the result (`"return"`) or left out (`"omit"`).
   */
  cat(path: readonly string[], options?: CatOptions): Promise<CatResult>;
  cat(path: string, options?: CatOptions): Promise<Uint8Array | CatResult>;
  async cat(path: string | readonly string[], options: CatOptions = {}): Promise<Uint8Array | CatResult> {
    checkPaths("cat", path);
    this.checkCall("cat", options, CAT_OPTIONS);
    const found = await this.expandInfos(path, { recursive: options.recursive, maxDepth: options.maxDepth, signal: options.signal });
    const paths = [...found.keys()].sort();
    if (typeof path === "string" && paths.length === 1 && paths[0] === this.normalizePath(path)) {
      return this.catFile(paths[0]!, undefined, undefined, { signal: options.signal });
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
      checkOffset("catFile", "start", start, p);
      checkOffset("catFile", "end", end, p);
      this.checkCall("catFile", options, SIGNAL_OPTIONS, p);
      const s = start ?? 0;
      const e = end ?? undefined;
      if (s < 0 && e === undefined) {
        const suffix = this.readSuffix(p, -s, options);
        if (suffix) return suffix;
      }
      if (s < 0 || (e !== undefined && e < 0)) return this.catFileFromEnd(p, s, e, options);
      return this._catFile(p, s, e !== undefined && e < s ? s : e, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The last `length` bytes in one request (HTTP's `bytes=-N`), for a `catFile` with a negative
   * start and no end; undefined (the default): the backend has none, and the size is looked up
   * first.
   * @internal
   */
  protected readSuffix(_path: string, _length: number, _options: SignalOptions): Promise<Uint8Array> | undefined {
    return undefined;
  }

  /** catFile with offsets counted from the end: needs the size first. */
  private async catFileFromEnd(p: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    const size = (await this._info(p, { signal: options.signal })).size;
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
    checkPaths("catRanges", paths, "paths");
    this.checkCall("catRanges", options, CAT_RANGES_OPTIONS);
    const list = broadcastRanges(paths, starts, ends);
    const ps = list.paths.map((p) => this.normalizePath(p));
    const { starts: ss, ends: es } = list;
    ss.forEach((s, i) => checkOffset("catRanges", `starts[${i}]`, s, ps[i]!));
    es.forEach((e, i) => checkOffset("catRanges", `ends[${i}]`, e, ps[i]!));
    const onError = options.onError ?? "return";
    const results: Array<Uint8Array | Error> = new Array(ps.length);
    // The primitives take the signal only (catRanges' own options are no business of theirs).
    const signalOnly = { signal: options.signal };

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
          size = (await this._info(p, signalOnly)).size;
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
      (job) => this._catFile(job.path, job.merged.start, job.merged.end, signalOnly),
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

  /** The first `size` bytes of a file (default 1024); fewer when the file is shorter. */
  async head(path: string, size = 1024, options: SignalOptions = {}): Promise<Uint8Array> {
    checkArg("head", "size", size, isNonNegativeInteger);
    this.checkCall("head", options, SIGNAL_OPTIONS);
    return this.catFile(path, 0, size, options);
  }

  /** The last `size` bytes of a file (default 1024); the whole file when it is shorter. */
  async tail(path: string, size = 1024, options: SignalOptions = {}): Promise<Uint8Array> {
    checkArg("tail", "size", size, isNonNegativeInteger);
    this.checkCall("tail", options, SIGNAL_OPTIONS);
    if (size === 0) return new Uint8Array(0);
    return this.catFile(path, -size, undefined, options);
  }

  /** A whole file decoded as `encoding` (default utf8; an unknown encoding is EINVAL). */
  async readText(path: string, encoding: BufferEncoding = "utf8", options: SignalOptions = {}): Promise<string> {
    checkArg("readText", "encoding", encoding, isEncoding);
    this.checkCall("readText", options, SIGNAL_OPTIONS);
    const data = await this.catFile(path, undefined, undefined, options);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(encoding);
  }

  /** Write `text` encoded as `encoding` (default utf8) as one whole file, as `pipeFile` does. */
  async writeText(path: string, text: string, encoding: BufferEncoding = "utf8", options: PipeOptions = {}): Promise<void> {
    if (typeof text !== "string") throw invalidArgument("writeText", "text", "must be a string", text);
    checkArg("writeText", "encoding", encoding, isEncoding);
    this.checkCall("writeText", options, PIPE_OPTIONS);
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
    checkArg("readBlock", "offset", offset, isNonNegativeInteger, p);
    if (length !== null) checkArg("readBlock", "length", length, isNonNegativeInteger, p);
    if (delimiter !== undefined && typeof delimiter !== "string" && !(delimiter instanceof Uint8Array)) {
      throw invalidArgument("readBlock", "delimiter", "must be a string or a Uint8Array", delimiter, p);
    }
    this.checkCall("readBlock", options, SIGNAL_OPTIONS, p);
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
      if (data === undefined) throw invalidArgument("pipe", "data", "is needed with a path (pipe(path, data))", data, pathOrRecord);
      return this.pipeFile(pathOrRecord, data, options);
    }
    if (!isPlainObject(pathOrRecord)) {
      throw invalidArgument("pipe", "pathOrRecord", "must be a path or a plain object {path: data}", pathOrRecord);
    }
    if (data !== undefined) throw invalidArgument("pipe", "data", "must be undefined with a record (the record holds the data)", data);
    this.checkCall("pipe", options, PIPE_OPTIONS);
    const entries = Object.entries(pathOrRecord);
    // Every value is checked before anything is written: a bad one writes nothing.
    for (const [p, d] of entries) toBytes(d, p, "pipe", `pathOrRecord['${p}']`);
    await mapBounded(entries, ([p, d]) => this.pipeFile(p, d, options), { concurrency: this.concurrency, signal: options.signal });
  }

  /**
   * Write one whole file: replace it (`mode: "overwrite"`, default) or create it only if nothing is
   * there (`mode: "create"`: EEXIST otherwise, atomically where the backend can). Strings are written
   * as UTF-8. Inside a transaction the file is published at its end.
   */
  pipeFile(path: string, data: BytesLike, options: PipeOptions = {}): Promise<void> {
    // Not async on purpose (see catFile): small writes are the memory backend's hot path.
    try {
      const p = this.normalizePath(path);
      const bytes = toBytes(data, p);
      this.checkCall("pipeFile", options, PIPE_OPTIONS, p);
      const mode = options.mode ?? "overwrite";
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

  /**
   * Create an empty file, or empty an existing one (`truncate`, default true); `truncate: false` keeps
   * an existing file's bytes and updates its modification time where the backend can.
   */
  async touch(path: string, options: TouchOptions = {}): Promise<void> {
    this.checkCall("touch", options, TOUCH_OPTIONS);
    const p = this.normalizePath(path);
    const signalOnly = { signal: options.signal };
    if ((options.truncate ?? true) || !(await this.exists(p, signalOnly))) {
      await this.pipeFile(p, new Uint8Array(0), signalOnly);
    } else {
      await this._touchExisting(p);
      this.invalidateNormalized(p);
    }
  }

  /**
   * Make a directory, with its missing parents unless `createParents: false`; EEXIST when it exists.
   * Object stores have no empty directories: there this may do nothing.
   */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    this.checkCall("mkdir", options, MKDIR_OPTIONS);
    const p = this.normalizePath(path);
    try {
      await this._mkdir(p, options.createParents ?? true, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  /**
   * Make a directory and its parents. EEXIST when a file is at `path`, or a directory unless `existOk`.
   */
  async makedirs(path: string, options: MakedirsOptions = {}): Promise<void> {
    this.checkCall("makedirs", options, MAKEDIRS_OPTIONS);
    const p = this.normalizePath(path);
    const info = await this._info(p, { signal: options.signal }).catch((err) => {
      if (isFsError(err, "ENOENT")) return undefined;
      throw err;
    });
    if (info) {
      if (info.type !== "directory") throw FsError.eexist(p, "a file exists at this path");
      if (options.existOk) return;
      throw FsError.eexist(p);
    }
    try {
      await this._mkdir(p, true, { signal: options.signal });
    } finally {
      this.invalidateNormalized(p);
    }
  }

  /** Remove an empty directory: ENOTEMPTY when it holds anything. */
  async rmdir(path: string, options: SignalOptions = {}): Promise<void> {
    this.checkCall("rmdir", options, SIGNAL_OPTIONS);
    const p = this.normalizePath(path);
    try {
      await this._rmdir(p, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  /**
   * Delete one file, its path taken literally (no globs). ENOENT when missing; ENOTSUP on read-only
   * backends.
   */
  async rmFile(path: string, options: SignalOptions = {}): Promise<void> {
    this.checkCall("rmFile", options, SIGNAL_OPTIONS);
    const p = this.normalizePath(path);
    try {
      await this._rmFile(p, options);
    } finally {
      this.invalidateNormalized(p);
    }
  }

  /** Delete files (and, with `recursive`, directories: children before parents). */
  async rm(pathOrPaths: string | readonly string[], options: RmOptions = {}): Promise<void> {
    this.checkRm(pathOrPaths, options);
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
    await this.removeEntries(files, dirs, options);
  }

  /**
   * rm's deleting half: exactly these files, then these directories deepest first (each empty
   * by its turn), with no expansion. With `keepNonEmpty`, a directory that still holds
   * something stays (a move leaves what it did not move). Backends that delete in batches
   * override this; moves across filesystems call it (runMoves).
   */
  async removeEntries(files: readonly string[], dirs: readonly string[], options: SignalOptions & { keepNonEmpty?: boolean }): Promise<void> {
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
            if (!isFsError(err, "ENOENT") && !(options.keepNonEmpty && isFsError(err, "ENOTEMPTY"))) throw err;
          }
          this.invalidateNormalized(d);
        }, { concurrency: this.concurrency, signal: options.signal });
      }
    } finally {
      for (const f of files) this.invalidateNormalized(f);
      for (const d of dirs) this.invalidateNormalized(d);
    }
  }

  /** The entry check of `rm` (backends with their own rm call it first). */
  protected checkRm(pathOrPaths: unknown, options: RmOptions): void {
    checkPaths("rm", pathOrPaths);
    this.checkCall("rm", options, RM_OPTIONS);
  }

  // ---------------------------------------------------------------- copying

  /** The entry check of copy, mv, get and put: source and destination paths, then the options. */
  private checkTransfer(method: string, src: unknown, dst: unknown, options: unknown, spec: OptionSpec, names: [string, string] = ["src", "dst"]): void {
    checkPaths(method, src, names[0]);
    checkPaths(method, dst, names[1]);
    if (Array.isArray(dst) && (!Array.isArray(src) || src.length !== dst.length)) {
      const problem = Array.isArray(src) ? `must have as many entries as ${names[0]} (${src.length})` : `can be a list only when ${names[0]} is one`;
      throw invalidArgument(method, names[1], problem, dst);
    }
    this.checkCall(method, options, spec);
  }

  /**
   * Copy within this filesystem (fsspec's destination rules, docs/filesystem-api.md). A
   * destination that is the source is a no-op; one inside a source directory is EINVAL.
   */
  async copy(src: string | readonly string[], dst: string | readonly string[], options: TransferOptions = {}): Promise<void> {
    this.checkTransfer("copy", src, dst, options, TRANSFER_OPTIONS);
    if (await this.namesItself(src, dst, options)) return;
    const pairs = await planTransfer(this, src, this, dst, options);
    // Like fsspec, a recursive copy skips sources that vanish unless told to raise.
    await runTransfers(pairs, this, this, { ...options, onError: options.onError ?? (options.recursive ? "omit" : "raise") });
  }

  /**
   * Copy one file within this filesystem (server-side where the backend can), replacing `dst`; both
   * paths literal. ENOENT when `src` is missing.
   */
  async cpFile(src: string, dst: string, options: SignalOptions = {}): Promise<void> {
    checkPath("cpFile", src, "src");
    checkPath("cpFile", dst, "dst");
    this.checkCall("cpFile", options, SIGNAL_OPTIONS);
    const s = this.normalizePath(src);
    const d = this.normalizePath(dst);
    try {
      await this._cpFile(s, d, options);
    } finally {
      this.invalidateNormalized(d);
    }
  }

  /**
   * Move: copy, then delete each source once its copy is confirmed (see runMoves). The same
   * rules as copy; a directory without `recursive` is EISDIR, and nothing moves.
   */
  async mv(src: string | readonly string[], dst: string | readonly string[], options: TransferOptions = {}): Promise<void> {
    this.checkTransfer("mv", src, dst, options, TRANSFER_OPTIONS);
    if (await this.namesItself(src, dst, options)) return;
    const plan = await makeTransferPlan(this, src, this, dst, options);
    if (plan.skippedDir !== undefined) throw FsError.eisdir(plan.skippedDir, "is a directory; pass recursive: true to move it");
    await runMoves(plan, this, this, options, (files, dirs) => this.removeEntries(files, dirs, { signal: options.signal, keepNonEmpty: true }));
  }

  /** Whether a copy or move names one existing path as both source and destination (a no-op). */
  private async namesItself(src: string | readonly string[], dst: string | readonly string[], options: SignalOptions): Promise<boolean> {
    if (typeof src !== "string" || typeof dst !== "string") return false;
    const p = this.normalizePath(src);
    if (p !== this.normalizePath(dst)) return false;
    if (await this.exists(p, { signal: options.signal })) return true;
    if (!hasMagic(p)) throw FsError.enoent(p);
    await this.expandInfos(src, { signal: options.signal }); // ENOENT when the glob matches nothing
    return true;
  }

  /**
   * The entry check of get, put, getFile and putFile (`names`: the remote and local argument,
   * in the method's order), then the local side: `localFs`, else the local disk.
   */
  private async localSide(
    method: string,
    args: [unknown, unknown],
    names: [string, string],
    options: GetPutOptions,
    single: boolean,
  ): Promise<{ local: AbstractFileSystem; transfer: TransferOptions }> {
    if (single) {
      checkPath(method, args[0], names[0]);
      checkPath(method, args[1], names[1]);
      this.checkCall(method, options, GET_PUT_OPTIONS);
    } else {
      this.checkTransfer(method, args[0], args[1], options, GET_PUT_OPTIONS, names);
    }
    const { localFs, ...transfer } = options;
    return { local: localFs ?? (await localFileSystem()), transfer };
  }

  /** Download to the local filesystem (or `localFs`), with fsspec's copy rules. */
  async get(rpath: string | readonly string[], lpath: string | readonly string[], options: GetPutOptions = {}): Promise<void> {
    const { local, transfer } = await this.localSide("get", [rpath, lpath], ["rpath", "lpath"], options, false);
    // planTransfer refuses remote names that would steer a download outside `lpath`.
    const pairs = await planTransfer(this, rpath, local, lpath, transfer);
    await runTransfers(pairs, this, local, transfer);
  }

  /** Upload from the local filesystem (or `localFs`), with fsspec's copy rules. */
  async put(lpath: string | readonly string[], rpath: string | readonly string[], options: GetPutOptions = {}): Promise<void> {
    const { local, transfer } = await this.localSide("put", [lpath, rpath], ["lpath", "rpath"], options, false);
    const pairs = await planTransfer(local, lpath, this, rpath, transfer);
    await runTransfers(pairs, local, this, transfer);
  }

  /**
   * Download one file to `lpath` on the local side (`localFs`, default the local disk), replacing it;
   * both paths literal. `callback` reports the bytes.
   */
  async getFile(rpath: string, lpath: string, options: GetPutOptions = {}): Promise<void> {
    const { local, transfer } = await this.localSide("getFile", [rpath, lpath], ["rpath", "lpath"], options, true);
    await transferOne(this, this.normalizePath(rpath), local, local.normalizePath(lpath), transfer);
  }

  /**
   * Upload one local file (from `localFs`, default the local disk) to `rpath`, replacing it; both paths
   * literal. `callback` reports the bytes.
   */
  async putFile(lpath: string, rpath: string, options: GetPutOptions = {}): Promise<void> {
    const { local, transfer } = await this.localSide("putFile", [lpath, rpath], ["lpath", "rpath"], options, true);
    await transferOne(local, local.normalizePath(lpath), this, this.normalizePath(rpath), transfer);
  }

  // ---------------------------------------------------------------- opened files

  /**
   * Open a file (see docs/opened-files.md). Binary modes give a `BufferedFile`: seekable reads through
   * a read cache (`cacheType`), or writes sent in `blockSize` chunks and published on close (`w`
   * replaces, `a` appends, `x` creates only). Text modes give a `TextFile`. A missing file for reading
   * is ENOENT, a directory EISDIR, `x` over an existing file EEXIST, another mode EINVAL. Inside a
   * transaction writes are published at its end.
   */
  open(path: string, mode: TextMode, options?: FileOpenOptions): Promise<TextFile>;
  open(path: string, mode?: "rb" | "wb" | "ab" | "xb", options?: FileOpenOptions): Promise<BufferedFile>;
  open(path: string, mode?: OpenMode, options?: FileOpenOptions): Promise<BufferedFile | TextFile>;
  async open(path: string, mode: OpenMode = "rb", options: FileOpenOptions = {}): Promise<BufferedFile | TextFile> {
    const { kind, text } = parseMode(mode);
    const p = this.normalizePath(path);
    this.checkCall("open", options, FILE_OPEN_OPTIONS, p);
    const raw = kind === "r" ? await this.openForRead(p, options) : await this.openForWrite(p, kind, options);
    return text ? new TextFile(raw, options.encoding ?? "utf8") : raw;
  }

  /** A readable file over `_catFile`; backends with a better fetch override. */
  protected async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    let size = options.size;
    let details: Record<string, unknown> = {};
    if (size === undefined) {
      const info = await this._info(path, { signal: options.signal });
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

  /**
   * A writable file over `_openWriter`: `x` refuses an existing file (EEXIST), a directory is EISDIR;
   * enlisted in the running transaction, if any.
   */
  protected async openForWrite(path: string, kind: "w" | "a" | "x", options: FileOpenOptions): Promise<BufferedFile> {
    // One lookup. Only "x" must know for sure; other modes write even where a lookup is refused
    // (a presigned PUT URL may forbid HEAD).
    const existing = await this._info(path, { signal: options.signal }).catch((err) => {
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
      signal: options.signal,
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

  /**
   * Whether a transaction is running on this instance (between `startTransaction` and
   * `endTransaction`).
   */
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
    checkArg("endTransaction", "commit", commit, isBoolean);
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
    checkArg("transaction", "fn", fn, isFunction);
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

  // ---------------------------------------------------------------- printing

  /** The options as printed: secrets as `***` (see `secretOptions`), nested filesystems print themselves. */
  protected printedOptions(): Record<string, unknown> {
    const shown = redactOptions(this.options, new Set(this.klass.secretOptions));
    delete shown.skipInstanceCache;
    return shown;
  }

  /**
   * How `util.inspect` and `console.log` show the instance: `ClassName { options }`, secrets as `***`.
   */
  [inspect.custom](depth: number, options: InspectOptions, show?: typeof inspect): string {
    return printRedacted(this.constructor.name, this.printedOptions(), depth, options, show);
  }

  /** `ClassName { options }` with secrets as `***` (template strings and `String()` too). */
  toString(): string {
    return printRedacted(this.constructor.name, this.printedOptions());
  }

  // ---------------------------------------------------------------- serialisation

  /** Class and options; filesystem-valued options (a `dir` target) nest. */
  toJSON(): FileSystemJSON {
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.options as Record<string, unknown>)) {
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

/**
 * The local disk of get/put, imported on first use rather than registered by local.ts at load:
 * a module that changes another at import would have to be kept by bundlers (sideEffects).
 */
async function localFileSystem(): Promise<AbstractFileSystem> {
  return (await import("../implementations/local.js")).defaultLocalFileSystem();
}
