/**
 * In-memory filesystem on plain Maps. memfs would work, but a `Map` write is ~1 µs where a memfs
 * `writeFileSync` is ~18 µs, and the memory backend is what tests and cache layers hammer.
 * A child index per directory keeps `ls` proportional to the directory, not the store.
 */
import { createHash, randomBytes } from "node:crypto";
import { AbstractFileSystem } from "../core/abstract.js";
import { FsError, throwIfAborted } from "../core/errors.js";
import { normalizePosix, parentOf } from "../core/paths.js";
import { SIGNAL_OPTIONS, type FileInfo, type FileSystemOptions, type PipeMode, type SignalOptions } from "../core/types.js";
import { either, instanceOf, oneOf, optionSpec } from "../core/validate.js";
import { versionChanged, type FileVersion, type PinnedReadOptions, type PinnedReads } from "../core/versions.js";
import { BufferedFile, readableFile, type FileOpenOptions } from "../files/buffered-file.js";
import { CollectingSink, type SinkOptions, type UploadSink } from "../files/upload-sink.js";

interface MemoryEntry {
  /** Never mutated after it is stored, so readers can hold it as a snapshot. */
  data: Uint8Array;
  /** Milliseconds since the epoch (Dates are made only when info asks). */
  created: number;
  mtime: number;
}

/**
 * Private copies of small byte runs carved out of shared slabs, the way Node's Buffer pool
 * works but with larger slabs: a fresh ArrayBuffer per 1 KiB file is most of the cost of a small
 * write or read. A slab lives as long as any copy in it does, so only runs up to `maxPooled`
 * bytes share one (a held copy can keep at most `slabSize` bytes alive).
 */
class SlabCopier {
  private slab = new ArrayBuffer(0);
  private offset = 0;

  constructor(
    private readonly slabSize: number,
    private readonly maxPooled: number,
  ) {}

  copy(data: Uint8Array, start = 0, end = data.byteLength): Uint8Array {
    const s = Math.min(start, data.byteLength);
    const e = Math.max(s, Math.min(end, data.byteLength));
    const n = e - s;
    const src = s === 0 && e === data.byteLength ? data : data.subarray(s, e);
    if (n > this.maxPooled) {
      const out = new Uint8Array(n);
      out.set(src);
      return out;
    }
    if (this.offset + n > this.slab.byteLength) {
      this.slab = new ArrayBuffer(this.slabSize);
      this.offset = 0;
    }
    const out = new Uint8Array(this.slab, this.offset, n);
    out.set(src);
    this.offset += (n + 7) & ~7; // keep copies 8-byte aligned, like Node's pool
    return out;
  }
}

/** Stored files and read results come from separate slabs: results are usually short-lived. */
const storedCopies = new SlabCopier(64 * 1024, 4 * 1024);
const readCopies = new SlabCopier(32 * 1024, 1024);

/** The files and directories behind one or more MemoryFileSystem instances. */
export class MemoryStore {
  /**
   * Path -> stored file.
   * @internal
   */
  readonly files = new Map<string, MemoryEntry>();
  /** Directories made explicitly (they survive being emptied), with their creation time. */
  readonly dirs = new Map<string, Date>();
  /** Directory -> full paths of its children (files and directories, explicit or implied). */
  readonly children = new Map<string, Set<string>>();

  /** Forget every file and directory. */
  clear(): void {
    this.files.clear();
    this.dirs.clear();
    this.children.clear();
  }

  /**
   * Whether `path` is a directory (the root, one made explicitly, or one implied by what is below it).
   */
  isDir(path: string): boolean {
    return path === "/" || this.dirs.has(path) || this.children.has(path);
  }

  /** Record `path` under its parent, creating implied ancestors as needed. */
  link(path: string, parentOfPath = parentOf(path)): void {
    let child = path;
    let parent = parentOfPath;
    for (;;) {
      let set = this.children.get(parent);
      if (set === undefined) {
        set = new Set();
        this.children.set(parent, set);
      } else if (set.has(child)) {
        return; // ancestors are linked already
      }
      set.add(child);
      if (parent === "/") return;
      child = parent;
      parent = parentOf(child);
    }
  }

  /** Remove `path` from its parent; implied parents left empty disappear too. */
  unlink(path: string): void {
    let child = path;
    while (child !== "/") {
      const parent = parentOf(child);
      const set = this.children.get(parent);
      if (set) {
        set.delete(child);
        if (set.size > 0) return;
        this.children.delete(parent);
      }
      if (this.dirs.has(parent)) return;
      child = parent;
    }
  }
}

