/**
 * A model package: a folder of checkpoint files somewhere (a URL or a local path) seen through
 * a whole-file cache, so `resolve(path)` hands back a local file and `open(path)` an opened one.
 */
import { homedir } from "node:os";
import { posix } from "node:path";
import { inspect, type InspectOptions } from "node:util";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { hasMagic } from "../core/glob.js";
import { mapBounded } from "../core/limiter.js";
import { basename, isInside, joinPath, relativeTo, resolveInside, splitChain, splitProtocol } from "../core/paths.js";
import { printRedacted, redactOptions, redactUrl } from "../core/redact.js";
import type { FileInfo, ProgressCallback, SignalOptions } from "../core/types.js";
import { getFilesystemClass } from "../core/registry.js";
import { urlToFs } from "../core/url-chain.js";
import { checkOptions, checkPath, checkPaths, either, hasMethods, isBoolean, isFileSystem, isFunction, isNonEmptyString, isPositiveInteger, isPositiveNumber, isRecord, isSignal, oneOf, optionSpec } from "../core/validate.js";
import { checksumMismatch, WholeFileCacheFileSystem, type WholeFileCacheOptions } from "../cached/filecache.js";
import { HubCacheFileSystem, isHubCacheTarget, type HubCacheOptions } from "../cached/hubcache.js";
import type { BufferedFile, FileOpenOptions, OpenMode, TextMode } from "../files/buffered-file.js";
import type { TextFile } from "../files/text-file.js";
import { LocalFileSystem } from "../implementations/local.js";
import { RealPathConfinement } from "../implementations/real-path-confinement.js";
import { extractArchive, type ArchiveFormat, type ExtractJob } from "./extract.js";
import { cacheDirectory, joinRoot } from "./package-root.js";
import { contentSha256, DEFAULT_MANIFEST, mergePins, parseManifest, pinKey, pinsFromOption, type FilePin, type Pins } from "./pins.js";
import { batchProgress, progressBar, type ProgressStream } from "./progress.js";

/** The pins of files below `inner`, keyed by their paths from there. */
function pinsBelow(pins: ReadonlyMap<string, string>, inner: string): Pins {
  if (inner === "") return new Map(pins);
  const prefix = `${inner}/`;
  return new Map([...pins].filter(([key]) => key.startsWith(prefix)).map(([key, sha]) => [key.slice(prefix.length), sha]));
}

/** Environment variables of packages, read at call time. */
export const PACKAGE_ENV = {
  /** A general cache root for everything fsspec-ts caches. */
  cache: "FSSPEC_TS_CACHE",
  /** Where model packages are cached; wins over FSSPEC_TS_CACHE. */
  modelCache: "FSSPEC_TS_MODEL_CACHE",
  /** Seconds (the variable's unit; options take milliseconds) a download may stall (connect, headers, or between body bytes); default 300. */
  timeout: "FSSPEC_TS_PACKAGE_TIMEOUT",
} as const;

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;
const DEFAULT_TIMEOUT_MS = 300_000;
/** Downloads a package runs at once unless told otherwise. */
export const DEFAULT_PACKAGE_CONCURRENCY = 4;

/**
 * Makes the progress callback of one download (`progress` option): given the file's name, a
 * `ProgressCallback` (with an optional `stop` called when it ends), or undefined for none.
 */
export type ProgressFactory = (fileName: string) => (ProgressCallback & { stop?(): void }) | undefined;

