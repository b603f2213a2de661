/**
 * CRC-32 (the zip checksum), incremental: `crc32(chunk, previous)`. Node's own `zlib.crc32`
 * (Node >= 20.15) when present, else a table in JavaScript for older Node 20 releases.
 */
import * as zlib from "node:zlib";

type Crc32 = (data: Uint8Array, value?: number) => number;

const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export const crc32: Crc32 = native ? (data, value = 0) => native(data, value) >>> 0 : tableCrc32;
