/** When and how long to wait before trying an HTTP request again. */
import { FsError } from "../../core/errors.js";

export interface RetryPolicy {
  /** Further tries after the first (0 disables retrying). */
  retries: number;
  /** First backoff step in milliseconds; each further try doubles it. */
  retryDelay: number;
  /** Longest single wait; a Retry-After beyond it fails at once instead of sleeping. */
  maxRetryDelay: number;
}

/** 408, 429 and 5xx are worth another try; 501 (Not Implemented) and 505 never change. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/** Exponential backoff with "equal jitter": half the step fixed, half random, so clients spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const step = Math.min(policy.maxRetryDelay, policy.retryDelay * 2 ** attempt);
  return step / 2 + Math.random() * (step / 2);
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolve after `ms`, or reject with EABORT as soon as `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, path?: string): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FsError("EABORT", undefined, { path, cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new FsError("EABORT", undefined, { path, cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
