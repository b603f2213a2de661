/**
 * `zip://`: a read-only filesystem over a zip archive on any filesystem, with random access.
 * Listing reads the end records and the central directory from the tail of the archive (one
 * ranged read for most archives, plus one when the directory is larger); a member is read by
 * range from its local header and inflated as a stream. Zip64, stored and deflate members,
 * UTF-8 and CP437 names; a member read whole is checked against its CRC-32.
 */
import { createInflateRaw } from "node:zlib";
import { FsError } from "../core/errors.js";
import type { SignalOptions } from "../core/types.js";
import { readableFile, type BufferedFile, type FileOpenOptions } from "../files/buffered-file.js";
import { concatBytes } from "../files/upload-sink.js";
import { ArchiveFileSystem, type ArchiveFileSystemOptions, type ArchiveLocation } from "./archive/archive-fs.js";
import { crc32 } from "./archive/crc32.js";
import { decompressChunks, sliceOfStream, StreamCursor, verifiedOutput } from "./archive/inflate.js";
import type { ArchiveMemberKind, IndexedEntry } from "./archive/members.js";
import { MiB, rangeChunks } from "./archive/ranged-reads.js";
import {
  findEndRecord,
  LOCAL_HEADER_SIZE,
  localDataOffset,
  methodName,
  parseCentralDirectory,
  type CentralEntry,
} from "./archive/zip-format.js";

/** Options of `ZipFileSystem`: those of every archive. */
export type ZipFileSystemOptions = ArchiveFileSystemOptions;

interface ZipEntry extends IndexedEntry {
  central: CentralEntry;
  /** Absolute offset of the local header in the archive file (a prefix such as a self-extractor stub counted). */
  headerOffset: number;
  /** Where the member's data starts, once its local header has been read. */
  dataOffset?: number;
}

/** The tail read first: the end records plus, for most archives, the whole central directory. */
const TAIL_BYTES = 256 * 1024;
/** Room for a local extra field longer than the central one, read with the header. */
const LOCAL_SLACK = 256;
/** A member this small (compressed) comes with its local header in one read. */
const SMALL_MEMBER = 4 * MiB;
/** Compressed bytes read per request while streaming a member: from 1 MiB, doubling to 16 MiB. */
const STREAM_PLAN = { first: MiB, max: 16 * MiB };

const STORED = 0;
const DEFLATE = 8;

/**
 * zip: the members of a zip archive on any filesystem, read-only (docs/backends/zip.md). Stored and
 * deflated members are read with ranged reads of the archive, never the whole file.
 */
export class ZipFileSystem extends ArchiveFileSystem<ZipEntry> {
  static override protocols = ["zip"] as const;

  constructor(options: ZipFileSystemOptions) {
    super(options);
  }

  protected override async readIndex({ fs, path }: ArchiveLocation): Promise<ZipEntry[]> {
    const info = await fs.info(path);
    if (info.type === "directory") throw FsError.eisdir(path, "the archive path is a directory");
    const size = info.size;
    if (size === null) throw FsError.enotsup("zip needs the archive's size, and its filesystem does not report one", path);
    const tailStart = Math.max(0, size - TAIL_BYTES);
    const tail = await fs.catFile(path, tailStart, size);
    if (tail.byteLength !== size - tailStart) throw new FsError("EIO", "the archive is shorter than its recorded size", { path });
    const { record } = findEndRecord(tail, size, path);
    // Bytes in front of the archive proper (a self-extractor stub) shift every recorded offset.
    const prefix = record.cdEnd - record.cdSize - record.cdOffset;
    if (prefix < 0) throw new FsError("EIO", "corrupt zip archive: the central directory lies outside the file", { path });
    const cdStart = record.cdOffset + prefix;
    let cd = tail.subarray(Math.max(0, cdStart - tailStart), record.cdEnd - tailStart);
    if (cdStart < tailStart) {
      const head = await fs.catFile(path, cdStart, tailStart);
      if (head.byteLength !== tailStart - cdStart) throw new FsError("EIO", "the archive is shorter than its recorded size", { path });
      cd = concatBytes([head, cd]);
    }
    return parseCentralDirectory(cd, record.entries, path).map((c) => entryOf(c, prefix, cdStart, path));
  }

  // ---------------------------------------------------------------- reading members

  protected override checkReadable(entry: ZipEntry): void {
    checkReadable(entry);
  }

  protected override async readEntry(entry: ZipEntry, start: number, end: number, options: SignalOptions): Promise<Uint8Array> {
    const name = checkReadable(entry);
    const c = entry.central;
    const whole = start === 0 && end === c.size;
    if (c.method === STORED) {
      const { dataOffset, head } = await this.locate(entry, whole ? c.compressedSize : 0, options);
      let data: Uint8Array;
      if (head.byteLength >= end) data = head.subarray(start, end);
      else {
        const { fs, path } = await this.archive();
        data = await fs.catFile(path, dataOffset + start, dataOffset + end, options);
        if (data.byteLength !== end - start) throw new FsError("EIO", "archive truncated inside this member", { path: name });
      }
      if (whole && crc32(data) !== c.crc) {
        throw new FsError("EIO", `CRC-32 mismatch: recorded ${c.crc.toString(16)}, data gives ${crc32(data).toString(16)}`, { path: name });
      }
      return data;
    }
    // Deflate: inflate from the start of the member; the compressed bytes needed for `end` are
    // estimated from the member's ratio, so a read usually costs one request.
    const estimate = whole ? c.compressedSize : Math.min(c.compressedSize, Math.ceil((end / Math.max(1, c.size)) * c.compressedSize * 1.1) + 64 * 1024);
    return sliceOfStream(this.inflated(entry, estimate, options), start, end);
  }

