/**
 * The tar format, read side: ustar headers (with their name prefix), pax extended headers
 * (local and global: long names, large sizes, exact times), GNU long names and link names
 * (`././@LongLink`), GNU base-256 numbers. `scanTar` walks the headers of a whole archive
 * through small reads, skipping member data, and returns where each member's data lies.
 * Anything malformed is EIO naming the archive.
 */
import { FsError } from "../../core/errors.js";
import type { WindowReader } from "./ranged-reads.js";

export const BLOCK = 512;
/** Pax and GNU long-name records larger than this are refused as corrupt. */
const MAX_META_RECORD = 1024 * 1024;

export type TarKind = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarHeader {
  name: string;
  linkname: string;
  kind: TarKind;
  /** Bytes of content (for regular files). */
  size: number;
  /** Offset of the content in the (decompressed) tar stream. */
  dataOffset: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Date;
  /** The type letter as stored ("0", "5", "S"...). */
  typeflag: string;
}

const utf8 = new TextDecoder("utf-8");

function corrupt(path: string, what: string): FsError {
  return new FsError("EIO", `corrupt tar archive: ${what}`, { path });
}

function text(block: Uint8Array, at: number, length: number): string {
  const field = block.subarray(at, at + length);
  const nul = field.indexOf(0);
  return utf8.decode(nul < 0 ? field : field.subarray(0, nul));
}

/** An octal field (spaces and NULs around it), or GNU's base-256 form for large values. */
function number(block: Uint8Array, at: number, length: number, path: string, field: string): number {
  const first = block[at]!;
  if (first & 0x80) {
    if (first === 0xff) throw corrupt(path, `negative ${field}`);
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[at + i]!;
    if (!Number.isSafeInteger(value)) throw corrupt(path, `${field} too large`);
    return value;
  }
  const digits = text(block, at, length).replace(/^[ ]+|[ ]+$/g, "");
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) throw corrupt(path, `${field} is not a number ('${digits}')`);
  return parseInt(digits, 8);
}

