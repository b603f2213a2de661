/** Real filesystems that count what reaches them, so tests can tell cache hits from misses. */
import { createHash } from "node:crypto";
import { AbstractFileSystem, MemoryFileSystem, type BufferedFile, type FileInfo, type FileOpenOptions, type SignalOptions } from "../../../src/index.js";

export interface TargetCounts {
  /** Ranged or whole reads of file bytes, and the bytes they returned. */
  reads: number;
  bytes: number;
  infos: number;
  ukeys: number;
}

/** A private-store memory filesystem that counts reads, infos and ukeys. */
export class CountingMemoryFileSystem extends MemoryFileSystem {
  readonly counts: TargetCounts = { reads: 0, bytes: 0, infos: 0, ukeys: 0 };

  constructor() {
    super({ store: "private" });
  }

  reset(): void {
    Object.assign(this.counts, { reads: 0, bytes: 0, infos: 0, ukeys: 0 });
  }

  protected override async _catFile(path: string, start: number, end: number | undefined, options?: SignalOptions): Promise<Uint8Array> {
    this.counts.reads++;
    const data = await super._catFile(path, start, end);
    this.counts.bytes += data.byteLength;
    return data;
  }

  protected override async _info(path: string, options?: SignalOptions): Promise<FileInfo> {
    this.counts.infos++;
    return super._info(path);
  }

  /** Opened files read through `_catFile` (the default), so their reads are counted too. */
  protected override openForRead(path: string, options: FileOpenOptions): Promise<BufferedFile> {
    return (AbstractFileSystem.prototype as unknown as { openForRead: (p: string, o: FileOpenOptions) => Promise<BufferedFile> }).openForRead.call(this, path, options);
  }

  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    this.counts.ukeys++;
    return super.ukey(path, options);
  }
}

/** Deterministic pseudo-random bytes (xorshift), so big files need no storage. */
export function makeBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
    if (i + 1 < n) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
export const text = (data: Uint8Array) => new TextDecoder().decode(data);
export const hex = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
