/**
 * What zip and tar share: a read-only filesystem over one archive file of any target
 * filesystem (`fo` + `fs`, or `targetProtocol`/`targetOptions`, or `fo` as a URL, or a URL chain
 * `zip://member::memory://x.zip`), rooted at "" like fsspec's archive filesystems. The member
 * index is read on first use and kept on the instance; `invalidateCache()` drops it.
 * Symlinks are followed inside the archive only; a target that leaves it is EACCES.
 */
import { AbstractFileSystem } from "../../core/abstract.js";
import { FsError, toFsError } from "../../core/errors.js";
import { parentOf } from "../../core/paths.js";
import { anyValue, isRecord, isString, optionSpec } from "../../core/validate.js";
import type { FileInfo, FileSystemOptions, SignalOptions } from "../../core/types.js";
import { readableFile, type BufferedFile, type FileOpenOptions } from "../../files/buffered-file.js";
import { MemberTree, type ArchiveMember, type IndexedEntry } from "./members.js";

export interface ArchiveFileSystemOptions extends FileSystemOptions {
  /** The archive: a path on `fs`, or a URL (chains included) when neither `fs` nor `targetProtocol` is given. */
  fo: string;
  /** The filesystem holding the archive (or `targetProtocol` / `targetOptions` through `filesystem()`). */
  fs?: AbstractFileSystem;
  /**
   * With `filesystem()` or a URL chain instead of `fs`: the protocol of the filesystem holding the
   * archive.
   */
  targetProtocol?: string;
  /** Options for the filesystem of `fo` when it is a URL (or for `targetProtocol`); default none. */
  targetOptions?: FileSystemOptions;
}

/** Where the archive file is. */
export interface ArchiveLocation {
  /** The filesystem holding the archive file. */
  fs: AbstractFileSystem;
  /** The archive's path on it. */
  path: string;
}

const MAX_LINK_HOPS = 16;

/**
 * The base of the read-only archive filesystems (zip, tar): the archive is a file on another
 * filesystem, its index is read on first use and kept until `invalidateCache()`. Writes are ENOTSUP. A
 * new format implements `readIndex` and `readEntry`.
 */
export abstract class ArchiveFileSystem<E extends IndexedEntry> extends AbstractFileSystem {
  static override rootMarker = "";
  static override ownOptions = optionSpec<ArchiveFileSystemOptions, FileSystemOptions>({
    // Checked by the constructor, with messages that say what an archive needs.
    fo: anyValue,
    fs: anyValue,
    targetProtocol: isString,
    targetOptions: isRecord,
  });