function checksumOk(block: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

const isZeroBlock = (block: Uint8Array) => block.every((b) => b === 0);

/** `len key=value\n` records; values are UTF-8. */
export function parsePax(data: Uint8Array, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 0;
  while (p < data.byteLength) {
    if (data[p] === 0) break; // padding
    const space = data.indexOf(0x20, p);
    const length = space < 0 ? NaN : Number(utf8.decode(data.subarray(p, space)));
    if (!Number.isInteger(length) || length <= space - p || p + length > data.byteLength || data[p + length - 1] !== 0x0a) {
      throw corrupt(path, "a pax extended header record is malformed");
    }
    const record = utf8.decode(data.subarray(space + 1, p + length - 1));
    const eq = record.indexOf("=");
    if (eq <= 0) throw corrupt(path, "a pax extended header record has no key");
    out[record.slice(0, eq)] = record.slice(eq + 1);
    p += length;
  }
  return out;
}

function kindOf(typeflag: string, name: string): TarKind {
  switch (typeflag) {
    case "0":
    case "\0":
    case "7":
      return name.endsWith("/") ? "directory" : "file"; // old tars mark directories by the slash only
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "5":
    case "D":
      return "directory";
    case "3":
    case "4":
    case "6":
    case "S":
      return "other";
    default:
      return "file"; // POSIX: an unknown type is read as a regular file
  }
}

/** Whether data blocks follow a header of this type (they do for files and unknown types). */
function hasData(typeflag: string): boolean {
  return !["1", "2", "3", "4", "5", "6"].includes(typeflag);
}

const paxNumber = (value: string | undefined, path: string, key: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw corrupt(path, `pax ${key} '${value}' is not a number`);
  return n;
};

/**
 * Every member of the archive behind `reader`, in order, with where its data lies. A missing
 * end-of-archive marker is accepted (as tar does); a header or member cut short is EIO.
 */
export async function scanTar(reader: WindowReader, path: string): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  let lastDataEnd = 0;
  let endMarker = false;
  for (;;) {
    const block = await reader.bytes(pos, BLOCK);
    if (block.byteLength === 0) break;
    if (block.byteLength < BLOCK) throw corrupt(path, `header at offset ${pos} is cut short`);
    if (isZeroBlock(block)) {
      endMarker = true;
      break;
    }
    const stored = number(block, 148, 8, path, "checksum");
    if (!checksumOk(block, stored)) {
      throw corrupt(path, pos === 0 ? "not a tar archive (bad header checksum)" : `bad header checksum at offset ${pos}`);
    }
    const typeflag = String.fromCharCode(block[156]!);
    const headerSize = number(block, 124, 12, path, "size");
    const dataOffset = pos + BLOCK;
    const readMeta = async (): Promise<Uint8Array> => {
      if (headerSize > MAX_META_RECORD) throw corrupt(path, `an extended header of ${headerSize} bytes`);
      const data = await reader.bytes(dataOffset, headerSize);
      if (data.byteLength < headerSize) throw corrupt(path, `extended header at offset ${pos} is cut short`);
      return data;
    };
    const next = dataOffset + Math.ceil(headerSize / BLOCK) * BLOCK;
    if (typeflag === "L" || typeflag === "K") {
      const value = text(await readMeta(), 0, headerSize);
      if (typeflag === "L") longName = value;
      else longLink = value;
      pos = next;
      continue;
    }
    if (typeflag === "x" || typeflag === "g" || typeflag === "X") {
      const records = parsePax(await readMeta(), path);
      if (typeflag === "g") globalPax = { ...globalPax, ...records };
      else pax = { ...pax, ...records };
      pos = next;
      continue;
    }
    const fields = { ...globalPax, ...pax };
    const magic = text(block, 257, 6);
    const prefix = magic === "ustar" && block[263] === 0x30 ? text(block, 345, 155) : ""; // POSIX ustar only (GNU uses those bytes otherwise)
    const stem = text(block, 0, 100);
    const name = fields.path ?? longName ?? (prefix ? `${prefix}/${stem}` : stem);
    const linkname = fields.linkpath ?? longLink ?? text(block, 157, 100);
    const size = paxNumber(fields.size, path, "size") ?? headerSize;
    if (!Number.isSafeInteger(size)) throw corrupt(path, `pax size '${fields.size}' is not a whole number`);
    const dataBlocks = hasData(typeflag) ? Math.ceil(size / BLOCK) * BLOCK : 0;
    longName = longLink = undefined;
    pax = {};
    if (typeflag === "V") {
      pos = dataOffset + dataBlocks; // a volume label, not a member
      continue;
    }
    const kind = kindOf(typeflag, name);
    const mtime = paxNumber(fields.mtime, path, "mtime") ?? number(block, 136, 12, path, "mtime");
    out.push({
      name,
      linkname,
      kind,
      size: kind === "file" ? size : 0,
      dataOffset,
      mode: number(block, 100, 8, path, "mode") & 0o7777,
      uid: paxNumber(fields.uid, path, "uid") ?? number(block, 108, 8, path, "uid"),
      gid: paxNumber(fields.gid, path, "gid") ?? number(block, 116, 8, path, "gid"),
      uname: fields.uname ?? text(block, 265, 32),
      gname: fields.gname ?? text(block, 297, 32),
      mtime: new Date(mtime * 1000),
      typeflag,
    });
    if (dataBlocks > 0) lastDataEnd = dataOffset + size;
    pos = dataOffset + dataBlocks;
  }
  // Without an end marker the stream may stop inside the last member's data.
  if (!endMarker && lastDataEnd > 0 && (await reader.bytes(lastDataEnd - 1, 1)).byteLength === 0) {
    throw corrupt(path, `archive truncated: a member's data ends at offset ${lastDataEnd}, past the end`);
  }
  return out;
}
