/**
 * The zip format (PKWARE APPNOTE 6.3), read side: the end-of-central-directory records
 * (zip64 included), central directory entries with their extra fields, and local headers.
 * Pure functions over bytes; anything malformed is EIO naming the archive.
 */
import { FsError } from "../../core/errors.js";
import { crc32 } from "./crc32.js";

const EOCD_SIG = 0x06054b50;
const EOCD64_SIG = 0x06064b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

export const EOCD_SIZE = 22;
export const EOCD64_LOCATOR_SIZE = 20;
export const EOCD64_SIZE = 56;
export const CENTRAL_HEADER_SIZE = 46;
export const LOCAL_HEADER_SIZE = 30;
/** The longest comment an EOCD record can carry. */
export const MAX_COMMENT = 0xffff;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

export const METHOD_NAMES: Record<number, string> = {
  0: "stored",
  1: "shrunk",
  6: "imploded",
  8: "deflate",
  9: "deflate64",
  12: "bzip2",
  14: "lzma",
  93: "zstd",
  95: "xz",
  96: "jpeg",
  97: "wavpack",
  98: "ppmd",
  99: "aes-encrypted",
};

export const methodName = (method: number): string => METHOD_NAMES[method] ?? `method ${method}`;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function corrupt(path: string, what: string): FsError {
  return new FsError("EIO", `corrupt zip archive: ${what}`, { path });
}

function u64(dv: DataView, at: number, path: string): number {
  const value = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(value)) throw corrupt(path, `a 64-bit field (${value}) is beyond what this reader handles`);
  return value;
}

/** Where the central directory is, from the tail of the archive. */
export interface EndRecord {
  entries: number;
  cdSize: number;
  cdOffset: number;
  /** Absolute position of the record that ends the central directory (EOCD64 when zip64). */
  cdEnd: number;
  zip64: boolean;
}

/**
 * Find the end record in `tail` (the last bytes of an archive of `size` bytes): the last
 * signature whose comment runs exactly to the end of the file, so a signature inside the
 * comment does not count; failing that, the last one whose comment fits.
 */
export function findEndRecord(tail: Uint8Array, size: number, path: string): { at: number; record: EndRecord } {
  const dv = view(tail);
  const tailStart = size - tail.byteLength;
  // A record whose comment ends exactly at the end of the file first; then one followed by junk.
  let at = -1;
  for (const exact of [true, false]) {
    for (let i = tail.byteLength - EOCD_SIZE; at < 0 && i >= 0 && i >= tail.byteLength - EOCD_SIZE - MAX_COMMENT; i--) {
      if (dv.getUint32(i, true) !== EOCD_SIG) continue;
      const end = i + EOCD_SIZE + dv.getUint16(i + 20, true);
      if (exact ? end === tail.byteLength : end <= tail.byteLength) at = i;
    }
    if (at >= 0) break;
  }
  if (at < 0) throw new FsError("EIO", "not a zip archive (no end of central directory record)", { path });
  const disk = dv.getUint16(at + 4, true);
  const cdDisk = dv.getUint16(at + 6, true);
  let entries = dv.getUint16(at + 10, true);
  let cdSize = dv.getUint32(at + 12, true);
  let cdOffset = dv.getUint32(at + 16, true);
  let cdEnd = tailStart + at;
  let zip64 = false;
  const loc = at - EOCD64_LOCATOR_SIZE;
  if (loc >= 0 && dv.getUint32(loc, true) === EOCD64_LOCATOR_SIG) {
    // The zip64 record normally sits just before its locator; otherwise trust the locator.
    let rec = loc - EOCD64_SIZE;
    if (rec < 0 || dv.getUint32(rec, true) !== EOCD64_SIG) {
      rec = u64(dv, loc + 8, path) - tailStart;
      if (rec < 0 || rec + EOCD64_SIZE > tail.byteLength || dv.getUint32(rec, true) !== EOCD64_SIG) {
        throw corrupt(path, "the zip64 end record is missing");
      }
    }
    if (dv.getUint32(rec + 16, true) !== 0 || dv.getUint32(rec + 20, true) !== 0 || dv.getUint32(loc + 16, true) > 1) {
      throw FsError.enotsup("split (multi-disk) zip archives are not supported", path);
    }
    entries = u64(dv, rec + 32, path);
    cdSize = u64(dv, rec + 40, path);
    cdOffset = u64(dv, rec + 48, path);
    cdEnd = tailStart + rec;
    zip64 = true;
  } else if (disk !== 0 || cdDisk !== 0) {
    throw FsError.enotsup("split (multi-disk) zip archives are not supported", path);
  } else if (entries === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    throw corrupt(path, "the end record needs zip64 but there is no zip64 locator");
  }
  return { at, record: { entries, cdSize, cdOffset, cdEnd, zip64 } };
}

