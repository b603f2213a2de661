/**
 * A large file downloaded as one stream that hands parts of its tail to more ranged requests
 * while they raise the throughput, each written at its offset: where a server or a network caps
 * each connection, N connections fetch N times as fast; where one connection already takes all
 * there is (loopback, a saturated link), the download stays one stream and costs no more CPU or
 * requests. A connection that finishes its part takes the next one down, so a slow connection
 * takes fewer. Every part is pinned to the version the download started on (by the backend's
 * `openPart`): a file replaced meanwhile fails with ECHANGED, never a file spliced from two
 * versions. The first failure stops the other parts.
 */
import { FsError } from "../core/errors.js";
import type { ByteSink } from "./byte-sink.js";

/** One part's bytes, handed to a writer as they arrive (an HTTP RangeDownload is one). */
export interface PartReader {
  pipeTo(write: (chunk: Uint8Array, offset: number) => void | Promise<void>): Promise<void>;
  cancel(): void;
}

/** Constructor options of the backends that download in parallel ranges (http, hf, ngc, s3, gs). */
export interface ParallelDownloadOptions {
  /**
   * Ranged requests at most at once for one large download (`get`, `getFile`, the file caches);
   * default 4. 1: always one streamed request.
   */
  rangeConcurrency?: number;
  /** Files of at least this many bytes are downloaded in parallel ranges (default 64 MiB). */
  rangeThreshold?: number;
}

/** Chosen by measurement (docs/benchmarks.md): 4 connections reach 4x a capped one, and cost nothing on loopback. */
export const DEFAULT_DOWNLOAD_CONCURRENCY = 4;
export const DEFAULT_DOWNLOAD_THRESHOLD = 64 * 2 ** 20;
const MIN_PART = 8 * 2 ** 20;
const MAX_PART = 64 * 2 ** 20;

/** How one backend instance downloads large files. */
export interface DownloadTuning {
  concurrency: number;
  threshold: number;
}

