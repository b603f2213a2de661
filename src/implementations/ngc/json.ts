/** Small I/O helpers of the NGC and GCS backends: JSON bodies with a size cap, and waiting with a signal. */
import { FsError } from "../../core/errors.js";
import { discardBody, header, type HttpResponse } from "../http/client.js";
import { transportFailure } from "../http/errors.js";

/** Larger JSON answers are refused rather than read into memory (a listing of ~100k files fits). */
export const MAX_JSON_BYTES = 64 * 2 ** 20;

/** The body of `res` parsed as JSON; EPROTO (naming `service`) when it is not JSON or too large. */
export async function readJson(res: HttpResponse, path: string, signal?: AbortSignal, service = "NGC"): Promise<unknown> {
  const declared = Number(header(res.headers, "content-length") ?? NaN);
  if (declared > MAX_JSON_BYTES) {
    discardBody(res.body);
    throw new FsError("EPROTO", `${service} answer too large (${declared} bytes)`, { path });
  }
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      n += chunk.byteLength;
      if (n > MAX_JSON_BYTES) {
        res.body.destroy();
        throw new FsError("EPROTO", `${service} answer larger than ${MAX_JSON_BYTES} bytes`, { path });
      }
      parts.push(chunk);
    }
  } catch (err) {
    throw transportFailure(err, path, signal).error;
  }
  try {
    return JSON.parse(Buffer.concat(parts, n).toString("utf8"));
  } catch (err) {
    throw new FsError("EPROTO", `${service} answered with something that is not JSON`, { path, cause: err });
  }
}

/** The body of an error answer as JSON, or undefined (never throws). */
export async function readErrorJson(res: HttpResponse, path: string, service = "NGC"): Promise<unknown> {
  if (!/json/i.test(header(res.headers, "content-type") ?? "")) {
    discardBody(res.body);
    return undefined;
  }
  return readJson(res, path, undefined, service).catch(() => undefined);
}

/** `promise`, or EABORT as soon as `signal` fires (the work itself goes on for other waiters). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, path: string): Promise<T> {
  if (!signal) return promise;
  const aborted = () => new FsError("EABORT", undefined, { path, cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