/** Options of `Package` (docs/packages.md). */
export interface PackageOptions {
  /** The filesystem the root lives on (the root is then a path in it); by default from the root's URL. */
  fs?: AbstractFileSystem;
  /**
   * Options for the root's filesystem, as `urlToFs` takes them (keyed by protocol for chains); default
   * none.
   */
  fsOptions?: Record<string, unknown>;
  /** Cache files locally: on by default for every non-local root, off for local paths. */
  cache?: boolean;
  /**
   * Options of the whole-file cache (cacheStorage, expiryMs, sameNames, cacheMapper, checkFiles...);
   * defaults: `cacheStorage` `Package.defaultCache()`, `expiryMs` one year.
   */
  cacheOptions?: Partial<WholeFileCacheOptions>;
  /**
   * hf:// roots: keep files in the Hugging Face Hub's own cache, shared with huggingface_hub
   * (default true; an object sets its options); `false` uses the whole-file cache and `cacheOptions`.
   */
  hfCache?: boolean | Omit<HubCacheOptions, "fs" | "targetProtocol" | "targetOptions">;
  /** A byte progress bar per download: true, false, or your own; default: when stderr is a terminal. */
  progress?: boolean | ProgressFactory;
  /** Milliseconds a download may stall before ETIMEDOUT (default: FSSPEC_TS_PACKAGE_TIMEOUT seconds, else 300,000). */
  timeoutMs?: number;
  /**
   * Local roots only: refuse (EACCES) a path whose real path, symlinks resolved, leaves the
   * root. Default false: symlinks inside the root are followed wherever they point.
   */
  confineSymlinks?: boolean;
  /**
   * Downloads this package's cache runs at once (default 4), whoever asks: prefetch, resolve and
   * open share the slots (the cache layer's `downloadConcurrency`).
   */
  concurrency?: number;
  /** Integrity pins: the sha256 each of these files must have, `{ "fcn.mdlus": { sha256: "..." } }`. */
  files?: Record<string, FilePin>;
  /**
   * A manifest of pins in the package, in `sha256sum` format: its path in the package, or true
   * for `SHA256SUMS`. It is read through the cache once per Package (pinned itself when `files`
   * names it). Default: none.
   */
  manifest?: string | boolean;
}

export interface PrefetchOptions extends SignalOptions {
  /** Files of this call fetched at once (default, and at most, the package's `concurrency`). */
  concurrency?: number;
  /**
   * Where the aggregate progress goes (default stderr): a bar on a terminal, one summary line
   * otherwise. The package's `progress: false` turns it off; a ProgressFactory gets each file.
   */
  progressStream?: ProgressStream;
}

export interface ExtractOptions extends SignalOptions {
  /** zip or tar (plain or gzip); default: from the archive's first bytes (and a `.zip` name). */
  format?: ArchiveFormat;
}

/** A file of the package as `list` reports it. */
export interface PackageFile {
  /** Its path inside the package. */
  path: string;
  /** Bytes, when known. */
  size: number | null;
  /** Whether a valid copy is in the cache (local packages: always true). */
  cached: boolean;
  /** Its pin, if it has one. */
  sha256?: string;
}

/** What `verify` found for one pinned file. */
export interface VerifiedFile {
  /** The path inside the package. */
  path: string;
  /** ok: the bytes match the pin; mismatch: they do not; missing: not cached (not there, for local packages). */
  status: "ok" | "mismatch" | "missing";
  /** The sha256 the pin says. */
  expected: string;
  /** The sha256 the cached bytes have (none when missing). */
  actual?: string;
  /** Where the file is on disk, when it is there. */
  localPath?: string;
}

const PACKAGE_OPTIONS = optionSpec<PackageOptions>({
  fs: isFileSystem,
  fsOptions: isRecord,
  cache: isBoolean,
  cacheOptions: isRecord,
  progress: either(isBoolean, isFunction),
  timeoutMs: isPositiveNumber,
  confineSymlinks: isBoolean,
  hfCache: either(isBoolean, isRecord),
  concurrency: isPositiveInteger,
  files: isRecord,
  manifest: either(isBoolean, isNonEmptyString),
});
const PREFETCH_OPTIONS = optionSpec<PrefetchOptions>({ signal: isSignal, concurrency: isPositiveInteger, progressStream: hasMethods("write") });
const EXTRACT_OPTIONS = optionSpec<ExtractOptions>({ signal: isSignal, format: oneOf("zip", "tar") });
const SIGNAL_ONLY = optionSpec<SignalOptions>({ signal: isSignal });

interface PackageState {
  /** Where files are read from: the cache layer, or the root's own filesystem. */
  fs: AbstractFileSystem;
  rootPath: string;
  cache: WholeFileCacheFileSystem | HubCacheFileSystem | undefined;
  confinement: RealPathConfinement | undefined;
}

/** A file of the package located: its path inside the package and in the root's filesystem. */
interface Located {
  state: PackageState;
  inner: string;
  full: string;
}