  /** `zip://a/b.txt::memory://x.zip`: the inner path is the archive, the outer one the member. */
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
    return { options: { ...options, fs: inner.fs, fo: inner.path }, path: outerPath || "/" };
  }

  /** Member names are relative: `zip:///a/b/` and `/a/b` are `a/b`. */
  static override stripProtocol(path: string): string {
    return super.stripProtocol(path).replace(/^\/+/, "");
  }

  declare readonly options: Readonly<ArchiveFileSystemOptions>;
  private location: Promise<ArchiveLocation> | undefined;
  private indexing: Promise<MemberTree<E>> | undefined;

  constructor(options: ArchiveFileSystemOptions) {
    super(options);
    const protocol = (this.constructor as typeof AbstractFileSystem).protocols[0];
    if (typeof options?.fo !== "string" || options.fo === "") {
      throw FsError.einval(`${protocol} needs the archive: fo (a path on fs, or a URL such as memory://x.${protocol})`);
    }
    if (options.fs !== undefined && !(options.fs instanceof AbstractFileSystem)) throw FsError.einval("fs must be a filesystem instance");
  }

  // ---------------------------------------------------------------- what a format provides

  /** Every member of the archive, in archive order. */
  protected abstract readIndex(archive: ArchiveLocation): Promise<E[]>;

  /** Bytes [start, end) of a member's content, 0 <= start < end <= its size. */
  protected abstract readEntry(entry: E, start: number, end: number, options: SignalOptions): Promise<Uint8Array>;

  /** Throw when the member's content cannot be read (checked before any read, empty ones too). */
  protected checkReadable(_entry: E): void {}

  /** What a symlink member points to. */
  protected async linkTarget(entry: E): Promise<string> {
    if (entry.member.linkname === undefined) throw new FsError("EIO", "symlink without a target", { path: entry.member.path });
    return entry.member.linkname;
  }

  /** An opened file on a member; by default ranged reads through `readEntry`. */
  protected openEntry(entry: E, path: string, options: FileOpenOptions): BufferedFile {
    const size = entry.info.size ?? 0;
    return readableFile(path, size, (s, e) => (e > s ? this.readEntry(entry, s, e, { signal: options.signal }) : Promise.resolve(new Uint8Array(0))), options, {
      details: { ...entry.info, name: path },
      ownedFetches: true,
    });
  }

  /** Called when the index is dropped, to release what it held (tar's decompressed spool). */
  protected releaseIndex(): void {}

  // ---------------------------------------------------------------- the archive and its index

  /** The filesystem and path of the archive file. */
  async archive(): Promise<ArchiveLocation> {
    if (!this.location) {
      const { fo, fs, targetOptions } = this.options;
      const made = fs
        ? Promise.resolve({ fs, path: fs.normalizePath(fo) })
        : import("../../core/url-chain.js").then(({ urlToFs }) => urlToFs(fo, (targetOptions ?? {}) as Record<string, unknown>));
      this.location = made;
      made.catch(() => {
        if (this.location === made) this.location = undefined;
      });
    }
    return this.location;
  }

  /**
   * The member tree, read once (concurrent first calls share one read; a failed read is retried next time).
   * @internal
   */
  protected index(): Promise<MemberTree<E>> {
    if (!this.indexing) {
      const made = (async () => {
        const archive = await this.archive();
        let entries: E[];
        try {
          entries = await this.readIndex(archive);
        } catch (err) {
          throw toFsError(err, archive.path);
        }
        const tree = new MemberTree(entries);
        if (tree.refused.length > 0) {
          const first = tree.refused[0]!;
          process.emitWarning(
            `${tree.refused.length} member(s) of ${archive.fs.unstripProtocol(archive.path)} are not listed: unsafe names (first: '${first.rawName}': ${first.problem})`,
            { code: "FSSPEC_TS_UNSAFE_ARCHIVE_MEMBER" },
          );
        }
        return tree;
      })();
      this.indexing = made;
      made.catch(() => {
        if (this.indexing === made) this.indexing = undefined;
      });
    }
    return this.indexing;
  }

  /**
   * Every member as stored, in archive order, including those not listed (unsafe names, with
   * `path` undefined and the `problem`), with their kinds: the input an extractor checks.
   */
  async members(): Promise<ArchiveMember[]> {
    return (await this.index()).entries.map((e) => ({ ...e.member }));
  }

  /** Forget the index (the archive changed): the next call reads it again. */
  override invalidateCache(path?: string): void {
    super.invalidateCache(path);
    if (this.indexing) {
      this.indexing = undefined;
      this.releaseIndex();
    }
    void this.location?.then(({ fs, path: p }) => fs.invalidateCache(p), () => undefined);
  }

  /** Release the index and anything it holds; the instance leaves the instance cache. */
  override async close(): Promise<void> {
    this.invalidateCache();
    await super.close();
  }

  // ---------------------------------------------------------------- listing

  protected override async _ls(path: string, _options: SignalOptions): Promise<FileInfo[]> {
    const tree = await this.index();
    const children = tree.children(path);
    if (children) return children;
    const hit = tree.lookup(path);
    if (hit) return [hit.info];
    throw FsError.enoent(path);
  }

  protected override async _info(path: string, _options: SignalOptions): Promise<FileInfo> {
    const hit = (await this.index()).lookup(path);
    if (!hit) throw FsError.enoent(path);
    return hit.info;
  }

  // ---------------------------------------------------------------- bytes

  /**
   * The member whose content `path` names: symlinks followed inside the archive.
   * @internal
   */
  protected async contentOf(path: string): Promise<E> {
    const tree = await this.index();
    let current = path;
    for (let hops = 0; ; hops++) {
      const hit = tree.lookup(current);
      if (!hit) throw FsError.enoent(current, current === path ? undefined : `symlink '${path}' points to a missing member`);
      if (hit.isDir) throw FsError.eisdir(current);
      const entry = hit.entry!;
      if (entry.member.kind !== "symlink") {
        this.checkReadable(entry);
        return entry;
      }
      if (hops === MAX_LINK_HOPS) throw new FsError("EIO", "too many levels of symbolic links", { path });
      current = resolveLink(current, await this.linkTarget(entry));
    }
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options: SignalOptions): Promise<Uint8Array> {
    const entry = await this.contentOf(path);
    const size = entry.info.size ?? 0;
    const s = Math.min(start, size);
    const e = Math.min(end ?? size, size);
    if (e <= s) return new Uint8Array(0);
    return this.readEntry(entry, s, e, options);
  }

  protected override async openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    return this.openEntry(await this.contentOf(path), path, options);
  }
}

/** The member a symlink at `linkPath` names; EACCES for a target outside the archive. */
export function resolveLink(linkPath: string, target: string): string {
  const outside = () => FsError.eacces(linkPath, `symlink to '${target}' points outside the archive; it is not followed`);
  if (target.startsWith("/") || target.startsWith("\\") || /^[A-Za-z]:/.test(target) || target.includes("\0")) throw outside();
  const parts = parentOf(linkPath, "").split("/").filter((s) => s !== "");
  for (const seg of target.replace(/\\/g, "/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) throw outside();
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}
