/**
 * A minimal ustar writer for the demo (regular files only, names under 100 bytes), gzipped:
 * enough to publish an archive package without an external tool.
 */
import { gzipSync } from "node:zlib";

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => h.write(text.slice(0, length), offset, length, "utf8");
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0");
  put(name, 0, 100);
  put(`${octal(0o644, 8)}\0`, 100, 8);
  put(`${octal(0, 8)}\0`, 108, 8);
  put(`${octal(0, 8)}\0`, 116, 8);
  put(`${octal(size, 12)}\0`, 124, 12);
  put(`${octal(mtime, 12)}\0`, 136, 12);
  put("        ", 148, 8); // the checksum counts its own field as spaces
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/** A .tar.gz holding `files` (path -> bytes). */
export function tarGz(files: Record<string, Uint8Array | string>, mtime = 1_700_000_000): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const body = Buffer.from(data);
    parts.push(header(name, body.byteLength, mtime), body, Buffer.alloc((512 - (body.byteLength % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(parts));
}