/**
 * A folder of checkpoint files at a URL, a chained URL or a local path, seen through a whole-file cache
 * (filecache) for remote roots: `resolve(path)` downloads once and gives a local path, `open` an opened
 * file. Paths are joined to the root as URL paths and never leave it (EACCES); a control character is
 * EINVAL. See docs/packages.md.
 */
export class Package {
  /** `~/.cache/fsspec-ts`, or FSSPEC_TS_CACHE, or FSSPEC_TS_MODEL_CACHE (in that order of strength), joined with `sub`. */
  static defaultCache(sub = ""): string {
    const base = process.env[PACKAGE_ENV.modelCache] || process.env[PACKAGE_ENV.cache] || posix.join(homedir(), ".cache", "fsspec-ts");
    return sub ? posix.join(base, sub) : base;
  }

  /** Milliseconds: FSSPEC_TS_PACKAGE_TIMEOUT (seconds) x 1000, or 300,000. */
  static defaultTimeoutMs(): number {
    const raw = process.env[PACKAGE_ENV.timeout];
    const n = raw === undefined ? NaN : Number(raw);
    return Number.isFinite(n) && n > 0 ? n * 1000 : DEFAULT_TIMEOUT_MS;
  }

  /** The root as given (a URL, a chain or a local path). */
  readonly root: string;
  private readonly options: PackageOptions;
  private state: Promise<PackageState> | undefined;
  /** Pins of the `files` option (checked at construction). */
  private readonly optionPins: Pins;
  /** Every pin, the manifest's included; kept once loaded (a failed load is tried again). */
  private pinsLoaded: Promise<Pins> | undefined;
  /** Local packages: digests checked, per path, for the size and mtime the file had. */
  private readonly verifiedLocal = new Map<string, { size: number | null; mtime: number | undefined; sha256: string }>();
  /** A package made by `sub`: its state is its parent's, rooted deeper. */
  private derive: (() => Promise<PackageState>) | undefined;
  /** A package made by `sub`: its pins are its parent's below its root. */
  private inheritedPins: (() => Promise<Pins>) | undefined;

  constructor(root: string, options: PackageOptions = {}) {
    if (typeof root !== "string" || root === "") throw FsError.einval("a package needs a root (a URL or a path)");
    checkOptions("Package", options, PACKAGE_OPTIONS, undefined, root);
    this.root = root;
    this.options = options;
    this.optionPins = pinsFromOption(options.files);
  }

  /** Root and options as printed: credentials in the root URL, fsOptions and cacheOptions as `***`. */
  private printed(): Record<string, unknown> {
    return { root: redactUrl(this.root), ...redactOptions(this.options) };
  }

  /**
   * How `util.inspect` and `console.log` show the package: the root without credentials, the options
   * with secrets as `***`.
   */
  [inspect.custom](depth: number, options: InspectOptions, show?: typeof inspect): string {
    return printRedacted("Package", this.printed(), depth, options, show);
  }

  /** `Package { root, options }` with credentials redacted, as `console.log` shows it. */
  toString(): string {
    return printRedacted("Package", this.printed());
  }

  /**
   * Milliseconds a download may stall before ETIMEDOUT: the `timeoutMs` option, else
   * `FSSPEC_TS_PACKAGE_TIMEOUT` (seconds) x 1000, else 300,000.
   */
  get timeoutMs(): number {
    return this.options.timeoutMs ?? Package.defaultTimeoutMs();
  }

  /** The root's filesystem (with the cache layer when caching) and the root's path in it. */
  async filesystem(): Promise<{ fs: AbstractFileSystem; path: string }> {
    const s = await this.setup();
    return { fs: s.fs, path: s.rootPath };
  }

  private setup(): Promise<PackageState> {
    this.state ??= this.derive ? this.derive() : this.build();
    return this.state;
  }

  /**
   * The directory this package's files are cached in (Earth2Studio's `package.cache`): the
   * Hugging Face cache for an `hf://` root, else the writable `cacheStorage` (the last of a
   * list), by default `Package.defaultCache()`; also for a root that is read in place.
   */
  get cache(): string {
    return cacheDirectory(this.root, this.options, Package.defaultCache());
  }

