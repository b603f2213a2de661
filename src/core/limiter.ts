/**
 * The one bounded-concurrency helper every batch call uses: a sliding window over thunks,
 * results in input order. On the first failure the rest are not started and in-flight work
 * is told to stop through the signal, unless `onError` keeps going.
 */
import { FsError, throwIfAborted } from "./errors.js";
import type { OnError } from "./types.js";

/** The default `concurrency` of filesystems and batch calls: 16. */
export const DEFAULT_CONCURRENCY = 16;

/** Options of `mapBounded` and `settleBounded`. */
export interface MapBoundedOptions {
  /** Items in flight at once; default 16 (`DEFAULT_CONCURRENCY`). */
  concurrency?: number;
  /**
   * Stops starting items once it fires; the call rejects with EABORT. Each item's `fn` gets a signal
   * that also fires on the first failure.
   */
  signal?: AbortSignal;
  /** "raise" (default): reject on the first error; "return": the error becomes the result; "omit": dropped. */
  onError?: OnError;
}

/** One item's outcome in `settleBounded`: its value, or its error. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Run `fn` over `items` with at most `concurrency` in flight. With `onError: "omit"`, failed
 * items are left out of the results; with `"return"` the error object stands in their place.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: MapBoundedOptions = {},
): Promise<Array<R | unknown>> {
  const settled = await settleBounded(items, fn, options);
  const onError = options.onError ?? "raise";
  const out: Array<R | unknown> = [];
  for (const s of settled) {
    if (s.ok) out.push(s.value);
    else if (onError === "return") out.push(s.error);
  }
  return out;
}

/** Like mapBounded, but hands back every outcome; with onError "raise" it still rejects. */
export async function settleBounded<T, R>(
  items: readonly T[],
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: MapBoundedOptions = {},
): Promise<Array<Settled<R>>> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const onError = options.onError ?? "raise";
  throwIfAborted(options.signal);
  const controller = new AbortController();
  const outer = options.signal;
  const forward = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", forward, { once: true });
  const results: Array<Settled<R>> = new Array(items.length);
  let next = 0;
  let firstError: unknown;
  let failed = false;

  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      if (controller.signal.aborted) {
        failed = true;
        firstError ??= new FsError("EABORT", undefined, { cause: controller.signal.reason });
        return;
      }
      const index = next++;
      try {
        results[index] = { ok: true, value: await fn(items[index]!, index, controller.signal) };
      } catch (error) {
        results[index] = { ok: false, error };
        if (onError === "raise" && !failed) {
          failed = true;
          firstError = error;
          controller.abort(error);
        }
      }
    }
  }

  try {
    const workers = Array.from({ length: Math.min(concurrency, items.length) }, () => worker());
    await Promise.all(workers);
  } finally {
    outer?.removeEventListener("abort", forward);
  }
  if (failed) throw firstError;
  return results;
}

/**
 * A counting semaphore for call sites that are not a simple list (per-origin request slots...): at most
 * `limit` holders at once, woken in order.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  /** @param limit Most holders at once. */
  constructor(readonly limit: number) {}

  /**
   * Wait for a slot; resolves to its release function. An abort while waiting fails at once with
   * EABORT (naming `path`) and gives up the place in the queue.
   */
  async acquire(signal?: AbortSignal, path?: string): Promise<() => void> {
    throwIfAborted(signal, path);
    if (this.active < this.limit) this.active++;
    // A waiter is woken with the slot of the releaser, so the count never overshoots.
    else await this.wait(signal, path);
    return this.releaser();
  }

  /** A free slot's release function at once, or undefined when all are held (nothing is queued). */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.limit) return undefined;
    this.active++;
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const waiter = this.waiters.shift();
      if (waiter) waiter();
      else this.active--;
    };
  }

  private wait(signal: AbortSignal | undefined, path: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new FsError("EABORT", undefined, { path, cause: signal?.reason }));
      };
      this.waiters.push(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Run `fn` holding a slot, released when it settles; an abort while waiting for the slot is EABORT.
   */
  async run<R>(fn: () => Promise<R>, signal?: AbortSignal): Promise<R> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
