/**
 * Cache storage: the directories cached files live in, reached through a filesystem interface
 * (a LocalFileSystem by default, a MemoryFileSystem in tests). `cacheStorage` may list several
 * directories: lookups scan them in order and only the last one is written; the earlier ones
 * are read-only layers (a shared or hand-seeded cache, for instance).
 *
 * Local storage gets fast paths through the node:fs-like module underneath (file handles,
 * positioned writes, atomic rename); any other filesystem works through its public API.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import { tmpdir } from "node:os";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError, toFsError } from "../core/errors.js";
import { joinPath, parentOf } from "../core/paths.js";
import type { FileInfo } from "../core/types.js";
import { LocalFileSystem } from "../implementations/local.js";
import type { BufferedFile } from "../files/buffered-file.js";
import { PositionedFileSink, type ByteSink } from "../files/byte-sink.js";
import { RESERVED_PREFIX } from "./mappers.js";
import { dropSpareHolders, FileLock, HOST_TAG, pidAlive, removeAbandonedLock, type LockOptions } from "./locks.js";

/**
 * `.fsspec-partial-<host>-<pid>-<random>`: downloads in progress; `write` for opened writers;
 * `extract` for folders an archive is being extracted into; `holder` for the files lock files
 * link to (locks.ts).
 */
const TEMP_RE = /^\.fsspec-(partial|write|extract|holder)-([0-9a-f]{8})-(\d+)-/;
/** The folder an archive cached as `fn` is extracted into sits beside it: `<fn>.extracted`. */
export const EXTRACTED_SUFFIX = ".extracted";

export function extractedName(fn: string): string {
  return `${fn}${EXTRACTED_SUFFIX}`;
}
/** A temporary of a live pid on this host this old is taken as a reused pid's leftover. */
const PID_REUSE_MS = 24 * 3600 * 1000;
/** An extraction folder from another host untouched this long is abandoned (its writer touches files in it, not the folder). */
const DEFAULT_TEMP_STALE_MS = 3600 * 1000;
/** Entry locks (see lockNameFor). */
const LOCK_PREFIX = `${RESERVED_PREFIX}lock-`;
/** LocalFileSystem's own temporaries (metadata saves, lock refreshes). */
const LOCAL_TEMP_PREFIX = ".fsspec-tmp-";

type NodePromises = LocalFileSystem["fs"];

type Handle = Awaited<ReturnType<NodePromises["open"]>>;