function whole(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw FsError.einval(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** The tuning of a backend's options (EINVAL for values out of bounds). */
export function downloadTuning(options: ParallelDownloadOptions): DownloadTuning {
  return {
    concurrency: whole("rangeConcurrency", options.rangeConcurrency, DEFAULT_DOWNLOAD_CONCURRENCY, 1),
    threshold: whole("rangeThreshold", options.rangeThreshold, DEFAULT_DOWNLOAD_THRESHOLD, 0),
  };
}

/** The option checks of ParallelDownloadOptions, for a backend's `ownOptions` (bounds: downloadTuning). */
export const PARALLEL_DOWNLOAD_OPTION_NAMES = ["rangeConcurrency", "rangeThreshold"] as const;

/** Whether bytes [start, end) go as parallel ranges: large enough, and more than one connection allowed. */
export function goesParallel(tuning: DownloadTuning, length: number): boolean {
  return tuning.concurrency > 1 && length >= tuning.threshold && length >= 2 * MIN_PART;
}

/** The part size of a download of [start, end): about four parts per connection, each 8 to 64 MiB. */
export function partSizeFor(start: number, end: number, concurrency: number): number {
  return Math.min(MAX_PART, Math.max(MIN_PART, Math.ceil((end - start) / (concurrency * 4))));
}

/** How often the connection count is reconsidered. */
const RAMP_TICK_MS = 200;
/** A doubling of connections must raise the throughput by this factor to be kept (1.25 kept 4 connections to nginx on loopback, at 2x the CPU of one). */
const RAMP_GAIN = 1.5;

/** Bytes the first stream keeps ahead of where it is when its tail is cut (what is in flight to it). */
const CUT_LEAD = 2 ** 20;

/** A stream that can be cut short: it stops at `end` (or where it has to, if later) and says where. */
export interface FirstStream extends PartReader {
  /** Whether the server answered with a range (206): parts of the rest can be asked for. */
  readonly partial: boolean;
  /** Stop at `end` at the latest; returns where the stream will end now (never before what it already read). */
  limitTo(end: number): number;
}

/**
 * Fetch [start, end) into `sink` as one stream (`first`, already open from `start`) that hands
 * the tail of what it has not read yet to more connections while that pays, as the peers'
 * downloaders ramp: the first tick is warm-up (the request, TCP slow start), then the count of
 * connections doubles each tick while the throughput grows with it (a server or a network that
 * caps each connection), up to `tuning.concurrency`; where one connection already takes all
 * there is (loopback, a saturated link) the count steps back and the download stays one stream.
 * Each added connection takes a part from the end of what the first stream has left (`openPart`,
 * pinned to the first answer's version) and then the next one below it, so the first stream is
 * cut only where no part has been handed out, never mid-part. A sink that takes bytes only in
 * order, a small range, or an answer without ranges reads on from `first`. The sink's offset 0 is
 * the file's byte `origin` (default `start`). `stop` aborts everything: a failure on either side
 * stops the other.
 */
export async function finishFromFirst(
  first: FirstStream,
  start: number,
  end: number | undefined,
  sink: ByteSink,
  tuning: DownloadTuning,
  stop: AbortController,
  openPart: (start: number, end: number, signal: AbortSignal) => Promise<PartReader>,
  origin = start,
): Promise<void> {
  if (end === undefined || !first.partial || !sink.positioned || !goesParallel(tuning, end - start)) {
    await first.pipeTo((chunk, offset) => sink.write(chunk, offset - origin));
    return;
  }
  const concurrency = tuning.concurrency;
  const partSize = partSizeFor(start, end, concurrency);
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort(error);
  };
  let received = 0;
  /** The next byte the first stream writes, and where it ends: parts are handed out below `firstEnd`, which then moves down. */
  let firstPos = start;
  let firstEnd = end;
  let firstDone = false;
  const firstWrite = (chunk: Uint8Array, offset: number) => {
    firstPos = offset + chunk.byteLength;
    received += chunk.byteLength;
    return sink.write(chunk, offset - origin);
  };
  const partWrite = (chunk: Uint8Array, offset: number) => {
    received += chunk.byteLength;
    return sink.write(chunk, offset - origin);
  };
  /** The next part, from the top of what the first stream has left (worth a connection: MIN_PART or more), or none. */
  const claim = (): [number, number] | undefined => {
    if (firstDone || failure) return undefined;
    const floor = firstPos + CUT_LEAD;
    if (firstEnd - floor < MIN_PART) return undefined;
    const from = first.limitTo(Math.max(floor, firstEnd - partSize));
    if (from >= firstEnd) return undefined;
    const range: [number, number] = [from, firstEnd];
    firstEnd = from;
    return range;
  };
  let target = 1; // connections, the first stream's included
  let workers = 0;
  const running = new Set<Promise<void>>();
  const worker = async () => {
    // A worker beyond the target stops after its part (the ramp stepped back).
    while (!failure && workers < target) {
      const range = claim();
      if (!range) return;
      let part: PartReader | undefined;
      try {
        part = await openPart(range[0], range[1], stop.signal);
        await part.pipeTo(partWrite);
      } catch (error) {
        part?.cancel();
        // The first failure is the one reported: the aborts it caused in the other parts are not.
        fail(error);
      }
    }
  };
  const launch = () => {
    while (!failure && !firstDone && workers + 1 < target) {
      workers++;
      const run: Promise<void> = worker().finally(() => {
        workers--;
        running.delete(run);
      });
      running.add(run);
    }
  };
  let tick = performance.now();
  let last = { rate: 0, target: 1 };
  let settled = concurrency === 1;
  /** The warm-up tick's rate (undefined until it passed): one stream's baseline is the better of it and the next tick. */
  let warmRate: number | undefined;
  const ramp = setInterval(() => {
    const now = performance.now();
    let rate = received / (now - tick);
    tick = now;
    received = 0;
    if (settled) return;
    if (warmRate === undefined) {
      warmRate = rate;
      return;
    }
    // One stream stalled for a tick (a disk flushing under the sink) must not pass for a
    // connection cap that more streams would lift.
    if (last.rate === 0) rate = Math.max(rate, warmRate);
    if (last.rate > 0 && rate < last.rate * RAMP_GAIN) {
      // The last doubling did not pay: back to the count before it.
      target = last.target;
      settled = true;
      return;
    }
    if (target === concurrency) {
      settled = true;
      return;
    }
    last = { rate, target };
    target = Math.min(concurrency, target * 2);
    launch();
  }, RAMP_TICK_MS);
  ramp.unref();
  try {
    await first.pipeTo(firstWrite).catch(fail);
    firstDone = true;
    while (running.size > 0) await Promise.all(running);
  } finally {
    clearInterval(ramp);
  }
  if (failure) throw failure.error;
}

/**
 * A FirstStream over parts read one after another from `start`, for a backend whose reads cannot
 * be cut mid-stream: `limitTo` cuts between parts (the part being read always ends where it was
 * asked to).
 */
export function partsInOrder(
  start: number,
  end: number,
  partSize: number,
  signal: AbortSignal,
  openPart: (start: number, end: number, signal: AbortSignal) => Promise<PartReader>,
): FirstStream {
  let limit = end;
  let asked = start;
  let current: PartReader | undefined;
  return {
    partial: true,
    limitTo: (at) => (limit = Math.max(Math.min(limit, at), asked)),
    cancel: () => current?.cancel(),
    pipeTo: async (write) => {
      while (asked < limit) {
        const from = asked;
        asked = Math.min(limit, from + partSize);
        current = await openPart(from, asked, signal);
        await current.pipeTo(write);
      }
    },
  };
}

/** An AbortController that follows `signal` (an abort of the caller aborts it too); `dispose` unlinks it. */
export function linkedAbort(signal: AbortSignal | undefined): { controller: AbortController; signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return { controller, signal: controller.signal, dispose: () => signal?.removeEventListener("abort", onAbort) };
}
