/**
 * `tar://`: a read-only filesystem over a tar archive on any filesystem, plain or gzip
 * (recognised by its magic bytes, not its name). The first use walks the headers once and keeps
 * an index of members on the instance. A plain tar's members are then ranged reads of the
 * archive. A gzip stream cannot be entered in the middle, so the index pass keeps the
 * decompressed stream (in memory up to `spoolMemoryLimit`, beyond in an unlinked temporary
 * file) and members are ranged reads of that: one inflation per index, however many reads.
 */
import { createGunzip } from "node:zlib";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import type { FileInfo, SignalOptions } from "../core/types.js";
import { formatBytes } from "../core/format.js";
import { isNonEmptyString, isNonNegativeInteger, isPositiveInteger, mergeSpecs, optionSpec } from "../core/validate.js";
import { ArchiveFileSystem, type ArchiveFileSystemOptions, type ArchiveLocation } from "./archive/archive-fs.js";
import { decompressChunks } from "./archive/inflate.js";
import { memberPath, type IndexedEntry } from "./archive/members.js";
import { MiB, rangeChunks, WindowReader, type RangeRead } from "./archive/ranged-reads.js";
import { DEFAULT_SPOOL_MEMORY, Spool } from "./archive/spool.js";
import { scanTar, type TarHeader } from "./archive/tar-format.js";

export interface TarFileSystemOptions extends ArchiveFileSystemOptions {
  /** gzip archives: decompressed bytes kept in memory up to this many (default 32 MiB), beyond in a temporary file. */
  spoolMemoryLimit?: number;
  /** Directory of that temporary file (default: the OS temporary directory). */
  spoolDir?: string;
  /**
   * gzip archives: the most decompressed bytes kept in all; beyond, indexing fails with EIO, so a
   * gzip bomb cannot fill the disk (default: 16 GiB, or 20 times the archive's size if that is more).
   */
  spoolLimit?: number;
}

interface TarEntry extends IndexedEntry {
  header: TarHeader;
  /** Where the content lies in the tar stream (a resolved hardlink: its target's). */
  dataOffset: number;
  /** Ranged reads of the tar stream: the archive itself, or the decompressed spool. */
  source: RangeRead;
  /** A hardlink whose target is not a file of the archive. */
  dangling?: boolean;
}

/** The first read (format sniff and first headers); header windows then grow from it to 4 MiB. */
const WINDOW = 256 * 1024;
const HEADER_WINDOWS = { min: WINDOW, max: 4 * MiB };
/** A gzip archive is read in requests from 4 MiB, doubling to 16 MiB. */
const GZIP_PLAN = { first: 4 * MiB, max: 16 * MiB };

const MAGIC: Array<[name: string, bytes: number[]]> = [
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["lzip", [0x4c, 0x5a, 0x49, 0x50]],
  ["compress (.Z)", [0x1f, 0x9d]],
  ["zip", [0x50, 0x4b, 0x03, 0x04]],
];

/** "gzip", "none", or the name of a container this reader does not open. */
function sniff(head: Uint8Array): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  for (const [name, bytes] of MAGIC) if (bytes.every((b, i) => head[i] === b)) return name;
  return "none";
}

/** The default spool limit: a fixed 16 GiB, raised for big archives to 20 times their size. */
export const SPOOL_LIMIT_FLOOR = 16 * 2 ** 30;
export const SPOOL_LIMIT_RATIO = 20;

export function defaultSpoolLimit(archiveSize: number | null): number {
  return Math.max(SPOOL_LIMIT_FLOOR, SPOOL_LIMIT_RATIO * (archiveSize ?? 0));
}

/** Spools of instances dropped without `close()`: their temporary files are closed all the same. */
const unclaimedSpools = new FinalizationRegistry<Spool>((spool) => void spool.release());

/**
 * tar: the members of a tar archive (plain or gzip-compressed) on any filesystem, read-only
 * (docs/backends/tar.md).
 */
export class TarFileSystem extends ArchiveFileSystem<TarEntry> {
  static override protocols = ["tar"] as const;
  static override ownOptions = mergeSpecs(
    ArchiveFileSystem.ownOptions,
    optionSpec<TarFileSystemOptions, ArchiveFileSystemOptions>({ spoolMemoryLimit: isNonNegativeInteger, spoolDir: isNonEmptyString, spoolLimit: isPositiveInteger }),
  );

  declare readonly options: Readonly<TarFileSystemOptions>;
  private spool: Spool | undefined;
  private format: "gzip" | "none" | undefined;

  constructor(options: TarFileSystemOptions) {
    super(options);
  }

  /** How the archive is compressed ("gzip" or "none"), once indexed. */
  get compression(): "gzip" | "none" | undefined {
    return this.format;
  }