/** A readable cached file, pinned at open: a replaced cache file does not change it. */
export interface StoredReader {
  size: number;
  read(start: number, end: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A temporary file being written in a cache directory, later renamed into place. */
export interface TempFile {
  readonly name: string;
  write(data: Uint8Array): Promise<void>;
  /** Finish writing (the bytes are then readable under `name`). */
  close(): Promise<void>;
  /** Close and delete. */
  abort(): Promise<void>;
  /**
   * On a local disk: writes at any offset (parallel ranges), instead of `write`'s in order.
   * `hashFrom` then hashes what the writer could not hash as it came.
   */
  readonly positioned?: ByteSink;
  /** Feed `hashes` the file's bytes from `offset` to its end, read back once the writes are complete (with `positioned`). */
  hashFrom?(hashes: readonly Hash[], offset: number): Promise<void>;
}

/**
 * Serialises read-modify-write block writes on storage without positioned writes: per storage
 * filesystem and file, so the layer instances of one process sharing a directory do too.
 */
const writeChains = new WeakMap<AbstractFileSystem, Map<string, Promise<void>>>();

/** One cache directory on one filesystem. */
export class StorageDir {
  private cleaned = false;
  /** Set once the directory was made or found: later calls skip the mkdir (a directory removed meanwhile is made again where a create fails with ENOENT). */
  private dirKnown = false;

  constructor(
    readonly fs: AbstractFileSystem,
    readonly dir: string,
    readonly readOnly: boolean,
    readonly index: number,
  ) {}

  /** The node:fs-like module when the storage is a local disk (or a memfs volume). */
  get local(): NodePromises | undefined {
    return this.fs instanceof LocalFileSystem ? this.fs.fs : undefined;
  }

  pathOf(name: string): string {
    return joinPath(this.dir, name);
  }

  /** The entry for `name`, or undefined when absent. */
  async stat(name: string): Promise<FileInfo | undefined> {
    try {
      const info = await this.fs.info(this.pathOf(name));
      return info.type === "file" ? info : undefined;
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return undefined;
      throw err;
    }
  }

  /** Files in the directory (none when it does not exist yet). */
  async list(): Promise<FileInfo[]> {
    return (await this.listAll()).filter((i) => i.type === "file");
  }

  /** Folders in the directory: extracted archives and extractions in progress. */
  async listDirs(): Promise<FileInfo[]> {
    return (await this.listAll()).filter((i) => i.type === "directory");
  }

  private async listAll(): Promise<FileInfo[]> {
    try {
      return await this.fs.ls(this.dir, { detail: true, refresh: true });
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return [];
      throw err;
    }
  }

  /** Whether `name` is a folder of the directory. */
  async isDir(name: string): Promise<boolean> {
    try {
      return (await this.fs.info(this.pathOf(name))).type === "directory";
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return false;
      throw err;
    }
  }

  /** Bytes of every file below the folder `name` (0 when it does not exist). */
  async treeSize(name: string): Promise<number> {
    try {
      const found = await this.fs.find(this.pathOf(name), { detail: true });
      return Object.values(found).reduce((n, i) => n + (i.type === "file" ? (i.size ?? 0) : 0), 0);
    } catch (err) {
      if (isFsError(err, "ENOENT") || isFsError(err, "ENOTDIR")) return 0;
      throw err;
    }
  }

  /** Remove the folder `name` and everything in it; false when there was none. */
  async removeTree(name: string): Promise<boolean> {
    this.checkWritable(name);
    if (!(await this.isDir(name))) return false;
    try {
      await this.fs.rm(this.pathOf(name), { recursive: true });
      return true;
    } catch (err) {
      if (isFsError(err, "ENOENT")) return false;
      throw err;
    }
  }

  /** A new, empty temporary folder (`.fsspec-extract-...`); its name. */
  async createTempDir(kind: "extract"): Promise<string> {
    this.checkWritable("temporary folder");
    await this.ensureDir();
    const name = `${RESERVED_PREFIX}${kind}-${HOST_TAG}-${process.pid}-${randomBytes(6).toString("hex")}`;
    await this.inDir(() => this.fs.mkdir(this.pathOf(name), { createParents: false }));
    return name;
  }

  /** Make the directory unless this instance already made or found it. */
  async ensureDir(): Promise<void> {
    if (this.readOnly || this.dirKnown) return;
    await this.makeDir();
    this.dirKnown = true;
  }

  /** Run `fn` holding the lock file `name` of the directory (made first if it is missing). */
  async withLock<T>(name: string, options: LockOptions, fn: (lock: FileLock) => Promise<T>): Promise<T> {
    await this.ensureDir();
    const lock = await this.inDir(() => FileLock.acquire(this.fs, this.pathOf(name), options));
    try {
      return await fn(lock);
    } finally {
      await lock.release();
    }
  }

  /**
   * Run `create`, which makes something directly in the directory; when it fails with ENOENT
   * (the directory was removed since ensureDir saw it), make the directory and run it once more.
   */
  private async inDir<T>(create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (err) {
      if ((err as { code?: unknown }).code !== "ENOENT") throw err;
      this.dirKnown = false;
      await this.ensureDir();
      return create();
    }
  }

  private async makeDir(): Promise<void> {
    const local = this.local;
    if (local) {
      await local.mkdir(this.dir, { recursive: true }).catch((err) => {
        throw toFsError(err, this.dir);
      });
    } else {
      await this.fs.makedirs(this.dir, { existOk: true }).catch((err: unknown) => {
        // Made meanwhile by a concurrent call.
        if (!isFsError(err, "EEXIST")) throw err;
      });
    }
  }

  async readWhole(name: string): Promise<Uint8Array | undefined> {
    try {
      return await this.fs.catFile(this.pathOf(name));
    } catch (err) {
      if (isFsError(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  /** Replace a small file atomically (the backends write a temporary and rename it). */
  async writeWhole(name: string, data: Uint8Array | string): Promise<void> {
    this.checkWritable(name);
    await this.fs.pipeFile(this.pathOf(name), data);
  }

  async remove(name: string): Promise<boolean> {
    this.checkWritable(name);
    try {
      await this.fs.rmFile(this.pathOf(name));
      return true;
    } catch (err) {
      if (isFsError(err, "ENOENT")) return false;
      throw err;
    }
  }

  /** Move `from` over `to` in one step where the storage can (rename on local disks). */
  async rename(from: string, to: string): Promise<void> {
    this.checkWritable(to);
    const local = this.local;
    if (local) {
      await local.rename(this.pathOf(from), this.pathOf(to)).catch((err) => {
        throw toFsError(err, this.pathOf(to));
      });
      return;
    }
    // Memory stores share immutable buffers, so the copy is cheap and the target appears whole.
    await this.fs.cpFile(this.pathOf(from), this.pathOf(to));
    await this.fs.rmFile(this.pathOf(from));
  }

  async copy(from: string, to: string): Promise<void> {
    this.checkWritable(to);
    await this.fs.cpFile(this.pathOf(from), this.pathOf(to));
  }

  /** Open `name` for reading; undefined when it does not exist. */
  async openReader(name: string): Promise<StoredReader | undefined> {
    const path = this.pathOf(name);
    const local = this.local;
    try {
      if (local) {
        const fh = await local.open(path, "r");
        const size = Number((await fh.stat()).size);
        return {
          size,
          read: (start, end) => readAt(fh, path, start, end),
          close: () => fh.close(),
        };
      }
      const file: BufferedFile = await this.fs.open(path, "rb", { cacheType: "none" });
      let queue: Promise<unknown> = Promise.resolve();
      return {
        size: file.size,
        // One seek+read at a time: the opened file has a single position.
        read: (start, end) => {
          const next = queue.then(() => {
            file.seek(start);
            return file.read(end - start);
          });
          queue = next.catch(() => undefined);
          return next;
        },
        close: () => file.close(),
      };
    } catch (err) {
      const e = toFsError(err, path);
      if (e.code === "ENOENT") return undefined;
      throw e;
    }
  }

  /** The hex digest of `name`'s bytes, read in `chunk`s; undefined when it does not exist. */
  async digest(name: string, algorithm: "sha256" | "md5", chunk = 8 * 2 ** 20): Promise<string | undefined> {
    const reader = await this.openReader(name);
    if (!reader) return undefined;
    try {
      const hash = createHash(algorithm);
      for (let off = 0; off < reader.size; off += chunk) hash.update(await reader.read(off, Math.min(reader.size, off + chunk)));
      return hash.digest("hex");
    } finally {
      await reader.close();
    }
  }

  /**
   * Write `data` at `offset` of `name`, creating it (sparse) if needed and `create` allows;
   * otherwise a missing file is ENOENT (it was removed, and with it the bytes written before).
   */
  async writeAt(name: string, offset: number, data: Uint8Array, create = true): Promise<void> {
    this.checkWritable(name);
    const path = this.pathOf(name);
    const local = this.local;
    if (local) {
      let fh: Handle;
      try {
        fh = await local.open(path, "r+");
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT" || !create) throw toFsError(err, path);
        fh = await this.inDir(() => local.open(path, "wx")).catch(async (e2) => {
          if ((e2 as { code?: string }).code === "EEXIST") return local.open(path, "r+");
          throw e2;
        });
      }
      try {
        await writeFully(fh, data, offset, path);
      } finally {
        await fh.close();
      }
      return;
    }
    let chains = writeChains.get(this.fs);
    if (!chains) writeChains.set(this.fs, (chains = new Map()));
    const prev = chains.get(path) ?? Promise.resolve();
    const next = prev.then(async () => {
      const old = await this.readWhole(name);
      if (!old && !create) throw FsError.enoent(path);
      const out = new Uint8Array(Math.max(old?.byteLength ?? 0, offset + data.byteLength));
      if (old) out.set(old);
      out.set(data, offset);
      await this.fs.pipeFile(path, out);
    });
    const settled = next.catch(() => undefined);
    chains.set(path, settled);
    void settled.then(() => chains.get(path) === settled && chains.delete(path));
    await next;
  }

  /** A new temporary file for a download (`partial`) or an opened writer (`write`). */
  async createTemp(kind: "partial" | "write", options: { fsync?: boolean } = {}): Promise<TempFile> {
    this.checkWritable("temporary file");
    await this.ensureDir();
    const name = `${RESERVED_PREFIX}${kind}-${HOST_TAG}-${process.pid}-${randomBytes(6).toString("hex")}`;
    const path = this.pathOf(name);
    const local = this.local;
    if (local) return this.inDir(() => createLocalTemp(local, path, name, options));
    const writer = await this.inDir(() => this.fs.open(path, "wb"));
    return {
      name,
      write: async (data) => {
        await writer.write(data);
      },
      close: () => writer.close(),
      abort: async () => {
        await writer.discard().catch(() => undefined);
        await this.fs.rmFile(path).catch(() => undefined);
      },
    };
  }

  /**
   * Delete temporaries left by killed processes: on this host those whose process is gone,
   * from other hosts those not written to for `staleMs` (a live download keeps touching its
   * file); and entry locks whose holder is gone. Once per instance.
   */
  async cleanTemporaries(staleMs: number, force = false): Promise<number> {
    if (this.readOnly || (this.cleaned && !force)) return 0;
    this.cleaned = true;
    // Keyed as locks.ts keys them: the parent of a lock path in this directory.
    if (force) await dropSpareHolders(this.fs, parentOf(this.pathOf(LOCK_PREFIX)));
    let removed = 0;
    for (const info of await this.listAll()) {
      const name = info.name.slice(info.name.lastIndexOf("/") + 1);
      const m = TEMP_RE.exec(name);
      if (info.type === "directory") {
        // Only extraction folders are the cache's own; their owner is judged like a download's.
        if (m?.[1] === "extract" && abandonedTemp(m, info) && (await this.removeTree(name))) removed++;
        continue;
      }
      const age = info.mtime instanceof Date ? Date.now() - info.mtime.getTime() : 0;
      const abandoned = !m ? name.startsWith(LOCAL_TEMP_PREFIX) && age > staleMs : abandonedTemp(m, info, staleMs);
      if (abandoned && (await this.remove(name))) removed++;
      else if (name.startsWith(LOCK_PREFIX) && (await removeAbandonedLock(this.fs, info.name, staleMs))) removed++;
    }
    return removed;
  }

  private checkWritable(name: string): void {
    if (this.readOnly) throw FsError.eacces(this.pathOf(name), "read-only cache storage layer");
  }
}

/**
 * Whether the temporary a TEMP_RE match names belongs to no live work: on this host its process
 * is gone (or it is old enough for the pid to have been reused), from another host it has not
 * been touched for `staleMs`.
 */
function abandonedTemp(m: RegExpExecArray, info: FileInfo, staleMs = DEFAULT_TEMP_STALE_MS): boolean {
  const age = info.mtime instanceof Date ? Date.now() - info.mtime.getTime() : 0;
  if (m[2] !== HOST_TAG) return age > staleMs;
  return (Number(m[3]) !== process.pid && !pidAlive(Number(m[3]))) || age > PID_REUSE_MS;
}

/**
 * A new file at `path` on a local disk (it must not exist yet), written in order; `name` is what
 * the TempFile is called by.
 */
export async function createLocalTemp(local: NodePromises, path: string, name: string, options: { fsync?: boolean } = {}): Promise<TempFile> {
  const fh = await local.open(path, "wx+").catch((err) => {
    throw toFsError(err, path);
  });
  let position = 0;
  let closed = false;
  const positioned = new PositionedFileSink(fh, path);
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await positioned.flush();
      if (options.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
  };
  return {
    name,
    write: async (data) => {
      await writeFully(fh, data, position, path);
      position += data.byteLength;
    },
    close,
    abort: async () => {
      await positioned.abandon();
      await close().catch(() => undefined);
      await local.unlink(path).catch(() => undefined);
    },
    positioned,
    hashFrom: async (hashes, offset) => {
      await positioned.flush();
      const { size } = await fh.stat();
      const chunk = 8 * 2 ** 20;
      for (let off = offset; off < size; off += chunk) {
        const bytes = await readAt(fh, path, off, Math.min(size, off + chunk));
        for (const h of hashes) h.update(bytes);
      }
    },
  };
}

async function writeFully(fh: Handle, data: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  try {
    while (done < data.byteLength) {
      const { bytesWritten } = await fh.write(data, done, data.byteLength - done, position + done);
      done += bytesWritten;
    }
  } catch (err) {
    throw toFsError(err, path);
  }
}

async function readAt(fh: Handle, path: string, start: number, end: number): Promise<Uint8Array> {
  const out = Buffer.allocUnsafe(Math.max(0, end - start));
  let done = 0;
  try {
    while (done < out.byteLength) {
      const { bytesRead } = await fh.read(out, done, out.byteLength - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (err) {
    throw toFsError(err, path);
  }
  return done === out.byteLength ? out : out.subarray(0, done);
}

/** The lock file of a cache entry: fixed length, whatever the length of the entry's name. */
export function lockNameFor(fn: string): string {
  return `${LOCK_PREFIX}${createHash("sha256").update(fn).digest("hex").slice(0, 32)}`;
}

/** Whether a file name belongs to the cache itself (metadata, locks, temporaries). */
export function isInternalName(name: string): boolean {
  return name === "cache" || name.startsWith(RESERVED_PREFIX);
}

export interface StorageOptions {
  /**
   * A directory, or a list: only the last is written, earlier ones are read-only layers. Default: a new
   * directory under the system's temp directory, per process.
   */
  cacheStorage?: string | readonly string[];
  /** The filesystem holding the cache directories (default: the local disk). */
  storageFs?: AbstractFileSystem;
}

/** The storage directories of a layer, read-only layers first and the writable one last. */
export function resolveStorage(options: StorageOptions): StorageDir[] {
  const fs = options.storageFs ?? new LocalFileSystem();
  const given = options.cacheStorage ?? defaultStorageDir(fs);
  const dirs = typeof given === "string" ? [given] : [...given];
  if (dirs.length === 0 || dirs.some((d) => typeof d !== "string" || d === "")) {
    throw FsError.einval("cacheStorage must be a directory or a non-empty list of directories");
  }
  return dirs.map((d, i) => new StorageDir(fs, fs.normalizePath(d), i < dirs.length - 1, i));
}

/** Like fsspec's "TMP": a fresh directory per layer instance. */
function defaultStorageDir(fs: AbstractFileSystem): string {
  const base = fs instanceof LocalFileSystem ? tmpdir() : "/tmp";
  return joinPath(base, "fsspec-ts-cache", `${process.pid}-${randomBytes(6).toString("hex")}`);
}