const SHARED_STORE = new MemoryStore();

/**
 * A key per stored buffer (stored buffers are never mutated, so one buffer is one content):
 * unlike mtime, it changes with every write, however fast. The process tag keeps keys of
 * another process (in a cache's metadata on disk) from matching.
 */
const PROCESS_TAG = randomBytes(6).toString("hex");
const contentKeys = new WeakMap<Uint8Array, string>();
let nextContentKey = 0;

function contentKey(data: Uint8Array): string {
  let key = contentKeys.get(data);
  if (key === undefined) contentKeys.set(data, (key = `${PROCESS_TAG}-${nextContentKey++}`));
  return key;
}
const DONE: Promise<void> = Promise.resolve();
const NEEDS_NORMALIZING = /\/\/|\/\.\.?(?:\/|$)|\/$/;

export interface MemoryFileSystemOptions extends FileSystemOptions {
  /** "shared" (default: every such instance sees the same files), "private", or a given store. */
  store?: "shared" | "private" | MemoryStore;
}

export class MemoryFileSystem extends AbstractFileSystem implements PinnedReads {
  static override protocols = ["memory"] as const;
  static override rootMarker = "/";
  static override ownOptions = optionSpec<MemoryFileSystemOptions, FileSystemOptions>({
    store: either(oneOf("shared", "private"), instanceOf(MemoryStore, "a MemoryStore")),
  });

  /** The store every default instance shares. */
  static get sharedStore(): MemoryStore {
    return SHARED_STORE;
  }

  static override cacheable(options: MemoryFileSystemOptions): boolean {
    return options.store !== "private";
  }

  static override stripProtocol(path: string): string {
    let p = path;
    if (p.startsWith("memory://")) p = p.slice(9);
    else if (p.startsWith("memory::")) p = p.slice(8);
    if (p.startsWith("/") && !NEEDS_NORMALIZING.test(p)) return p;
    return normalizePosix(p, true);
  }

  declare readonly options: Readonly<MemoryFileSystemOptions>;
  /** Where this instance's files live: the shared store (default), a private one, or a given one. */
  readonly store: MemoryStore;

  constructor(options: MemoryFileSystemOptions = {}) {
    super(options);
    const s = options.store;
    this.store = s instanceof MemoryStore ? s : s === "private" ? new MemoryStore() : SHARED_STORE;
  }

  override toJSON() {
    if (this.options.store instanceof MemoryStore) {
      throw FsError.einval("a memory filesystem over a given store cannot be serialised");
    }
    return super.toJSON();
  }

  private fileInfo(path: string, entry: MemoryEntry): FileInfo {
    return { name: path, size: entry.data.byteLength, type: "file", created: new Date(entry.created), mtime: new Date(entry.mtime) };
  }

  private dirInfo(path: string): FileInfo {
    const created = this.store.dirs.get(path);
    return created ? { name: path, size: 0, type: "directory", created } : { name: path, size: 0, type: "directory" };
  }

  protected override async _ls(path: string): Promise<FileInfo[]> {
    const entry = this.store.files.get(path);
    if (entry) return [this.fileInfo(path, entry)];
    if (!this.store.isDir(path)) throw FsError.enoent(path);
    const kids = [...(this.store.children.get(path) ?? [])].sort();
    return kids.map((k) => {
      const e = this.store.files.get(k);
      return e ? this.fileInfo(k, e) : this.dirInfo(k);
    });
  }

  protected override async _info(path: string): Promise<FileInfo> {
    const entry = this.store.files.get(path);
    if (entry) return this.fileInfo(path, entry);
    if (this.store.isDir(path)) return this.dirInfo(path);
    throw FsError.enoent(path);
  }

  private entryOf(path: string): MemoryEntry {
    const entry = this.store.files.get(path);
    if (entry) return entry;
    if (this.store.isDir(path)) throw FsError.eisdir(path);
    throw FsError.enoent(path);
  }

