/**
 * The local disk through node:fs/promises, or through any module shaped like node:fs
 * (a memfs volume in tests). Whole-file writes and opened writers go to a temporary file
 * beside the target and are renamed into place, so a killed process never leaves half a file.
 * A write through a symlink lands on its target, and a rewritten file keeps its mode and owner.
 */
import * as nodeFs from "node:fs";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import * as nodePath from "node:path";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, throwIfAborted, toFsError } from "../core/errors.js";
import { mapBounded } from "../core/limiter.js";
import { normalizePosix, parentOf } from "../core/paths.js";
import { LS_OPTIONS, type FileInfo, type FileSystemOptions, type LsOptions, type PipeMode, type RmOptions, type SignalOptions } from "../core/types.js";
import { anyValue, isBoolean, optionSpec } from "../core/validate.js";
import type { SinkOptions, UploadSink } from "../files/upload-sink.js";
import { PositionedFileSink, type DownloadTarget } from "../files/byte-sink.js";
import { joinEntry, listingIo, type EntryKind, type ListingIo } from "./local/listing.js";

type FsPromises = typeof nodeFs.promises;
type FileHandle = nodeFs.promises.FileHandle;

/**
 * What LocalFileSystem needs of an injected `fs` module (node:fs and memfs both fit). node:fs
 * itself lists with synchronous calls, paced (see local/listing.ts); any other module,
 * `{ promises: fs.promises }` included, is used only through its promises.
 */
export interface NodeFsLike {
  /** The promise API (`fs.promises`) with the calls LocalFileSystem makes. */
  promises: Pick<
    FsPromises,
    "open" | "stat" | "lstat" | "readlink" | "readdir" | "mkdir" | "rmdir" | "unlink" | "rename" | "copyFile" | "link" | "utimes" | "rm"
  >;
}

/** Where a write lands and the file there now (whose mode and owner it keeps). */
interface WriteTarget {
  path: string;
  existing?: nodeFs.Stats;
}

export interface LocalFileSystemOptions extends FileSystemOptions {
  /** A node:fs-compatible module; defaults to node:fs. Tests pass a memfs volume. */
  fs?: NodeFsLike;
  /** Create missing parent directories on write (default true, like object stores). */
  autoMkdir?: boolean;
  /**
   * fsync written files before renaming them into place (survives power loss; slower). Default false.
   */
  fsync?: boolean;
}

const LOCAL_OPTIONS = optionSpec<LocalFileSystemOptions, FileSystemOptions>({ fs: anyValue, autoMkdir: isBoolean, fsync: isBoolean });

/** Temporaries are `.fsspec-tmp-` and 12 hex digits: short, so any name the filesystem allows can be written. */
const TEMP_PREFIX = ".fsspec-tmp-";
/** Links followed before a write gives up (ELOOP), as Linux does. */
const MAX_LINK_HOPS = 40;
/** Bytes per read when a write starts from an existing file's bytes (append, cpFile over a file). */
const COPY_CHUNK = 2 ** 20;
/** A whole-file write goes to disk in pieces this big, its signal checked between them. */
const WRITE_CHUNK = 8 * 2 ** 20;
/** Errors of chown/chmod on a temporary that mean "this filesystem or process cannot", not a failed write. */
const UNSETTABLE = new Set(["EPERM", "EINVAL", "ENOSYS", "ENOTSUP", "EOPNOTSUPP"]);
/** Parallel positioned reads: large reads are split so libuv's threads share them. */
const READ_SLICE = 2 ** 20;
const READ_PARALLEL = 4;

/**
 * The local disk (`file`, `local`) through node:fs, or any module shaped like it (`fs` option). Writes
 * go to a temporary file beside the target and are renamed into place, so a killed process never leaves
 * half a file. See docs/backends/file.md.
 */
export class LocalFileSystem extends AbstractFileSystem {
  static override protocols = ["file", "local"] as const;
  static override rootMarker = "/";
  static override ownOptions = LOCAL_OPTIONS;