  /**
   * The package rooted at `path` inside this one (Earth2Studio's models set `package.root =
   * join(root, "sfno_73ch_small")`; here `pkg.sub("sfno_73ch_small")`): the same options, and
   * once used the same filesystem and cache as this one; the pins of files below `path`. `path` is contained like every path of
   * a package (EACCES when it leaves the root); with `confineSymlinks`, the deeper root's real
   * path must stay inside this one's, and the new package's paths inside its own.
   */
  sub(path: string): Package {
    const inner = this.innerPath(path);
    // Pins are keyed by paths in this package: the sub package takes those below its root, rebased.
    const { files: _files, manifest: _manifest, ...options } = this.options;
    const child = new Package(joinRoot(this.root, inner), options);
    child.inheritedPins = async () => pinsBelow(await this.pins(), inner);
    child.derive = async () => {
      const state = await this.setup();
      const rootPath = inner === "" ? state.rootPath : joinPath(state.rootPath, inner);
      await state.confinement?.check(rootPath);
      return { ...state, rootPath, confinement: state.confinement?.at(rootPath) };
    };
    return child;
  }

  /** `path` as a path inside the root ("" for the root itself): EINVAL when empty, EACCES when it leaves the root. */
  private innerPath(path: string): string {
    checkPath("Package", path);
    if (path === "") throw FsError.einval("a file path inside the package is needed", this.root);
    try {
      return resolveInside("", path);
    } catch (err) {
      if (!isFsError(err, "EACCES")) throw err;
      throw new FsError("EACCES", "path leaves the package root", { path, cause: err });
    }
  }

  private async build(): Promise<PackageState> {
    let target: AbstractFileSystem;
    let rootPath: string;
    if (this.options.fs) {
      target = this.options.fs;
      rootPath = target.normalizePath(this.root);
    } else {
      ({ fs: target, path: rootPath } = await urlToFs(this.root, await this.networkOptions()));
    }
    const local = target instanceof LocalFileSystem;
    let confinement: RealPathConfinement | undefined;
    if (this.options.confineSymlinks) {
      if (!(target instanceof LocalFileSystem)) throw FsError.einval("confineSymlinks needs a package root on local disk", redactUrl(this.root));
      confinement = new RealPathConfinement(target, rootPath);
    }
    if (!(this.options.cache ?? !local)) return { fs: target, rootPath, cache: undefined, confinement };
    const hub = this.hubCache(target);
    if (hub) return { fs: hub, rootPath, cache: hub, confinement };
    const cache = new WholeFileCacheFileSystem({
      cacheStorage: Package.defaultCache(),
      expiryMs: ONE_YEAR_MS,
      downloadConcurrency: this.options.concurrency ?? DEFAULT_PACKAGE_CONCURRENCY,
      ...this.options.cacheOptions,
      fs: target,
      skipInstanceCache: true,
    });
    return { fs: cache, rootPath, cache, confinement };
  }

  /** hf:// roots: the Hub's own cache layer, unless `hfCache: false` (see docs/packages.md). */
  private hubCache(target: AbstractFileSystem): HubCacheFileSystem | undefined {
    const option = this.options.hfCache ?? true;
    if (option === false || !isHubCacheTarget(target)) return undefined;
    const offline = this.options.cacheOptions?.offline;
    return new HubCacheFileSystem({
      downloadConcurrency: this.options.concurrency ?? DEFAULT_PACKAGE_CONCURRENCY,
      ...(offline === undefined ? {} : { offline }),
      ...(option === true ? {} : option),
      fs: target,
      skipInstanceCache: true,
    });
  }

  /**
   * The stall timeout goes to the layers of the root's URL that take one (`timeout` and
   * `bodyTimeout`, in milliseconds: http, hf, ngc) unless the caller set one.
   */
  private async networkOptions(): Promise<Record<string, unknown>> {
    const ms = this.timeoutMs;
    const options: Record<string, unknown> = { ...this.options.fsOptions };
    for (const part of splitChain(this.root)) {
      const [protocol] = splitProtocol(part);
      if (!protocol) continue;
      const accepted = (await getFilesystemClass(protocol)).acceptedOptions;
      if (accepted.timeout === undefined || accepted.bodyTimeout === undefined) continue;
      const own = (options[protocol] ?? {}) as Record<string, unknown>;
      options[protocol] = { timeout: ms, bodyTimeout: ms, ...own };
    }
    return options;
  }