  // The two hot paths are plain functions returning settled promises: an async function
  // would add a promise allocation and a tick per call, which is most of a 1 KiB write's cost.
  protected override _catFile(path: string, start: number, end: number | undefined): Promise<Uint8Array> {
    try {
      // A copy: callers may write into what they get back.
      return Promise.resolve(readCopies.copy(this.entryOf(path).data, start, end));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Changes with every write of the file (its stored buffer), not only when mtime or size do. */
  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    this.checkCall("ukey", options, SIGNAL_OPTIONS);
    const p = this.normalizePath(path);
    const entry = this.store.files.get(p);
    if (!entry) return super.ukey(p, options);
    return createHash("sha256").update(`${p}\n${contentKey(entry.data)}`).digest("hex");
  }

  async fileVersion(path: string): Promise<FileVersion> {
    const entry = this.entryOf(this.normalizePath(path));
    return { size: entry.data.byteLength, key: contentKey(entry.data) };
  }

  /** The check and the read happen in one step: nothing can write in between. */
  async catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array> {
    const p = this.normalizePath(path);
    if (contentKey(this.entryOf(p).data) !== options.version.key) throw versionChanged(p);
    return this._catFile(p, start, end);
  }

  /** Store `data` (owned by the store from now on) at `path`. */
  private storeFile(path: string, data: Uint8Array, mode: PipeMode): void {
    const store = this.store;
    if (path === "/" || store.isDir(path)) throw FsError.eisdir(path);
    const existing = store.files.get(path);
    if (existing && mode === "create") throw FsError.eexist(path);
    const parent = parentOf(path);
    if (!store.children.has(parent) && !store.dirs.has(parent)) {
      // Parent not known as a directory: no ancestor may be a file.
      for (let a = parent; a !== "/"; a = parentOf(a)) {
        if (store.files.has(a)) throw FsError.enotdir(path, `'${a}' is a file`);
      }
    }
    const now = Date.now();
    store.files.set(path, { data, created: existing?.created ?? now, mtime: now });
    if (!existing) store.link(path, parent);
  }

  protected override _pipeFile(path: string, data: Uint8Array, mode: PipeMode): Promise<void> {
    try {
      this.storeFile(path, storedCopies.copy(data), mode);
      return DONE;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  protected override async _rmFile(path: string): Promise<void> {
    if (this.store.files.delete(path)) {
      this.store.unlink(path);
      return;
    }
    if (this.store.isDir(path)) throw FsError.eisdir(path);
    throw FsError.enoent(path);
  }

  protected override async _mkdir(path: string, createParents: boolean): Promise<void> {
    const store = this.store;
    if (store.files.has(path)) throw FsError.eexist(path, "a file exists at this path");
    if (store.isDir(path)) throw FsError.eexist(path);
    const parent = parentOf(path);
    if (store.files.has(parent)) throw FsError.enotdir(path, `'${parent}' is a file`);
    if (!store.isDir(parent)) {
      if (!createParents) throw FsError.enoent(parent, "parent directory does not exist");
      await this._mkdir(parent, true);
    }
    store.dirs.set(path, new Date());
    store.link(path);
  }

  protected override async _rmdir(path: string): Promise<void> {
    const store = this.store;
    if (path === "/") throw FsError.einval("cannot remove the root directory", path);
    if (store.files.has(path)) throw FsError.enotdir(path);
    if (!store.isDir(path)) throw FsError.enoent(path);
    if ((store.children.get(path)?.size ?? 0) > 0) throw new FsError("ENOTEMPTY", undefined, { path });
    store.dirs.delete(path);
    store.unlink(path);
  }

  protected override async _cpFile(src: string, dst: string): Promise<void> {
    // Stored arrays are immutable, so the copy can share them.
    this.storeFile(dst, this.entryOf(src).data, "overwrite");
  }

  protected override async _touchExisting(path: string): Promise<void> {
    const entry = this.store.files.get(path);
    if (entry) entry.mtime = Date.now();
  }

  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    return new CollectingSink(
      // The sink hands over a buffer nobody else holds, so no copy is needed.
      async (data, mode) => this.storeFile(path, data, mode),
      options,
      async () => this.store.files.get(path)?.data,
    );
  }

  /** Readers see the file as it was when opened, even if it is replaced meanwhile. */
  protected override async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    const entry = this.entryOf(path);
    const data = entry.data;
    const signal = options.signal;
    const fetch = async (start: number, end: number) => {
      throwIfAborted(signal, path);
      return data.subarray(start, end);
    };
    return readableFile(path, data.byteLength, fetch, options, {
      details: this.fileInfo(path, entry),
    });
  }
}
