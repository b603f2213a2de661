/** Pull-style reads (`read(n)`, `readline()`) over any async iterable of byte chunks. */
import { concatBytes } from "./upload-sink.js";

export class StreamReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private done = false;
  private consumed = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Bytes handed out so far. */
  get position(): number {
    return this.consumed;
  }

  private async fill(target: number): Promise<void> {
    while (!this.done && this.pendingBytes < target) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const chunk = next.value instanceof Uint8Array ? next.value : new Uint8Array(next.value as ArrayBuffer);
      if (chunk.byteLength === 0) continue;
      this.pending.push(chunk);
      this.pendingBytes += chunk.byteLength;
    }
  }

  private take(n: number): Uint8Array {
    const all = concatBytes(this.pending, this.pendingBytes);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.byteLength ? [rest] : [];
    this.pendingBytes = rest.byteLength;
    this.consumed += out.byteLength;
    return out;
  }

  /** Up to `n` bytes; everything left when n is negative or omitted. Empty at the end. */
  async read(n = -1): Promise<Uint8Array> {
    await this.fill(n < 0 ? Infinity : n);
    return this.take(n < 0 ? this.pendingBytes : Math.min(n, this.pendingBytes));
  }

  async readline(): Promise<Uint8Array> {
    let scanned = 0;
    for (;;) {
      const all = concatBytes(this.pending, this.pendingBytes);
      this.pending = all.byteLength ? [all] : [];
      const nl = all.indexOf(10, scanned);
      if (nl >= 0) return this.take(nl + 1);
      scanned = all.byteLength;
      if (this.done) return this.take(this.pendingBytes);
      await this.fill(this.pendingBytes + 1);
    }
  }

  async close(): Promise<void> {
    this.done = true;
    await this.iterator.return?.();
  }
}