  /** A deflated member opened for reading keeps one inflation going: reads forward continue it, a backwards seek restarts it. */
  protected override openEntry(entry: ZipEntry, path: string, options: FileOpenOptions): BufferedFile {
    if (entry.central.method !== DEFLATE) return super.openEntry(entry, path, options);
    const cursor = new StreamCursor(() => this.inflated(entry, STREAM_PLAN.first, { signal: options.signal }));
    return readableFile(path, entry.central.size, (s, e) => cursor.read(s, e), options, {
      details: { ...entry.info, name: path },
      ownedFetches: true,
      onClose: () => void cursor.close(),
    });
  }

  /** A symlink made on Unix keeps its target as the member's content. */
  protected override async linkTarget(entry: ZipEntry): Promise<string> {
    const bytes = entry.central.size === 0 ? new Uint8Array(0) : await this.readEntry(entry, 0, entry.central.size, {});
    return new TextDecoder().decode(bytes);
  }

  /** The member's whole content, inflated and checked (size, CRC-32) as it streams. */
  private async *inflated(entry: ZipEntry, firstRead: number, options: SignalOptions): AsyncGenerator<Uint8Array> {
    const c = entry.central;
    const name = entry.member.path ?? entry.member.rawName;
    const { fs, path } = await this.archive();
    const { dataOffset, head } = await this.locate(entry, firstRead, options);
    const rest = rangeChunks(
      (s, e) => fs.catFile(path, s, e, options),
      dataOffset + head.byteLength,
      dataOffset + c.compressedSize,
      { first: Math.max(firstRead - head.byteLength, 64 * 1024), max: STREAM_PLAN.max },
      path,
    );
    async function* compressed(): AsyncGenerator<Uint8Array> {
      if (head.byteLength > 0) yield head;
      yield* rest;
    }
    yield* verifiedOutput(decompressChunks(compressed(), createInflateRaw(), name), { size: c.size, crc: c.crc }, name);
  }

  /**
   * Where the member's data starts (its local header is read once), plus its first bytes when
   * `want` of them are small enough to come in the same read.
   */
  private async locate(entry: ZipEntry, want: number, options: SignalOptions): Promise<{ dataOffset: number; head: Uint8Array }> {
    const c = entry.central;
    const empty = new Uint8Array(0);
    if (entry.dataOffset !== undefined && (want === 0 || want > SMALL_MEMBER)) return { dataOffset: entry.dataOffset, head: empty };
    const { fs, path } = await this.archive();
    const withData = want > 0 && want <= SMALL_MEMBER ? want : 0;
    const headerBytes = LOCAL_HEADER_SIZE + c.nameLength + c.extraLength + LOCAL_SLACK;
    const bytes = await fs.catFile(path, entry.headerOffset, entry.headerOffset + headerBytes + withData, options);
    const dataOffset = localDataOffset(bytes, entry.headerOffset, path);
    entry.dataOffset = dataOffset;
    const from = dataOffset - entry.headerOffset;
    return { dataOffset, head: from < bytes.byteLength ? bytes.subarray(from, Math.min(bytes.byteLength, from + c.compressedSize)) : empty };
  }
}

/** The member's listed name, or ENOTSUP for what this reader cannot decode. */
function checkReadable(entry: ZipEntry): string {
  const c = entry.central;
  const name = entry.member.path ?? entry.member.rawName;
  if (c.flags & 1 || c.method === 99) throw FsError.enotsup("the member is encrypted; encrypted zip members are not supported", name);
  if (c.method !== STORED && c.method !== DEFLATE) {
    throw FsError.enotsup(`the member is compressed with ${methodName(c.method)} (method ${c.method}); only stored and deflate are supported`, name);
  }
  if (c.method === STORED && c.compressedSize !== c.size) {
    throw new FsError("EIO", `corrupt zip archive: a stored member of ${c.size} bytes occupies ${c.compressedSize}`, { path: name });
  }
  return name;
}

function entryOf(c: CentralEntry, prefix: number, cdStart: number, path: string): ZipEntry {
  const headerOffset = c.headerOffset + prefix;
  if (headerOffset + LOCAL_HEADER_SIZE + c.compressedSize > cdStart) {
    throw new FsError("EIO", `corrupt zip archive: the data of '${c.name}' would overlap the central directory`, { path });
  }
  const fileType = c.unixMode === undefined ? 0 : c.unixMode & 0o170000;
  const kind: ArchiveMemberKind =
    c.name.endsWith("/") || c.name.endsWith("\\") || fileType === 0o040000 ? "directory" : fileType === 0o120000 ? "symlink" : "file";
  const mode = c.unixMode === undefined ? undefined : c.unixMode & 0o7777;
  const encrypted = (c.flags & 1) !== 0 || c.method === 99;
  return {
    central: c,
    headerOffset,
    member: {
      rawName: c.name,
      path: undefined,
      kind,
      size: kind === "directory" ? 0 : c.size,
      mtime: c.mtime,
      ...(mode === undefined ? {} : { mode }),
    },
    info: {
      size: kind === "directory" ? 0 : c.size,
      type: kind === "directory" ? "directory" : kind === "symlink" ? "other" : "file",
      mtime: c.mtime,
      ...(mode === undefined ? {} : { mode }),
      ...(kind === "symlink" ? { islink: true } : {}),
      ...(kind === "directory" ? {} : { crc: c.crc, compressedSize: c.compressedSize, compression: methodName(c.method) }),
      ...(encrypted ? { encrypted: true } : {}),
    },
  };
}