  protected override async readIndex({ fs, path }: ArchiveLocation): Promise<TarEntry[]> {
    const read: RangeRead = (s, e, options) => fs.catFile(path, s, e, options);
    const head = await read(0, WINDOW);
    if (head.byteLength === 0) throw new FsError("EIO", "not a tar archive (the file is empty)", { path });
    const format = sniff(head);
    let source = read;
    let initial: Uint8Array | undefined = head;
    if (format === "gzip") {
      const spool = await this.inflateToSpool(read, head, fs, path);
      this.keepSpool(spool);
      source = (s, e) => spool.read(s, e);
      initial = undefined;
    } else if (format !== "none") {
      throw FsError.enotsup(`a ${format} archive; tar reads plain and gzip-compressed tar archives`, path);
    }
    this.format = format === "gzip" ? "gzip" : "none";
    const headers = await scanTar(new WindowReader(source, HEADER_WINDOWS, initial), path);
    return entriesOf(headers, source);
  }

  /** The whole decompressed stream, once, up to the spool limit; the spool is released if anything fails. */
  private async inflateToSpool(read: RangeRead, head: Uint8Array, fs: AbstractFileSystem, path: string): Promise<Spool> {
    const spool = new Spool(this.options.spoolMemoryLimit ?? DEFAULT_SPOOL_MEMORY, this.options.spoolDir);
    async function* compressed(): AsyncGenerator<Uint8Array> {
      yield head;
      if (head.byteLength === WINDOW) yield* rangeChunks(read, WINDOW, undefined, GZIP_PLAN, path);
    }
    const given = this.options.spoolLimit;
    // The archive's size is asked for only by an archive that gets that far (a HEAD over HTTP).
    let limit = given ?? SPOOL_LIMIT_FLOOR;
    let sized = given !== undefined;
    try {
      for await (const chunk of decompressChunks(compressed(), createGunzip(), path)) {
        if (spool.size + chunk.byteLength > limit && !sized) {
          sized = true;
          limit = defaultSpoolLimit(await fs.size(path).catch(() => null));
        }
        if (spool.size + chunk.byteLength > limit) {
          throw new FsError(
            "EIO",
            `the gzip stream decompresses to more than the spool limit of ${formatBytes(limit)} (${limit} bytes; spoolLimit${given === undefined ? ", default 16 GiB or 20 times the archive's size" : ""}): a gzip bomb, or raise spoolLimit`,
            { path },
          );
        }
        await spool.append(chunk);
      }
      spool.finish();
      return spool;
    } catch (err) {
      await spool.release();
      throw err;
    }
  }

  /** Hold `spool` for the index; it is released with the index, or if this instance is collected first. */
  private keepSpool(spool: Spool | undefined): void {
    const old = this.spool;
    if (old) {
      unclaimedSpools.unregister(old);
      void old.release();
    }
    this.spool = spool;
    if (spool) unclaimedSpools.register(this, spool, spool);
  }

  protected override releaseIndex(): void {
    this.keepSpool(undefined);
    this.format = undefined;
  }

  protected override checkReadable(entry: TarEntry): void {
    const name = entry.member.path ?? entry.member.rawName;
    if (entry.dangling) throw FsError.enoent(name, `hardlink to '${entry.member.linkname}', which is not a file of the archive`);
    if (entry.info.type !== "file") throw FsError.enotsup(`a tar member of type '${entry.header.typeflag}' has no readable content`, name);
  }

  protected override async readEntry(entry: TarEntry, start: number, end: number, options: SignalOptions): Promise<Uint8Array> {
    const name = entry.member.path ?? entry.member.rawName;
    const data = await entry.source(entry.dataOffset + start, entry.dataOffset + end, options);
    if (data.byteLength !== end - start) throw new FsError("EIO", "archive truncated inside this member", { path: name });
    return data;
  }
}

/** Index entries for the headers; hardlinks take the data of the file they name (never anything outside). */
function entriesOf(headers: readonly TarHeader[], source: RangeRead): TarEntry[] {
  const files = new Map<string, TarEntry>();
  return headers.map((h) => {
    let size = h.size;
    let dataOffset = h.dataOffset;
    let dangling = false;
    if (h.kind === "hardlink") {
      const named = memberPath(h.linkname);
      const target = "path" in named ? files.get(named.path) : undefined;
      if (target) {
        size = target.info.size ?? 0;
        dataOffset = target.dataOffset;
      } else dangling = true;
    }
    const isLink = h.kind === "symlink" || h.kind === "hardlink";
    const type: FileInfo["type"] = h.kind === "directory" ? "directory" : h.kind === "file" || (h.kind === "hardlink" && !dangling) ? "file" : "other";
    if (h.kind === "symlink") size = Buffer.byteLength(h.linkname);
    const entry: TarEntry = {
      header: h,
      dataOffset,
      source,
      ...(dangling ? { dangling } : {}),
      member: {
        rawName: h.name,
        path: undefined,
        kind: h.kind,
        size,
        mtime: h.mtime,
        mode: h.mode,
        ...(isLink ? { linkname: h.linkname } : {}),
      },
      info: {
        size,
        type,
        mtime: h.mtime,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        uname: h.uname,
        gname: h.gname,
        ...(isLink ? { linkname: h.linkname } : {}),
        ...(h.kind === "symlink" ? { islink: true } : {}),
      },
    };
    const own = memberPath(h.name);
    if ("path" in own && type === "file") files.set(own.path, entry);
    return entry;
  });
}