  static override stripProtocol(path: string): string {
    let p = path;
    const m = /^(?:file|local):(?:\/\/)?/i.exec(p);
    if (m) {
      p = p.slice(m[0].length);
      // file:///abs keeps its slash; file://host/abs drops an empty or localhost host.
      if (m[0].endsWith("//") && !p.startsWith("/")) p = p.replace(/^localhost(?=\/)/, "");
      if (m[0].endsWith("//") && !p.startsWith("/")) p = `/${p}`;
    } else if (/^(?:file|local)::/i.test(p)) {
      p = p.slice(p.indexOf("::") + 2);
    }
    if (p === "~" || p.startsWith("~/")) p = homedir() + p.slice(1);
    if (process.platform === "win32") p = p.replace(/\\/g, "/");
    if (!p.startsWith("/") && !/^[a-zA-Z]:\//.test(p)) p = `${process.cwd().replace(/\\/g, "/")}/${p}`;
    return normalizePosix(p, true);
  }

  declare readonly options: Readonly<LocalFileSystemOptions>;
  /** The promise API of the `fs` module in use (node:fs by default). */
  readonly fs: NodeFsLike["promises"];
  private readonly listing: ListingIo;
  private readonly autoMkdir: boolean;
  private readonly fsyncWrites: boolean;

  constructor(options: LocalFileSystemOptions = {}) {
    super(options);
    this.fs = (options.fs ?? nodeFs).promises;
    this.listing = listingIo(options.fs);
    this.autoMkdir = options.autoMkdir ?? true;
    this.fsyncWrites = options.fsync ?? false;
  }

  /** Run an fs call, mapping its error to an FsError for `path`. */
  private async call<T>(path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toFsError(err, path);
    }
  }

  private async statInfo(path: string): Promise<FileInfo> {
    const own = (await this.call(path, () => this.fs.lstat(path))) as nodeFs.Stats;
    const target = own.isSymbolicLink() ? ((await this.fs.stat(path).catch(() => undefined)) as nodeFs.Stats | undefined) : undefined;
    return infoFromStats(path, own, target);
  }

  protected override async _info(path: string): Promise<FileInfo> {
    return this.statInfo(path);
  }

  /** Names alone need no types either: one readdir of names, unless a listings cache wants whole entries. */
  override ls(path: string, options: LsOptions & { detail: false }): Promise<string[]>;
  override ls(path: string, options?: LsOptions & { detail?: true }): Promise<FileInfo[]>;
  override ls(path: string, options?: LsOptions): Promise<FileInfo[] | string[]>;
  override async ls(path: string, options: LsOptions = {}): Promise<FileInfo[] | string[]> {
    this.checkCall("ls", options, LS_OPTIONS);
    if (options.detail !== false || this.dircache) return super.ls(path, options);
    const p = this.normalizePath(path);
    throwIfAborted(options.signal, p);
    const read = await this.readDir(p, () => this.listing.names(p, options.signal));
    return "self" in read ? [read.self.name] : read.dir.sort().map((n) => joinEntry(p, n));
  }

  /** `read` of the directory `path`; a file, a link to one or a dangling link is itself instead (ENOENT if nothing is there). */
  private async readDir<T>(path: string, read: () => Promise<T>): Promise<{ dir: T } | { self: FileInfo }> {
    try {
      return { dir: await read() };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOTDIR" || code === "ENOENT") return { self: await this.statInfo(path) };
      throw toFsError(err, path);
    }
  }

  /**
   * Entries from the directory itself; with `detail: false` (names and types are all the
   * caller needs: `find`, `glob`, `walk` without detail) only symlinks are stat'ed, to say
   * what they point at, and files carry `size: null`.
   */
  protected override async _ls(path: string, options: LsOptions = {}): Promise<FileInfo[]> {
    const read = await this.readDir(path, () => this.listing.entries(path, options.signal));
    if ("self" in read) return [read.self];
    const { names, notFiles } = read.dir;
    names.sort();
    if (options.detail !== false) return this.entryInfos(path, names, options.signal);
    const linkNames = [...notFiles].filter(([, kind]) => kind === "symlink").map(([name]) => name);
    const links = new Map((await this.entryInfos(path, linkNames, options.signal)).map((i) => [i.name, i]));
    const out: FileInfo[] = [];
    for (const name of names) {
      const kind = notFiles.size === 0 ? "file" : (notFiles.get(name) ?? "file");
      const entry = joinEntry(path, name);
      if (kind !== "symlink") out.push(lightInfo(entry, kind));
      else if (links.has(entry)) out.push(links.get(entry)!); // absent: removed while we listed
    }
    return out;
  }