  /** The full path of `path` in the root's filesystem; paths never leave the root (EACCES). */
  private async locate(path: string): Promise<Located> {
    const inner = this.innerPath(path);
    const state = await this.setup();
    return this.located(state, inner);
  }

  private async located(state: PackageState, inner: string): Promise<Located> {
    const full = inner === "" ? state.rootPath : joinPath(state.rootPath, inner);
    await state.confinement?.check(full);
    return { state, inner, full };
  }

  /** The manifest's path inside the package, if the package has one. */
  private get manifestKey(): string | undefined {
    const m = this.options.manifest;
    if (m === undefined || m === false) return undefined;
    return pinKey(m === true ? DEFAULT_MANIFEST : m, "the manifest option");
  }

  /**
   * Every pin: the `files` option's and the manifest's (read once per Package, through the
   * cache, checked against its own pin when `files` has one).
   */
  async pins(): Promise<ReadonlyMap<string, string>> {
    const key = this.manifestKey;
    if (key === undefined && !this.inheritedPins) return this.optionPins;
    const load = this.inheritedPins ?? (() => this.loadManifest(key!));
    this.pinsLoaded ??= load().catch((err: unknown) => {
      this.pinsLoaded = undefined;
      throw err;
    });
    return this.pinsLoaded;
  }

  private async loadManifest(key: string): Promise<Pins> {
    const where = await this.locate(key);
    await this.fetchVerified(where, this.optionPins.get(key), undefined, undefined, false);
    const text = new TextDecoder().decode(await where.state.fs.catFile(where.full));
    return mergePins(this.optionPins, parseManifest(text, key), key);
  }

  /** The pin of a file: the manifest itself is pinned by the `files` option alone. */
  private async pinOf(inner: string): Promise<string | undefined> {
    if (inner === this.manifestKey) return this.optionPins.get(inner);
    return (await this.pins()).get(inner);
  }

  /**
   * A local path of the located file, its bytes checked against `pin`: from the cache
   * (downloaded first if needed, EIO "checksum mismatch" for a download that differs, which is
   * never cached), or the local package's own file. Without `localPathNeeded` the file is only
   * made ready (cache storage need not be on the local disk then).
   */
  private async fetchVerified(
    where: Located, pin: string | undefined, callback: ProgressCallback | undefined, signal?: AbortSignal, localPathNeeded = true, info?: FileInfo,
  ): Promise<string> {
    const { state, full } = where;
    if (!state.cache) {
      if (!(state.fs instanceof LocalFileSystem)) {
        throw FsError.enotsup(`resolve needs a local file: enable the cache for '${this.root}'`, full);
      }
      const info = await state.fs.info(full, { signal }).catch((err: unknown) => {
        if (isFsError(err, "ENOENT")) throw FsError.enoent(full, "no such file in the package");
        throw err;
      });
      if (info.type !== "file") throw FsError.enoent(full, "no such file in the package");
      if (pin !== undefined) {
        const actual = await this.localDigest(state.fs, full, info, false, signal);
        if (actual !== pin) throw checksumMismatch(full, actual, pin, "the file");
      }
      return full;
    }
    try {
      const fetch = info ? { callback, sha256: pin, signal, info } : { callback, sha256: pin, signal };
      // The Hugging Face cache is on the local disk: its snapshot path is always at hand.
      if (localPathNeeded || state.cache instanceof HubCacheFileSystem) return await state.cache.localPath(full, fetch);
      await state.cache.ensureCached(state.cache.normalizePath(full), fetch);
      return full;
    } catch (err) {
      throw this.explain(err, full);
    }
  }

  /** A local package file's sha256, remembered for the size and mtime it had (`rehash`: read anyway). */
  private async localDigest(fs: AbstractFileSystem, full: string, info: FileInfo, rehash: boolean, signal?: AbortSignal): Promise<string> {
    const mtime = info.mtime instanceof Date ? info.mtime.getTime() : undefined;
    const known = this.verifiedLocal.get(full);
    if (!rehash && known && known.size === info.size && known.mtime === mtime) return known.sha256;
    const sha256 = await contentSha256(fs, full, signal);
    this.verifiedLocal.set(full, { size: info.size, mtime, sha256 });
    return sha256;
  }

