/**
 * A model package: a folder of checkpoint files somewhere (a URL or a local path) seen through
 * a whole-file cache, so `resolve(path)` hands back a local file and `open(path)` an opened one.
 */
import { homedir } from "node:os";
import { posix } from "node:path";
import { inspect, type InspectOptions } from "node:util";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { basename, joinPath, resolveInside, splitChain, splitProtocol } from "../core/paths.js";
import { printRedacted, redactOptions, redactUrl } from "../core/redact.js";
import type { ProgressCallback } from "../core/types.js";
import { getFilesystemClass } from "../core/registry.js";
import { urlToFs } from "../core/url-chain.js";
import { checkOptions, checkPath, either, isBoolean, isFileSystem, isFunction, isPositiveNumber, isRecord, optionSpec } from "../core/validate.js";
import { WholeFileCacheFileSystem, type WholeFileCacheOptions } from "../cached/filecache.js";
import { HubCacheFileSystem, isHubCacheTarget, type HubCacheOptions } from "../cached/hubcache.js";
import type { BufferedFile, FileOpenOptions, OpenMode, TextMode } from "../files/buffered-file.js";
import type { TextFile } from "../files/text-file.js";
import { LocalFileSystem } from "../implementations/local.js";
import { RealPathConfinement } from "../implementations/real-path-confinement.js";
import { progressBar } from "./progress.js";

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

export type ProgressFactory = (fileName: string) => (ProgressCallback & { stop?(): void }) | undefined;

export interface PackageOptions {
  /** The filesystem the root lives on (the root is then a path in it); by default from the root's URL. */
  fs?: AbstractFileSystem;
  /** Options for the root's filesystem, as `urlToFs` takes them (keyed by protocol for chains). */
  fsOptions?: Record<string, unknown>;
  /** Cache files locally: on by default for every non-local root, off for local paths. */
  cache?: boolean;
  /** Options of the whole-file cache (cacheStorage, expiryMs, sameNames, cacheMapper, checkFiles...). */
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
});

interface PackageState {
  /** Where files are read from: the cache layer, or the root's own filesystem. */
  fs: AbstractFileSystem;
  rootPath: string;
  cache: WholeFileCacheFileSystem | HubCacheFileSystem | undefined;
  confinement: RealPathConfinement | undefined;
}

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

  readonly root: string;
  private readonly options: PackageOptions;
  private state: Promise<PackageState> | undefined;

  constructor(root: string, options: PackageOptions = {}) {
    if (typeof root !== "string" || root === "") throw FsError.einval("a package needs a root (a URL or a path)");
    checkOptions("Package", options, PACKAGE_OPTIONS, undefined, root);
    this.root = root;
    this.options = options;
  }

  /** Root and options as printed: credentials in the root URL, fsOptions and cacheOptions as `***`. */
  private printed(): Record<string, unknown> {
    return { root: redactUrl(this.root), ...redactOptions(this.options) };
  }

  [inspect.custom](depth: number, options: InspectOptions, show?: typeof inspect): string {
    return printRedacted("Package", this.printed(), depth, options, show);
  }

  toString(): string {
    return printRedacted("Package", this.printed());
  }

  /** Milliseconds a download may stall: the `timeoutMs` option, else the default. */
  get timeoutMs(): number {
    return this.options.timeoutMs ?? Package.defaultTimeoutMs();
  }

  /** The root's filesystem (with the cache layer when caching) and the root's path in it. */
  async filesystem(): Promise<{ fs: AbstractFileSystem; path: string }> {
    const s = await this.setup();
    return { fs: s.fs, path: s.rootPath };
  }

  private setup(): Promise<PackageState> {
    this.state ??= this.build();
    return this.state;
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
  private async locate(path: string): Promise<{ state: PackageState; full: string }> {
    checkPath("Package", path);
    if (path === "") throw FsError.einval("a file path inside the package is needed", this.root);
    let inner: string;
    try {
      inner = resolveInside("", path);
    } catch (err) {
      if (!isFsError(err, "EACCES")) throw err;
      throw new FsError("EACCES", "path leaves the package root", { path, cause: err });
    }
    const state = await this.setup();
    const full = inner === "" ? state.rootPath : joinPath(state.rootPath, inner);
    await state.confinement?.check(full);
    return { state, full };
  }

  /** ETIMEDOUT from a stalled download names the variable that sets the limit. */
  private explain(err: unknown, path: string): unknown {
    if (!isFsError(err, "ETIMEDOUT")) return err;
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
    const { state, full } = await this.locate(path);
    if (!state.cache) {
      if (!(state.fs instanceof LocalFileSystem)) {
        throw FsError.enotsup(`resolve needs a local file: enable the cache for '${this.root}'`, full);
      }
      if (!(await state.fs.isFile(full))) throw FsError.enoent(full, "no such file in the package");
      return full;
    }
    const bar = this.progressFor(full);
    try {
      return await state.cache.localPath(full, { callback: bar });
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
    const { state, full } = await this.locate(path);
    const bar = state.cache ? this.progressFor(full) : undefined;
    try {
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
}