  /** Infos of `names` in `dir`, in order, leaving out any removed while we listed. */
  private async entryInfos(dir: string, names: readonly string[], signal: AbortSignal | undefined): Promise<FileInfo[]> {
    if (names.length === 0) return [];
    let infos: Array<FileInfo | undefined>;
    try {
      infos = await this.listing.infos(names.map((n) => joinEntry(dir, n)), infoFromStats, signal);
    } catch (err) {
      throw toFsError(err, (err as { path?: string }).path ?? dir);
    }
    return infos.filter((i): i is FileInfo => i !== undefined);
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions = {}): Promise<Uint8Array> {
    const fh = await this.call(path, () => this.fs.open(path, "r"));
    try {
      const st = await this.call(path, () => fh.stat());
      if (st.isDirectory()) throw FsError.eisdir(path);
      const size = Number(st.size);
      const s = Math.min(start, size);
      const e = Math.min(end ?? size, size);
      return await this.readRange(fh, path, s, Math.max(s, e), options.signal);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Read [start, end) into one buffer, with a few positioned reads in flight for big ranges. */
  private async readRange(fh: FileHandle, path: string, start: number, end: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const length = end - start;
    const out = Buffer.allocUnsafe(length);
    const slice = Math.max(READ_SLICE, Math.ceil(length / READ_PARALLEL));
    const offsets: number[] = [];
    for (let off = 0; off < length; off += slice) offsets.push(off);
    let filledTotal = 0;
    await mapBounded(
      offsets,
      async (off) => {
        const want = Math.min(slice, length - off);
        let filled = 0;
        while (filled < want) {
          // Checked per read: an abort stops a large read within a slice, not at its end.
          throwIfAborted(signal, path);
          const { bytesRead } = await this.call(path, () => fh.read(out, off + filled, want - filled, start + off + filled));
          if (bytesRead === 0) break; // file shrank under us
          filled += bytesRead;
        }
        filledTotal += filled;
      },
      { concurrency: READ_PARALLEL },
    );
    if (filledTotal !== length) throw new FsError("EIO", `file changed size while reading`, { path });
    return out;
  }

  private tempPathFor(path: string): string {
    return `${parentOf(path)}/${TEMP_PREFIX}${randomBytes(6).toString("hex")}`.replace(/^\/\//, "/");
  }

  /**
   * Where a write to `path` lands: `path`, or the end of the chain of symlinks at `path` (a
   * dangling link's target is created), and the file there now. Directories (and links to
   * them) are EISDIR; with "create" anything at `path`, a link too, is EEXIST (as O_EXCL).
   */
  private async writeTarget(path: string, mode: PipeMode): Promise<WriteTarget> {
    let p = path;
    for (let hops = 0; ; hops++) {
      let st: nodeFs.Stats;
      try {
        st = (await this.fs.lstat(p)) as nodeFs.Stats;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOENT" || code === "ENOTDIR") return { path: p };
        throw toFsError(err, path);
      }
      if (!st.isSymbolicLink()) {
        if (st.isDirectory()) throw FsError.eisdir(path);
        if (mode === "create") throw FsError.eexist(path);
        // A rename over a device, FIFO or socket would replace the node itself (/dev/null as root).
        if (!st.isFile()) throw FsError.einval("not a regular file; refusing to replace it", path);
        return { path: p, existing: st };
      }
      if (mode === "create") throw FsError.eexist(path, "a symbolic link exists at this path");
      if (hops === MAX_LINK_HOPS) throw FsError.einval("too many levels of symbolic links", path);
      const link = String(await this.call(path, () => this.fs.readlink(p)));
      const target = process.platform === "win32" ? link.replace(/\\/g, "/") : link;
      // Not normalised: the OS resolves `..` from the link's real directory, as it would for open().
      p = nodePath.isAbsolute(target) ? target : `${parentOf(p)}/${target}`.replace(/^\/\//, "/");
    }
  }

  /**
   * A new temporary file beside `target.path`. Over an existing file it starts private and
   * takes the file's owner (where the process may: root) and mode before any byte is written,
   * so it is never readable by more users than the file it replaces; a new file gets Node's
   * default mode (0666 less the umask).
   */
  private async openTemp(target: WriteTarget, path: string): Promise<{ tmp: string; fh: FileHandle }> {
    const tmp = this.tempPathFor(target.path);
    const existing = target.existing;
    const fh = await this.withParent(target.path, () => this.fs.open(tmp, "wx", existing ? 0o600 : 0o666));
    if (!existing) return { tmp, fh };
    try {
      // chown first: it clears setuid/setgid bits, which chmod then restores.
      if (process.platform !== "win32") await fh.chown(existing.uid, existing.gid).catch(ignoreUnsettable);
      await fh.chmod(existing.mode & 0o7777).catch(ignoreUnsettable);
    } catch (err) {
      await this.dropTemp(fh, tmp);
      throw toFsError(err, path);
    }
    return { tmp, fh };
  }

  private async dropTemp(fh: FileHandle, tmp: string): Promise<void> {
    await fh.close().catch(() => undefined);
    await this.fs.unlink(tmp).catch(() => undefined);
  }

  /** Append the bytes of the file `src` to the open `fh` (an abort stops it between chunks). */
  private async copyInto(fh: FileHandle, src: string, path: string, signal?: AbortSignal): Promise<void> {
    const from = await this.call(src, () => this.fs.open(src, "r"));
    try {
      const buf = Buffer.allocUnsafe(COPY_CHUNK);
      for (;;) {
        throwIfAborted(signal, path);
        const { bytesRead } = await this.call(src, () => from.read(buf, 0, buf.byteLength, null));
        if (bytesRead === 0) return;
        await writeAll(fh, buf.subarray(0, bytesRead), path);
      }
    } finally {
      await from.close().catch(() => undefined);
    }
  }

  /**
   * Run `fn`, which creates something beside `path`; if the parent directory is missing and
   * autoMkdir is on, make it and run `fn` again. Trying first spares a mkdir on every write.
   */
  private async withParent<T>(path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT" || !this.autoMkdir) throw toFsError(err, path);
      const parent = parentOf(path);
      await this.call(parent, () => this.fs.mkdir(parent, { recursive: true }));
      return this.call(path, fn);
    }
  }

  /** Move a finished temporary file to `path`; with "create", never over an existing file. */
  private async publish(tmp: string, path: string, mode: PipeMode): Promise<void> {
    try {
      if (mode === "create") {
        try {
          await this.fs.link(tmp, path);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "EEXIST") await this.writeTarget(path, mode); // EISDIR or EEXIST, with its reason
          if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EXDEV") throw err;
          // No hard links here: check, then rename (a small race window, documented).
          if (await this.exists(path)) throw FsError.eexist(path);
          await this.fs.rename(tmp, path);
          return;
        }
        await this.fs.unlink(tmp).catch(() => undefined);
        return;
      }
      await this.fs.rename(tmp, path);
    } catch (err) {
      await this.fs.unlink(tmp).catch(() => undefined);
      throw toFsError(err, path);
    }
  }

  /** An abort stops the write between chunks and before the rename: the destination is left as it was. */
  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode, options: SignalOptions = {}): Promise<void> {
    // "create" links its temporary at `path`, which fails for anything there (a link too): no
    // lookup first; what was there is asked only when it fails (cache locks take this path).
    const target = mode === "create" ? { path } : await this.writeTarget(path, mode);
    const { tmp, fh } = await this.openTemp(target, path);
    try {
      await writeAll(fh, data, path, options.signal);
      if (this.fsyncWrites) await fh.sync();
      await fh.close();
      throwIfAborted(options.signal, path);
    } catch (err) {
      await this.dropTemp(fh, tmp);
      throw toFsError(err, path);
    }
    await this.publish(tmp, target.path, mode);
  }

  /** unlink first: a directory is told apart only when it fails (EISDIR on Linux, EPERM elsewhere), sparing a stat per delete. */
  protected override async _rmFile(path: string): Promise<void> {
    try {
      await this.fs.unlink(path);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === "EISDIR" || code === "EPERM" || code === "EACCES") && (await this.statInfo(path).catch(() => undefined))?.type === "directory") {
        throw FsError.eisdir(path);
      }
      throw toFsError(err, path);
    }
  }

  protected override async _mkdir(path: string, createParents: boolean): Promise<void> {
    const info = await this.statInfo(path).catch(() => undefined);
    if (info) throw FsError.eexist(path, info.type === "directory" ? undefined : "a file exists at this path");
    await this.call(path, () => this.fs.mkdir(path, { recursive: createParents }));
  }

  protected override async _rmdir(path: string): Promise<void> {
    await this.call(path, () => this.fs.rmdir(path));
  }

  /** A new destination is a copyFile (it gets the source's mode); an existing one keeps its own mode and owner. */
  protected override async _cpFile(src: string, dst: string, options: SignalOptions = {}): Promise<void> {
    const info = await this.statInfo(src);
    if (info.type === "directory") throw FsError.eisdir(src);
    const target = await this.writeTarget(dst, "overwrite");
    let tmp: string;
    if (target.existing) {
      const temp = await this.openTemp(target, dst);
      tmp = temp.tmp;
      try {
        await this.copyInto(temp.fh, src, dst, options.signal);
        await temp.fh.close();
        throwIfAborted(options.signal, dst);
      } catch (err) {
        await this.dropTemp(temp.fh, tmp);
        throw toFsError(err, src);
      }
    } else {
      tmp = this.tempPathFor(target.path);
      try {
        // One copy_file_range in the kernel: an abort is seen when it returns, before the rename.
        await this.withParent(target.path, () => this.fs.copyFile(src, tmp));
        throwIfAborted(options.signal, dst);
      } catch (err) {
        await this.fs.unlink(tmp).catch(() => undefined);
        throw toFsError(err, src);
      }
    }
    await this.publish(tmp, target.path, "overwrite");
  }

  /** utimes follows links; a dangling link (or a file removed meanwhile) gets an empty file, as `touch` makes. */
  protected override async _touchExisting(path: string): Promise<void> {
    const now = new Date();
    try {
      await this.fs.utimes(path, now, now);
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw toFsError(err, path);
      await this._pipeFile(path, new Uint8Array(0), "overwrite");
    }
  }

  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    const mode = options.mode === "x" ? "create" : "overwrite";
    const target = await this.writeTarget(path, mode);
    const { tmp, fh } = await this.openTemp(target, path);
    if (options.mode === "a" && target.existing) {
      try {
        await this.copyInto(fh, target.path, path);
      } catch (err) {
        await this.dropTemp(fh, tmp);
        throw err;
      }
    }
    return new LocalFileSink(this, fh, tmp, path, target.path, mode, this.fsyncWrites);
  }

  /**
   * A download lands in a temporary file beside the destination, written at any offset (parallel
   * ranges), renamed into place on commit; in a transaction, an opened writer (published with it).
   * @internal
   */
  override async openDownloadTarget(path: string, options: SignalOptions & { blockSize?: number } = {}): Promise<DownloadTarget> {
    if (this.inTransaction) return super.openDownloadTarget(path, options);
    const p = this.normalizePath(path);
    const target = await this.writeTarget(p, "overwrite");
    const { tmp, fh } = await this.openTemp(target, p);
    const sink = new PositionedFileSink(fh, p);
    let closed = false;
    const closeHandle = async () => {
      if (closed) return;
      closed = true;
      if (this.fsyncWrites) await fh.sync();
      await fh.close();
    };
    return {
      positioned: true,
      write: (data, offset) => sink.write(data, offset),
      flush: () => sink.flush(),
      commit: async () => {
        try {
          await sink.flush();
          await closeHandle();
          await this.publish(tmp, target.path, "overwrite");
        } finally {
          this.invalidateCache(p);
        }
      },
      discard: async () => {
        await sink.abandon();
        await this.dropTemp(fh, tmp);
      },
    };
  }

  /** @internal used by the sink */
  async publishTemp(tmp: string, path: string, mode: PipeMode): Promise<void> {
    await this.publish(tmp, path, mode);
  }

  /** Recursive deletes of whole trees go to the OS in one call. */
  override async rm(pathOrPaths: string | readonly string[], options: RmOptions = {}): Promise<void> {
    this.checkRm(pathOrPaths, options);
    if (typeof pathOrPaths === "string" && options.recursive && options.maxDepth === undefined && !/[*?[]/.test(pathOrPaths)) {
      const p = this.normalizePath(pathOrPaths);
      if (p === "/") throw FsError.eacces(p, "refusing to delete the root directory");
      await this.statInfo(p);
      await this.call(p, () => this.fs.rm(p, { recursive: true, force: false }));
      return;
    }
    return super.rm(pathOrPaths, options);
  }

  /** Remove temporary files left by killed writers under `dir` (not recursive). */
  async cleanTempFiles(dir: string): Promise<number> {
    const p = this.normalizePath(dir);
    const names = (await this.call(p, () => this.fs.readdir(p))) as string[];
    let removed = 0;
    for (const name of names.map(String)) {
      if (name.startsWith(TEMP_PREFIX)) {
        await this.fs.unlink(nodePath.posix.join(p, name)).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }
}

/** Streams an opened writer's chunks to a temporary file; commit renames it into place. */
class LocalFileSink implements UploadSink {
  private closed = false;

  constructor(
    private readonly owner: LocalFileSystem,
    private readonly fh: FileHandle,
    private readonly tmp: string,
    /** The path errors name. */
    private readonly path: string,
    /** Where the file is published (the target of a link at `path`). */
    private readonly target: string,
    private readonly mode: PipeMode,
    private readonly fsync: boolean,
  ) {}

  async uploadChunk(data: Uint8Array): Promise<boolean> {
    await writeAll(this.fh, data, this.path);
    return true;
  }

  private async closeHandle(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.fsync) await this.fh.sync();
    await this.fh.close();
  }

  async commit(): Promise<void> {
    await this.closeHandle();
    await this.owner.publishTemp(this.tmp, this.target, this.mode);
  }

  async discard(): Promise<void> {
    await this.closeHandle().catch(() => undefined);
    await this.owner.fs.unlink(this.tmp).catch(() => undefined);
  }
}

/** Write all of `data` at the handle's position. */
async function writeAll(fh: FileHandle, data: Uint8Array, path: string, signal?: AbortSignal): Promise<void> {
  let written = 0;
  try {
    while (written < data.byteLength) {
      throwIfAborted(signal, path);
      const { bytesWritten } = await fh.write(data, written, Math.min(WRITE_CHUNK, data.byteLength - written));
      written += bytesWritten;
    }
  } catch (err) {
    throw toFsError(err, path);
  }
}

/** An entry's info from its stats; a link has its target's type and size ("other" when it dangles). */
function infoFromStats(path: string, own: nodeFs.Stats, target: nodeFs.Stats | undefined): FileInfo {
  const islink = own.isSymbolicLink();
  const st = (islink && target) || own;
  const type = islink && !target ? "other" : st.isDirectory() ? "directory" : st.isFile() ? "file" : "other";
  return {
    name: path,
    size: type === "directory" ? 0 : Number(st.size),
    type,
    mtime: st.mtime,
    created: st.birthtime,
    islink,
    mode: Number(st.mode),
    ino: Number(st.ino),
    nlink: Number(st.nlink),
  };
}

/** Name and type only, for listings that need no more (see `_ls`). */
function lightInfo(path: string, kind: Exclude<EntryKind, "symlink">): FileInfo {
  return kind === "directory" ? { name: path, size: 0, type: "directory" } : { name: path, size: null, type: kind };
}

function ignoreUnsettable(err: unknown): void {
  if (!UNSETTABLE.has(String((err as { code?: string }).code))) throw err;
}

let defaultLocal: LocalFileSystem | undefined;

/** The local disk `get` and `put` use when given no `localFs` (one instance, made on first use). */
export function defaultLocalFileSystem(): LocalFileSystem {
  return (defaultLocal ??= new LocalFileSystem());
}