  /** ETIMEDOUT from a stalled download names the variable that sets the limit. */
  private explain(err: unknown, path: string): unknown {
    if (!isFsError(err, "ETIMEDOUT") || err.message.includes(PACKAGE_ENV.timeout)) return err;
    return new FsError(
      "ETIMEDOUT",
      `download stalled for ${this.timeoutMs} ms; set ${PACKAGE_ENV.timeout} (seconds) or the timeoutMs option to wait longer`,
      { path, cause: err },
    );
  }

  private progressFor(path: string): (ProgressCallback & { stop?(): void }) | undefined {
    const p = this.options.progress;
    // Redacted before the basename is cut: a query token would otherwise survive as `f.bin?sig=...`.
    const name = basename(redactUrl(path));
    if (typeof p === "function") return p(name);
    return progressBar(`Downloading ${name}`, p ?? Boolean(process.stderr.isTTY));
  }

  /**
   * A local file path for `path` (joined to the root as a URL path): downloaded into the cache
   * first if needed, with a progress bar when bytes actually move. Local packages return the
   * file's own path.
   */
  async resolve(path: string): Promise<string> {
    const where = await this.locate(path);
    const pin = await this.pinOf(where.inner);
    const bar = where.state.cache ? this.progressFor(where.full) : undefined;
    try {
      return await this.fetchVerified(where, pin, bar);
    } finally {
      bar?.stop?.();
    }
  }

  /**
   * Fetch several files in parallel (at most `concurrency` at once, default and at most the
   * package's) and hand back their local paths in order. `paths` are package paths or globs
   * (`"*.mdlus"`, `"**"`: each expands to the files it matches, sorted); without any, the
   * pinned files when the package has pins, else every file. Each file is fetched as `resolve`
   * does (atomic, verified, shared with other callers and processes); a `resolve` of a file
   * being prefetched waits for that download. Local packages: the files are checked (pins
   * too) and their own paths returned; nothing is copied.
   */
  async prefetch(paths?: string | readonly string[], options: PrefetchOptions = {}): Promise<string[]> {
    if (paths !== undefined) checkPaths("prefetch", paths, "paths");
    checkOptions("prefetch", options, PREFETCH_OPTIONS, undefined, this.root);
    const n = options.concurrency;
    const state = await this.setup();
    const wanted = await this.expand(state, paths, options.signal);
    const unique = [...new Map(wanted.map((w) => [w.full, w])).values()];
    const limit = state.cache?.downloadLimit ?? this.options.concurrency ?? DEFAULT_PACKAGE_CONCURRENCY;
    const width = Math.min(n ?? limit, limit);
    const perFile = typeof this.options.progress === "function";
    const batch = state.cache && !perFile && this.options.progress !== false
      ? batchProgress("prefetch", unique.length, options.progressStream ?? process.stderr)
      : undefined;
    // A batch faster than the renderer's first import would otherwise end with nothing drawn.
    await batch?.ready;
    let fetched: string[];
    try {
      // An abort while the infos come stops the display too.
      const infos = await this.infosAhead(state, unique, options.signal);
      fetched = (await mapBounded(
        unique,
        async (where, _i, signal) => {
          const pin = await this.pinOf(where.inner);
          const item = batch?.item();
          const bar = perFile && state.cache ? this.progressFor(where.full) : undefined;
          try {
            const local = await this.fetchVerified(where, pin, item?.callback ?? bar, signal, true, infos.get(where.full));
            item?.done();
            return local;
          } finally {
            bar?.stop?.();
          }
        },
        { concurrency: width, signal: options.signal },
      )) as string[];
    } catch (err) {
      batch?.stop("failed");
      throw err;
    }
    batch?.stop();
    const local = new Map(unique.map((w, i) => [w.full, fetched[i]!]));
    return wanted.map((w) => local.get(w.full)!);
  }