/** One central directory entry, decoded. */
export interface CentralEntry {
  name: string;
  versionMadeBy: number;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the local header, as recorded (before any prefix adjustment). */
  headerOffset: number;
  /** Bytes of the stored name and extra field (the local header usually repeats the name, not always the extra). */
  nameLength: number;
  extraLength: number;
  externalAttributes: number;
  mtime: Date;
  /** Unix mode bits, when the entry was made on Unix. */
  unixMode: number | undefined;
}

// CP437 for bytes 0x80..0xFF: names without the UTF-8 flag (bit 11) are in this code page.
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

export function decodeCp437(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return out;
}

const utf8 = new TextDecoder("utf-8");

/** DOS date and time are local time with two-second resolution. */
function dosTime(date: number, time: number): Date {
  return new Date(1980 + (date >> 9), ((date >> 5) & 0xf) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
}

/** Parse the central directory `cd` (exactly `count` entries expected). */
export function parseCentralDirectory(cd: Uint8Array, count: number, path: string): CentralEntry[] {
  if (count * CENTRAL_HEADER_SIZE > cd.byteLength) throw corrupt(path, `${count} entries cannot fit in a central directory of ${cd.byteLength} bytes`);
  const dv = view(cd);
  const out: CentralEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_HEADER_SIZE > cd.byteLength || dv.getUint32(p, true) !== CENTRAL_SIG) {
      throw corrupt(path, `central directory entry ${i} is missing or damaged`);
    }
    const versionMadeBy = dv.getUint16(p + 4, true);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const time = dv.getUint16(p + 12, true);
    const date = dv.getUint16(p + 14, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const diskStart = dv.getUint16(p + 34, true);
    const externalAttributes = dv.getUint32(p + 38, true);
    let headerOffset = dv.getUint32(p + 42, true);
    const nameStart = p + CENTRAL_HEADER_SIZE;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > cd.byteLength) throw corrupt(path, `central directory entry ${i} runs past the directory`);
    const rawName = cd.subarray(nameStart, extraStart);
    let name = flags & 0x800 ? utf8.decode(rawName) : decodeCp437(rawName);
    let mtime = dosTime(date, time);

    for (let e = extraStart; e + 4 <= extraStart + extraLength; ) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      const d = e + 4;
      if (d + len > extraStart + extraLength) break; // a damaged extra field: ignore the rest
      if (id === 0x0001) {
        // zip64: only the fields whose 32-bit value is saturated are here, in this order.
        let q = d;
        const take = () => {
          if (q + 8 > d + len) throw corrupt(path, `the zip64 field of '${name}' is too short`);
          const v = u64(dv, q, path);
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = take();
        if (compressedSize === U32_MAX) compressedSize = take();
        if (headerOffset === U32_MAX) headerOffset = take();
      } else if (id === 0x5455 && len >= 5 && dv.getUint8(d) & 1) {
        mtime = new Date(dv.getInt32(d + 1, true) * 1000); // Info-ZIP extended timestamp (UTC)
      } else if (id === 0x000a && len >= 32 && dv.getUint16(d + 4, true) === 1 && dv.getUint16(d + 6, true) >= 24) {
        const ticks = dv.getUint32(d + 8, true) + dv.getUint32(d + 12, true) * 2 ** 32; // NTFS: 100 ns since 1601
        mtime = new Date(ticks / 1e4 - 11644473600000);
      } else if (id === 0x7075 && len >= 5 && dv.getUint8(d) === 1 && dv.getUint32(d + 1, true) === crc32(rawName)) {
        name = utf8.decode(cd.subarray(d + 5, d + len)); // Info-ZIP Unicode path, valid for this name
      }
      e = d + len;
    }
    if (diskStart !== 0 && diskStart !== U16_MAX) throw FsError.enotsup("split (multi-disk) zip archives are not supported", path);
    if (size === U32_MAX || compressedSize === U32_MAX || headerOffset === U32_MAX) {
      throw corrupt(path, `'${name}' needs a zip64 field it does not have`);
    }
    const madeOnUnix = versionMadeBy >> 8 === 3;
    out.push({
      name,
      versionMadeBy,
      flags,
      method,
      crc,
      compressedSize,
      size,
      headerOffset,
      nameLength,
      extraLength,
      externalAttributes,
      mtime,
      unixMode: madeOnUnix ? externalAttributes >>> 16 : undefined,
    });
    p = next;
  }
  return out;
}

/** Where a member's data starts, from its local header (whose extra field may differ from the central one). */
export function localDataOffset(header: Uint8Array, headerOffset: number, path: string): number {
  if (header.byteLength < LOCAL_HEADER_SIZE) throw corrupt(path, "a local header is truncated");
  const dv = view(header);
  if (dv.getUint32(0, true) !== LOCAL_SIG) throw corrupt(path, `no local header at offset ${headerOffset}`);
  return headerOffset + LOCAL_HEADER_SIZE + dv.getUint16(26, true) + dv.getUint16(28, true);
}
