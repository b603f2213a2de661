/**
 * A view of another filesystem rooted at a path. Names go in relative to the root and come
 * back relative to it. A leading "/" means the view's root, and any path that could leave
 * the root under some layer's reading (`..`, `%2e%2e`, `%2f`, backslashes, NFKC lookalikes)
 * is refused with EACCES, whatever the backend; control characters are EINVAL. Symlinks inside
 * a local root are followed unless `confineSymlinks` is on.
 */
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import { joinPath, relativeTo, resolveInside, trimTrailingSlashes } from "../core/paths.js";
import { SIGNAL_OPTIONS } from "../core/types.js";
import { LocalFileSystem } from "./local.js";
import { RealPathConfinement } from "./real-path-confinement.js";
import type {
  CatRangesOptions,
  FileInfo,
  FileSystemOptions,
  FindOptions,
  LsOptions,
  PipeMode,
  SignalOptions,
  SignOptions,
} from "../core/types.js";
import { checkPaths, isBoolean, isFileSystem, isRecord, isString, optionSpec, type OptionSpec } from "../core/validate.js";
import { BufferedFile, FILE_OPEN_OPTIONS, parseMode, type FileOpenOptions, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { TextFile } from "../files/text-file.js";

export interface DirFileSystemOptions extends FileSystemOptions {
  /** The root of the view, as the target names it. */
  path: string;
  /** The filesystem beneath (or give `targetProtocol` / `targetOptions`). */
  fs?: AbstractFileSystem;
  /** With `filesystem()` or a URL chain instead of `fs`: the protocol of the filesystem beneath. */
  targetProtocol?: string;
  /** The options of the filesystem built from `targetProtocol` (default none). */
  targetOptions?: FileSystemOptions;
  /**
   * Local disk only: refuse (EACCES) any path whose real path, symlinks resolved, leaves the
   * root, and leave links pointing out of listings. Default false: symlinks are followed.
   */
  confineSymlinks?: boolean;
}

/**
 * dir: a view of another filesystem rooted at `path` (docs/backends/dir.md). Paths are relative to the
 * root (a leading "/" is the root); any path that could leave it under some layer's reading (`..`,
 * `%2e%2e`, `%2f`, backslashes, NFKC lookalikes) is EACCES, control characters EINVAL.
 */
export class DirFileSystem extends AbstractFileSystem {
  static override protocols = ["dir"] as const;
  static override rootMarker = "";
  static override ownOptions = optionSpec<DirFileSystemOptions, FileSystemOptions>({
    path: isString,
    fs: isFileSystem,
    targetProtocol: isString,
    targetOptions: isRecord,
    confineSymlinks: isBoolean,
  });

  /** `dir::memory://data` roots the view at the inner path. */
  static override chainOptions(
    inner: { fs: AbstractFileSystem; path: string },
    outerPath: string,
    options: Record<string, unknown>,
  ): {
    /** The options to construct this class with. */
    options: Record<string, unknown>;
    /** The path on the new instance. */
    path: string;
  } {
    return { options: { ...options, fs: inner.fs, path: inner.path }, path: outerPath || "/" };
  }

  static override stripProtocol(path: string): string {
    let p = path;
    if (/^dir:\/\//i.test(p)) p = p.slice(6);
    else if (/^dir::/i.test(p)) p = p.slice(5);
    return trimTrailingSlashes(p).replace(/^\/+/, "");
  }

  declare readonly options: Readonly<DirFileSystemOptions>;
  /** The filesystem beneath. */
  readonly target: AbstractFileSystem;
  /** The root of the view, as the target names it. */
  readonly root: string;
  private readonly confinement: RealPathConfinement | undefined;

  constructor(options: DirFileSystemOptions) {
    super(options);
    if (!options?.fs) throw FsError.einval("dir needs a target filesystem: pass fs, or targetProtocol through filesystem()");
    if (typeof options.path !== "string") throw FsError.einval("dir needs a root path");
    this.target = options.fs;
    this.root = options.fs.normalizePath(options.path);
    if (options.confineSymlinks) {
      if (!(options.fs instanceof LocalFileSystem)) throw FsError.einval("confineSymlinks needs a target on local disk (file://)");
      this.confinement = new RealPathConfinement(options.fs, this.root);
    }
  }

  /** Calls are passed to the target, so the view takes the target's own options too. */
  override callOptionsOf(method: string): OptionSpec | undefined {
    return this.target.callOptionsOf(method);
  }

  /** The view's own name for a path: relative, contained, "" for the root. */
  override normalizePath(path: string): string {
    const rel = super.normalizePath(path);
    return resolveInside("", rel);
  }

  /** The target's name for a (normalised) view path. */
  toTarget(path: string): string {
    return path === "" ? this.root : joinPath(this.root, path);
  }

  /** The view's name for a target path. */
  fromTarget(name: string): string {
    return relativeTo(this.root, trimTrailingSlashes(name));
  }

  /** The target's name for a view path, once confinement (if on) has allowed it. */
  private async allowed(path: string): Promise<string> {
    const target = this.toTarget(path);
    if (this.confinement) {
      try {
        await this.confinement.check(target);
      } catch (err) {
        throw err instanceof FsError ? err.withPath(path) : err;
      }
    }
    return target;
  }

  /** Run a target call, reporting its errors with the view's path instead of the target's. */
  private async guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
    await this.allowed(path);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FsError) throw err.withPath(err.path === undefined ? undefined : this.fromTarget(err.path));
      throw err;
    }
  }

  private mapInfo(info: FileInfo): FileInfo {
    return { ...info, name: this.fromTarget(info.name) };
  }

  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    const refresh = (options as LsOptions).refresh;
    let listing = await this.guard(path, () => this.target.ls(this.toTarget(path), { signal: options.signal, refresh, detail: true }));
    const confinement = this.confinement;
    if (confinement) {
      const shown = await Promise.all(listing.map((i) => confinement.allows(i)));
      listing = listing.filter((_, i) => shown[i]);
    }
    return listing.map((i) => this.mapInfo(i));
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    return this.mapInfo(await this.guard(path, () => this.target.info(this.toTarget(path), { signal: options.signal })));
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    return this.guard(path, () => this.target.catFile(this.toTarget(path), start, end, options));
  }

  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode, options: SignalOptions): Promise<void> {
    await this.guard(path, () => this.target.pipeFile(this.toTarget(path), data, { signal: options.signal, mode }));
  }

  protected override async _rmFile(path: string, options: SignalOptions): Promise<void> {
    await this.guard(path, () => this.target.rmFile(this.toTarget(path), { signal: options.signal }));
  }

  protected override async _mkdir(path: string, createParents: boolean, options: SignalOptions): Promise<void> {
    await this.guard(path, () => this.target.mkdir(this.toTarget(path), { signal: options.signal, createParents }));
  }

  protected override async _rmdir(path: string, options: SignalOptions): Promise<void> {
    if (path === "") throw FsError.einval("cannot remove the root of a dir view", path);
    await this.guard(path, () => this.target.rmdir(this.toTarget(path), { signal: options.signal }));
  }

  protected override async _cpFile(src: string, dst: string, options: SignalOptions): Promise<void> {
    await this.allowed(dst);
    await this.guard(src, () => this.target.cpFile(this.toTarget(src), this.toTarget(dst), { signal: options.signal }));
  }

  protected override async _touchExisting(path: string): Promise<void> {
    await this.guard(path, () => this.target.touch(this.toTarget(path), { truncate: false }));
  }

  /** The target's own (possibly faster) find, renamed; when confined, a walk of checked listings. */
  protected override async findInfos(path: string, options: FindOptions): Promise<Map<string, FileInfo>> {
    if (this.confinement) return super.findInfos(path, options);
    const { signal, maxDepth, withDirs, onError } = options;
    const found = await this.guard(path, () => this.target.find(this.toTarget(path), { signal, maxDepth, withDirs, onError, detail: true }));
    const out = new Map<string, FileInfo>();
    for (const info of Object.values(found)) {
      const mapped = this.mapInfo(info);
      if (mapped.name === "" && path === "") continue;
      out.set(mapped.name, mapped);
    }
    return out;
  }

  override async catRanges(
    paths: string | readonly string[],
    starts: number | null | ReadonlyArray<number | null>,
    ends: number | null | ReadonlyArray<number | null>,
    options: CatRangesOptions = {},
  ): Promise<Array<Uint8Array | Error>> {
    checkPaths("catRanges", paths, "paths");
    const mapped = typeof paths === "string" ? await this.allowed(this.normalizePath(paths)) : await Promise.all(paths.map((p) => this.allowed(this.normalizePath(p))));
    return this.target.catRanges(mapped, starts, ends, options);
  }

  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    this.checkCall("ukey", options, SIGNAL_OPTIONS);
    return this.target.ukey(await this.allowed(this.normalizePath(path)), options);
  }

  override async sign(path: string, options: SignOptions = {}): Promise<string> {
    return this.target.sign(await this.allowed(this.checkSign(path, options)), options);
  }

  override invalidateCache(path?: string): void {
    super.invalidateCache(path);
    this.target.invalidateCache(path === undefined ? undefined : this.toTarget(this.normalizePath(path)));
  }

  override open(path: string, mode: TextMode, options?: FileOpenOptions): Promise<TextFile>;
  override open(path: string, mode?: "rb" | "wb" | "ab" | "xb", options?: FileOpenOptions): Promise<BufferedFile>;
  override open(path: string, mode?: OpenMode, options?: FileOpenOptions): Promise<BufferedFile | TextFile>;
  override async open(path: string, mode: OpenMode = "rb", options: FileOpenOptions = {}): Promise<BufferedFile | TextFile> {
    const { kind, text } = parseMode(mode);
    const p = this.normalizePath(path);
    this.checkCall("open", options, FILE_OPEN_OPTIONS, p);
    const binary = `${kind}b` as "rb" | "wb" | "ab" | "xb";
    const raw = await this.guard(p, () =>
      this.target.open(this.toTarget(p), binary, {
        ...options,
        ...(this.inTransaction && kind !== "r" ? { autocommit: false } : {}),
      }),
    );
    if (kind !== "r") this.enlist(raw);
    return text ? new TextFile(raw, options.encoding ?? "utf8") : raw;
  }
}