  /**
   * The target's infos of the files a prefetch still has to download, asked for all at once (at
   * the target's concurrency): their round trips overlap instead of coming one per download, and
   * each download starts from its file's (pinned to that version). Only for targets whose
   * downloads start from a given info (HTTP): elsewhere it would be a request more a file. Files
   * already cached get no request; offline, the Hugging Face cache layout and a failed lookup get
   * none either (the download then asks for itself and reports its own error).
   */
  private async infosAhead(state: PackageState, files: readonly Located[], signal?: AbortSignal): Promise<Map<string, FileInfo>> {
    const out = new Map<string, FileInfo>();
    const cache = state.cache;
    if (!(cache instanceof WholeFileCacheFileSystem) || !cache.target.downloadsFromGivenInfo || cache.offline) return out;
    await mapBounded(
      files,
      async ({ full }) => {
        if (await cache.findCached(full, { signal })) return;
        const info = await cache.target.info(cache.normalizePath(full), { signal }).catch(() => undefined);
        if (info?.type === "file") out.set(full, info);
      },
      { concurrency: cache.target.concurrency, signal },
    );
    return out;
  }

  /** Package paths and globs as located files, in order; a glob's matches sorted, files only. */
  private async expand(state: PackageState, paths: string | readonly string[] | undefined, signal?: AbortSignal): Promise<Located[]> {
    if (paths === undefined) {
      const pins = await this.pins();
      return pins.size > 0 ? Promise.all([...pins.keys()].sort().map((inner) => this.located(state, inner))) : this.expand(state, "**", signal);
    }
    const out: Located[] = [];
    for (const raw of typeof paths === "string" ? [paths] : paths) {
      const first = await this.locate(raw);
      if (!hasMagic(first.inner)) {
        out.push(first);
        continue;
      }
      const found = await state.fs.expandInfos(first.full, { signal }).catch((err: unknown) => {
        if (isFsError(err, "ENOENT")) throw FsError.enoent(raw, "no file of the package matches");
        throw err;
      });
      const files = [...found]
        .filter(([p, info]) => (info === undefined || info.type === "file") && isInside(p, state.rootPath) && p !== state.rootPath)
        .map(([p]) => p)
        .sort();
      if (files.length === 0) throw FsError.enoent(raw, "no file of the package matches");
      for (const p of files) out.push(await this.located(state, relativeTo(state.rootPath, p)));
    }
    return out;
  }

  /**
   * The folder an archive of the package (zip, tar, tar.gz) is extracted into, beside its cached
   * copy (in a Hugging Face cache, `<repo folder>/fsspec-ts-extracted/<blob>`): downloaded (and
   * checked against its pin) first if needed, extracted once (racing processes too), again when
   * the archive changes. A member that could land outside the folder
   * (`..`, an absolute name, a backslash, a link leading out) refuses the archive with EACCES,
   * and nothing is extracted; links to files of the archive become copies of them. Packages
   * without a cache are ENOTSUP (`cache: true` caches a local one).
   */
  async extract(path: string, options: ExtractOptions = {}): Promise<string> {
    checkOptions("extract", options, EXTRACT_OPTIONS, undefined, this.root);
    const where = await this.locate(path);
    const { state, full } = where;
    if (!state.cache) throw FsError.enotsup(`extract needs the cache: pass cache: true for '${this.root}'`, full);
    const pin = await this.pinOf(where.inner);
    const bar = this.progressFor(full);
    try {
      return await state.cache.ensureExtracted(state.cache.normalizePath(full), {
        callback: bar,
        sha256: pin,
        signal: options.signal,
        extract: async (job: ExtractJob) => void (await extractArchive({ ...job, format: options.format })),
      });
    } catch (err) {
      throw this.explain(err, full);
    } finally {
      bar?.stop?.();
    }
  }

  /** Deprecated: use `resolve`. */
  async get(path: string): Promise<string> {
    process.emitWarning("Package.get() is deprecated; use Package.resolve()", { type: "DeprecationWarning", code: "FSSPEC_TS_PACKAGE_GET" });
    return this.resolve(path);
  }

  /** An opened file of the package (read from the cache for remote packages). */
  open(path: string, mode: TextMode, options?: FileOpenOptions): Promise<TextFile>;
  open(path: string, mode?: "rb", options?: FileOpenOptions): Promise<BufferedFile>;
  async open(path: string, mode: "rb" | TextMode = "rb", options: FileOpenOptions = {}): Promise<BufferedFile | TextFile> {
    if (mode !== "rb" && mode !== "r" && mode !== "rt") throw FsError.einval(`packages are read-only; mode '${String(mode)}' is not allowed`, this.root);
    const where = await this.locate(path);
    const { state, full } = where;
    const pin = await this.pinOf(where.inner);
    const bar = state.cache ? this.progressFor(full) : undefined;
    try {
      // A pinned file is checked first; the open then reads the checked copy.
      if (pin !== undefined) await this.fetchVerified(where, pin, bar, options.signal, false);
      return await state.fs.open(full, mode as OpenMode, { ...options, ...(bar ? { callback: bar } : {}) });
    } catch (err) {
      throw this.explain(err, full);
    } finally {
      bar?.stop?.();
    }
  }

