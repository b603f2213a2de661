/**
 * A large file downloaded as several ranged requests at once, each written at its offset: where
 * a server or a network caps each connection, N connections fetch N times as fast. The ranges
 * are parts taken from one queue, so a slow connection takes fewer of them. Every part is pinned
 * to the version the download started on (by the backend's `openPart`): a file replaced meanwhile
 * fails with ECHANGED, never a file spliced from two versions. The first failure stops the other
 * parts.
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

/** [start, end) cut into parts: about four per connection, each 8 to 64 MiB. */
export function planParts(start: number, end: number, concurrency: number): Array<[number, number]> {
  const length = end - start;
  const part = Math.min(MAX_PART, Math.max(MIN_PART, Math.ceil(length / (concurrency * 4))));
  const parts: Array<[number, number]> = [];
  for (let s = start; s < end; s += part) parts.push([s, Math.min(end, s + part)]);
  return parts;
}

/** How often the connection count is reconsidered. */
const RAMP_TICK_MS = 200;
/** A doubling of connections must raise the throughput by this factor to be kept (1.25 kept 4 connections to nginx on loopback, at 2x the CPU of one). */
const RAMP_GAIN = 1.5;

/**
 * Fetch [start, end) in parts, each written to `sink` at its offset less `origin` (default `start`);
 * `openPart(start, end, signal)` sends one part's request, pinned to the version. Connections
 * ramp up as the peers' downloaders do: one at first (its first tick is warm-up), doubled each tick while the throughput
 * grows with them (a server or network that caps each connection), up to `concurrency`; where
 * one connection already takes all there is (loopback, a saturated link), the count steps back.
 */
export async function downloadParts(
  sink: ByteSink,
  start: number,
  end: number,
  concurrency: number,
  signal: AbortSignal | undefined,
  openPart: (start: number, end: number, signal: AbortSignal) => Promise<PartReader>,
  origin = start,
): Promise<void> {
  const parts = planParts(start, end, concurrency);
  const linked = linkedAbort(signal);
  const stop = linked.controller;
  let failure: { error: unknown } | undefined;
  let nextPart = 0;
  let active = 0;
  let target = 1;
  let received = 0;
  const write = (chunk: Uint8Array, offset: number) => {
    received += chunk.byteLength;
    return sink.write(chunk, offset - origin);
  };
  const worker = async () => {
    // A worker beyond the target stops after its part (the ramp stepped back).
    while (!failure && nextPart < parts.length && active <= target) {
      const [s, e] = parts[nextPart++]!;
      let part: PartReader | undefined;
      try {
        part = await openPart(s, e, stop.signal);
        await part.pipeTo(write);
      } catch (error) {
        part?.cancel();
        // The first failure is the one reported: the aborts it caused in the other parts are not.
        failure ??= { error };
        stop.abort(error);
      }
    }
  };
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const launch = () => {
    while (!failure && active < target && nextPart < parts.length) {
      active++;
      void worker().finally(() => {
        active--;
        if (active === 0 && (failure || nextPart >= parts.length)) finished();
        else launch();
      });
    }
  };
  let tick = performance.now();
  let last = { rate: 0, target: 1 };
  let settled = concurrency === 1;
  // The first tick holds the first connection's warm-up (its request, TCP slow start): not a rate to judge by.
  let warmedUp = false;
  const ramp = setInterval(() => {
    const now = performance.now();
    const rate = received / (now - tick);
    tick = now;
    received = 0;
    if (settled) return;
    if (!warmedUp) {
      warmedUp = true;
      return;
    }
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
    launch();
    await allDone;
  } finally {
    clearInterval(ramp);
    linked.dispose();
  }
  if (failure) throw failure.error;
}

/** A stream from byte 0 that can be cut short (an HTTP RangeDownload). */
export interface FirstStream extends PartReader {
  /** Whether the server answered with a range (206): parts of the rest can be asked for. */
  readonly partial: boolean;
  limitTo(end: number): void;
}

/**
 * Finish a download whose first GET already streams from `start` (as every whole-file download
 * starts): a small range, or a sink that takes bytes only in order, reads on from it; for a large
 * one on a positioned sink the first GET keeps only the first part and the rest of [start, end)
 * goes as parallel parts (`openPart`, pinned to the first answer's version). The sink's offset 0
 * is the file's byte `start`. `stop` aborts the first stream: a failure on either side stops the
 * other.
 */
export async function finishFromFirst(
  first: FirstStream,
  start: number,
  end: number | undefined,
  sink: ByteSink,
  tuning: DownloadTuning,
  stop: AbortController,
  openPart: (start: number, end: number, signal: AbortSignal) => Promise<PartReader>,
): Promise<void> {
  const toSink = (chunk: Uint8Array, offset: number) => sink.write(chunk, offset - start);
  if (end === undefined || !first.partial || !sink.positioned || !goesParallel(tuning, end - start)) {
    await first.pipeTo(toSink);
    return;
  }
  const firstEnd = planParts(start, end, tuning.concurrency)[0]![1];
  first.limitTo(firstEnd);
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort(error);
  };
  await Promise.all([
    first.pipeTo(toSink).catch(fail),
    downloadParts(sink, firstEnd, end, Math.max(1, tuning.concurrency - 1), stop.signal, openPart, start).catch(fail),
  ]);
  if (failure) throw failure.error;
}

/** An AbortController that follows `signal` (an abort of the caller aborts it too); `dispose` unlinks it. */
export function linkedAbort(signal: AbortSignal | undefined): { controller: AbortController; signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return { controller, signal: controller.signal, dispose: () => signal?.removeEventListener("abort", onAbort) };
}
