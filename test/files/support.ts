/**
 * Test backends for the file tests: real MemoryFileSystem subclasses that count or record what
 * reaches their primitives (no part of the library is replaced), and a recording fetcher for
 * driving read caches directly.
 */
import { MemoryFileSystem, type FileInfo, type PipeMode, type SignalOptions } from "../../src/index.js";
import type { RangeFetcher } from "../../src/files/read-caches.js";
import type { SinkOptions, UploadSink } from "../../src/files/upload-sink.js";

/** Deterministic bytes with a newline now and then, so line reads have something to find. */
export function patterned(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x % 23 === 0 ? 10 : 32 + (x >>> 24) % 95;
  }
  return out;
}

/** Let pending promise callbacks (and a few rounds of I/O callbacks) run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** A fetcher over `data` that records every [start, end) asked of it. */
export function recordingFetcher(data: Uint8Array): { fetcher: RangeFetcher; calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  const fetcher: RangeFetcher = async (start, end) => {
    calls.push([start, end]);
    return data.slice(start, end);
  };
  return { fetcher, calls };
}

/** A promise with its resolve and reject handed out, to hold work until a test releases it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export type SinkEvent =
  | { kind: "chunk"; bytes: number; final: boolean; accepted: boolean }
  | { kind: "commit" }
  | { kind: "discard" };

export interface RecordingOptions {
  /** Refuse non-final chunks smaller than this (S3's 5 MiB part minimum, scaled down). */
  minChunk?: number;
  /** Make the upload of chunk number N (0-based, non-final and final alike) fail. */
  failChunk?: number;
  /** Refuse the final chunk too (a broken backend). */
  refuseFinal?: boolean;
  /** Await this before answering each upload (to hold uploads in flight). */
  gate?: () => Promise<void>;
}

/**
 * Memory filesystem whose opened writers record every sink call: the trace of chunks handed
 * over (size, final, accepted), commits and discards. Bytes still land in the store.
 */
export class RecordingMemoryFs extends MemoryFileSystem {
  readonly events: SinkEvent[] = [];
  recording: RecordingOptions = {};

  constructor() {
    super({ store: "private" });
  }

  /** Just the chunk events, as [bytes, final] pairs of accepted chunks. */
  get uploads(): Array<[number, boolean]> {
    return this.events.flatMap((e) => (e.kind === "chunk" && e.accepted ? [[e.bytes, e.final] as [number, boolean]] : []));
  }

  protected override async _openWriter(path: string, options: SinkOptions): Promise<UploadSink> {
    const inner = await super._openWriter(path, options);
    let n = 0;
    return {
      uploadChunk: async (data, final) => {
        const index = n++;
        await this.recording.gate?.();
        if (this.recording.failChunk === index) throw new Error(`upload of chunk ${index} failed`);
        const min = this.recording.minChunk ?? 0;
        const refuse = final ? this.recording.refuseFinal === true : data.byteLength < min;
        const accepted = refuse ? false : await inner.uploadChunk(data, final);
        this.events.push({ kind: "chunk", bytes: data.byteLength, final, accepted });
        return accepted;
      },
      commit: async () => {
        this.events.push({ kind: "commit" });
        await inner.commit();
      },
      discard: async () => {
        this.events.push({ kind: "discard" });
        await inner.discard();
      },
    };
  }
}

/**
 * Memory filesystem counting what reaches its primitives, and how many calls were in flight
 * at once (each call yields to the event loop once, so concurrent calls overlap).
 */
export class CountingMemoryFs extends MemoryFileSystem {
  readonly catCalls: Array<[string, number, number | undefined]> = [];
  calls = { cat: 0, info: 0, rm: 0, cp: 0, pipe: 0 };
  active = 0;
  peak = 0;

  constructor(options: { concurrency?: number } = {}) {
    super({ store: "private", ...options });
  }

  reset(): void {
    this.catCalls.length = 0;
    this.calls = { cat: 0, info: 0, rm: 0, cp: 0, pipe: 0 };
    this.peak = 0;
  }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      await new Promise((r) => setImmediate(r));
      return await fn();
    } finally {
      this.active--;
    }
  }

  protected override _catFile(path: string, start: number, end: number | undefined, _options?: SignalOptions): Promise<Uint8Array> {
    this.calls.cat++;
    this.catCalls.push([path, start, end]);
    return this.track(() => super._catFile(path, start, end));
  }

  protected override _info(path: string, _options?: SignalOptions): Promise<FileInfo> {
    this.calls.info++;
    return this.track(() => super._info(path));
  }

  protected override _rmFile(path: string, _options?: SignalOptions): Promise<void> {
    this.calls.rm++;
    return this.track(() => super._rmFile(path));
  }

  protected override _cpFile(src: string, dst: string, _options?: SignalOptions): Promise<void> {
    this.calls.cp++;
    return this.track(() => super._cpFile(src, dst));
  }

  protected override _pipeFile(path: string, data: Uint8Array, mode: PipeMode, _options?: SignalOptions): Promise<void> {
    this.calls.pipe++;
    return this.track(() => super._pipeFile(path, data, mode));
  }
}