  /** Whether `path` exists in the package (asks the root's filesystem, or the cache when offline). */
  async exists(path: string): Promise<boolean> {
    const { state, full } = await this.locate(path);
    return state.fs.exists(full);
  }

  /**
   * The package's files (as its filesystem lists them; offline, what is cached) and its pinned
   * files, sorted by path, with sizes, whether each is cached, and pins. Downloads nothing but
   * the manifest.
   */
  async list(options: SignalOptions = {}): Promise<PackageFile[]> {
    checkOptions("list", options, SIGNAL_ONLY, undefined, this.root);
    const state = await this.setup();
    const pins = await this.pins();
    const found = await state.fs.find(state.rootPath, { detail: true, signal: options.signal }).catch((err: unknown) => {
      // A root that cannot be listed (HTTP without indexes) still has its pinned files.
      if (isFsError(err, "ENOENT") && pins.size > 0) return {} as Record<string, FileInfo>;
      throw err;
    });
    const sizes = new Map<string, number | null>();
    for (const [p, info] of Object.entries(found)) {
      if (info.type === "file" && isInside(p, state.rootPath) && p !== state.rootPath) sizes.set(relativeTo(state.rootPath, p), info.size);
    }
    for (const inner of pins.keys()) if (!sizes.has(inner)) sizes.set(inner, null);
    const out: PackageFile[] = [];
    for (const inner of [...sizes.keys()].sort()) {
      const where = await this.located(state, inner);
      const cached = !state.cache || (await this.cachedCopy(state.cache, where.full, options.signal)) !== undefined;
      const sha256 = pins.get(inner);
      out.push({ path: inner, size: sizes.get(inner)!, cached, ...(sha256 ? { sha256 } : {}) });
    }
    return out;
  }

  /** Whether a valid copy of `full` is in the cache (never downloads). */
  private async cachedCopy(cache: WholeFileCacheFileSystem | HubCacheFileSystem, full: string, signal?: AbortSignal): Promise<string | undefined> {
    if (cache instanceof HubCacheFileSystem) return cache.findCached(full);
    const hit = await cache.findCached(full, { signal });
    return hit && hit.storage.pathOf(hit.fn);
  }

  /**
   * Check every pinned file against its pin, reading each one whole (however recently it was
   * checked); downloads nothing. Cached copies are checked for remote packages, the files
   * themselves for local ones.
   */
  async verify(options: SignalOptions = {}): Promise<VerifiedFile[]> {
    checkOptions("verify", options, SIGNAL_ONLY, undefined, this.root);
    const state = await this.setup();
    const pins = await this.pins();
    const out: VerifiedFile[] = [];
    for (const inner of [...pins.keys()].sort()) {
      const expected = pins.get(inner)!;
      const { full } = await this.located(state, inner);
      let actual: string | undefined;
      let localPath: string | undefined;
      if (state.cache instanceof HubCacheFileSystem) {
        localPath = await state.cache.findCached(full);
        if (localPath) actual = await state.cache.sha256Of(localPath, { rehash: true });
      } else if (state.cache) {
        const hit = await state.cache.cachedCopy(full);
        if (hit) {
          localPath = hit.storage.pathOf(hit.fn);
          actual = await state.cache.sha256Of(hit, full, { rehash: true });
        }
      } else {
        const info = await state.fs.info(full, options).catch((err: unknown) => {
          if (isFsError(err, "ENOENT")) return undefined;
          throw err;
        });
        if (info?.type === "file") {
          localPath = full;
          actual = await this.localDigest(state.fs, full, info, true, options.signal);
        }
      }
      const status = actual === undefined ? "missing" : actual === expected ? "ok" : "mismatch";
      out.push({ path: inner, status, expected, ...(actual ? { actual } : {}), ...(localPath ? { localPath } : {}) });
    }
    return out;
  }
}
