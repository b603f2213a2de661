/**
 * Reading a byte range over HTTP without ever handing back wrong bytes: the first response
 * is checked against what was asked (Content-Range, Content-Length, validators), a body that
 * breaks off is resumed from the last byte received with `If-Range`, and a file that changed
 * meanwhile fails with ECHANGED instead of splicing two versions.
 */
import { FsError } from "../../core/errors.js";
import type { ProgressCallback } from "../../core/types.js";
import { discardBody, header, type BodyWatch, type HttpClient, type HttpResponse, type ResponseBody, type SendOptions } from "./client.js";
import { redactUrl, retryableError, statusError, transportFailure } from "./errors.js";
import { backoffMs, sleep } from "./retry.js";

/** Bytes [start, end) (end undefined: to the end of the file), or the last `suffix` bytes. */
export type RangeSpec = { start: number; end?: number; suffix?: undefined } | { suffix: number; start?: undefined; end?: undefined };

/** What the bytes must belong to: an opened file pins the version it was opened on. */
export interface Validators {
  etag?: string | undefined;
  lastModified?: string | undefined;
  size?: number | null | undefined;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  callback?: ProgressCallback;
  expect?: Validators;
  /**
   * Keep a body that holds more than the range (a server that ignored Range sent the whole
   * file) instead of dropping it, so `continueTo` can read on from it.
   */
  keepRest?: boolean;
  /** Sent with every request of the download, its resumes too (a backend's Authorization). */
  headers?: Record<string, string>;
  /** Send no credentials: the URL carries its own (a presigned or CDN one). */
  anonymous?: boolean;
  /** Told of each redirect the first request follows (see SendOptions.onRedirect). */
  onRedirect?: SendOptions["onRedirect"];
}

interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

/** `bytes a-b/N`, `bytes a-b/*` or `bytes * /N` (unsatisfied: start and end are -1). */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (!value) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*\/\s*(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  const total = m[3] === "*" ? undefined : Number(m[3]);
  if (m[1] === undefined) return { start: -1, end: -1, total };
  return { start: Number(m[1]), end: Number(m[2]), total };
}

/** A strong ETag can guard If-Range; a weak one only says "equivalent", which is not enough. */
function isStrong(etag: string | undefined): etag is string {
  return etag !== undefined && !etag.startsWith("W/");
}

/** True when the server answered `…/name` by redirecting to `…/name/`: a directory. */
export function isDirectoryRedirect(requested: string, final: URL): boolean {
  let path: string;
  try {
    path = new URL(requested).pathname;
  } catch {
    return false;
  }
  return !path.endsWith("/") && final.pathname === `${path}/`;
}

/** The body's declared length (a Content-Encoding changes nothing: bodies are never decompressed). */
function contentLength(res: HttpResponse): number | undefined {
  const v = header(res.headers, "content-length");
  return v === undefined || !/^\d+$/.test(v.trim()) ? undefined : Number(v);
}

/** Where `pipeTo` hands the bytes: a promise holds the body back until it settles. */
export type ChunkWriter = (chunk: Uint8Array, offset: number) => void | Promise<void>;

/** A sink's failure inside pump: ends the download with its cause, never resumed. */
class WriteFailure extends Error {
  constructor(override readonly cause: unknown) {
    super("write failed");
  }
}

export class RangeDownload {
  /** Absolute offset of the next byte handed out. */
  private pos = 0;
  /** Exclusive end of what is wanted; undefined while it is "to the end" of an unknown size. */
  private end: number | undefined;
  /** Where the current body ends, by its own declaration. */
  private bodyEnd: number | undefined;
  /** Bytes at the start of the current body to drop (a 200 answer to a range request). */
  private skip = 0;
  private body: ResponseBody | undefined;
  private iter: AsyncIterator<Buffer> | undefined;
  private watch: BodyWatch | undefined;
  private tail: Uint8Array | undefined;
  /** With keepRest: the part of the last chunk past the range, first in line for continueTo. */
  private leftover: Uint8Array | undefined;
  private failures = 0;
  private finished = false;
  /** Size of the whole file, once a response said it. */
  total: number | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  /** Offset of the first byte of the range (known after `open`). */
  first = 0;
  /** Where the first answer came from, after redirects (a CDN's signed URL, say). */
  finalUrl: URL | undefined;
  /** Whether the first answer was a 206 (the server honours ranges). */
  partial = false;

  private constructor(
    private readonly client: HttpClient,
    readonly url: string,
    private options: DownloadOptions,
  ) {}

  /** Send the first request and check its answer; bytes come from `next()` / `readAll()`. */
  static async open(client: HttpClient, url: string, range: RangeSpec, options: DownloadOptions = {}): Promise<RangeDownload> {
    const d = new RangeDownload(client, url, options);
    await d.begin(range);
    return d;
  }

  /** Bytes in the range, when known (not while a body without a declared length may end first). */
  get length(): number | undefined {
    return this.end === undefined || (this.bodyEnd === undefined && !this.finished) ? undefined : this.end - this.first;
  }

  private get path(): string {
    return redactUrl(this.url);
  }

  private fail(code: "EPROTO" | "ECHANGED" | "EISDIR", message: string, status?: number): FsError {
    return new FsError(code, message, { path: this.path, status });
  }

  private async begin(range: RangeSpec): Promise<void> {
    const headers: Record<string, string> = {
      ...this.options.headers,
      range: range.suffix !== undefined ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end === undefined ? "" : range.end - 1}`,
    };
    const expect = this.options.expect;
    const guard = isStrong(expect?.etag) ? expect.etag : expect?.lastModified;
    if (guard) headers["if-range"] = guard;
    const { signal, anonymous, onRedirect } = this.options;
    const res = await this.client.send(this.url, { headers, signal, anonymous, onRedirect });
    this.finalUrl = res.url;
    if (res.status === 416) {
      discardBody(res.body);
      const cr = parseContentRange(header(res.headers, "content-range"));
      this.total = cr?.total;
      const resized = this.sizeChanged(header(res.headers, "etag"), expect);
      if (resized) throw resized;
      if (range.suffix === undefined && this.total !== undefined && range.start < this.total) {
        throw this.fail("EPROTO", `server refused bytes from ${range.start} of a ${this.total}-byte file`, 416);
      }
      // Slice semantics: a start at or past the end reads nothing.
      this.first = this.pos = range.start ?? 0;
      this.end = this.pos;
      this.finished = true;
      this.options.callback?.setSize?.(0);
      return;
    }
    // The final status decides: a redirect to `name/` that ends in 404 is no directory.
    if (res.status !== 200 && res.status !== 206) {
      discardBody(res.body);
      throw res.status === 412 ? this.refused(isStrong(expect?.etag) ? "ETag" : "Last-Modified") : statusError(res.status, this.url, res.statusText);
    }
    if (isDirectoryRedirect(this.url, res.url)) {
      discardBody(res.body);
      throw this.fail("EISDIR", "is a directory (the server redirects to its index)");
    }
    this.checkVersion(res, expect);
    this.etag = header(res.headers, "etag");
    this.lastModified = header(res.headers, "last-modified");
    if (res.status === 206) {
      this.partial = true;
      const cr = this.checkPartial(res, range.start, range.suffix);
      this.total = cr.total;
      this.first = this.pos = cr.start;
      // Up to the file's end when known: a 206 covering less is completed by resuming, not handed back short.
      const available = cr.total ?? cr.end + 1;
      this.end = range.end === undefined ? available : Math.min(range.end, available);
    } else {
      // A body without a length of its own must still hold the size the file was opened with.
      this.total = contentLength(res) ?? expect?.size ?? undefined;
      this.bodyEnd = this.total;
      let start = range.start ?? 0;
      if (range.suffix !== undefined) {
        if (this.total === undefined) return this.readTail(res.body, range.suffix);
        start = Math.max(0, this.total - range.suffix);
      }
      this.first = this.pos = this.skip = start;
      this.end = range.end === undefined ? this.total : this.total === undefined ? range.end : Math.min(range.end, this.total);
      if (this.total !== undefined && start >= this.total) this.end = start;
    }
    const resized = this.sizeChanged(this.etag, expect);
    if (resized) {
      discardBody(res.body);
      throw resized;
    }
    this.body = res.body;
    this.iter = undefined;
    this.watch = res.watch;
    const len = this.length;
    if (len !== undefined) this.options.callback?.setSize?.(len);
  }

  /** The error when a response gives a file another size than the one it was opened with. */
  private sizeChanged(etag: string | undefined, expect: Validators | undefined): FsError | undefined {
    if (expect?.size == null || this.total === undefined || this.total === expect.size) return undefined;
    // Same ETag, other length: the server misstates it. Without an ETag: a new version.
    if (expect.etag !== undefined && etag === expect.etag) return this.fail("EPROTO", `response declares ${this.total} bytes, the file has ${expect.size}`);
    return this.fail("ECHANGED", `file size changed from ${expect.size} to ${this.total} bytes`);
  }

  /** A 206 must cover what was asked (the file's last bytes for a suffix) and agree with its own Content-Length. */
  private checkPartial(res: HttpResponse, wantedStart: number | undefined, suffix?: number): ContentRange {
    const cr = parseContentRange(header(res.headers, "content-range"));
    const fail = (why: string) => {
      discardBody(res.body);
      return this.fail("EPROTO", why, 206);
    };
    if (!cr || cr.start < 0 || cr.end < cr.start) throw fail("206 response without a usable Content-Range");
    if (wantedStart !== undefined && cr.start !== wantedStart) throw fail(`asked for bytes from ${wantedStart}, got ${cr.start}`);
    if (cr.total !== undefined && cr.end >= cr.total) throw fail("Content-Range ends past the file's size");
    if (suffix !== undefined && cr.total !== undefined && (cr.start !== Math.max(0, cr.total - suffix) || cr.end !== cr.total - 1)) {
      throw fail(`asked for the last ${suffix} bytes, got ${cr.start}-${cr.end} of ${cr.total}`);
    }
    const declared = contentLength(res);
    if (declared !== undefined && declared !== cr.end - cr.start + 1) {
      throw fail(`Content-Length ${declared} disagrees with Content-Range ${cr.start}-${cr.end}`);
    }
    this.bodyEnd = cr.end + 1;
    return cr;
  }

  /** A 412: the server refused the version the read was pinned to. */
  private refused(validator: "ETag" | "Last-Modified"): FsError {
    return this.fail("ECHANGED", `file changed on the server: it refused the ${validator} the read is pinned to (HTTP 412)`, 412);
  }

  /**
   * What tells the response apart from the version expected, in words ("ETag "a" -> "b"",
   * "Last-Modified X -> Y"), or undefined when nothing does. ETags are compared when the
   * version has one, else dates.
   */
  private static change(expect: Validators, res: HttpResponse): string | undefined {
    const etag = header(res.headers, "etag");
    if (expect.etag !== undefined) return etag !== undefined && etag !== expect.etag ? `ETag ${expect.etag} -> ${etag}` : undefined;
    const modified = header(res.headers, "last-modified");
    if (expect.lastModified !== undefined && modified !== undefined && modified !== expect.lastModified) {
      return `Last-Modified ${expect.lastModified} -> ${modified}`;
    }
    return undefined;
  }

  /** ECHANGED when the response belongs to another version than the one expected. */
  private checkVersion(res: HttpResponse, expect: Validators | undefined): void {
    const changed = expect && RangeDownload.change(expect, res);
    if (changed) {
      discardBody(res.body);
      throw this.fail("ECHANGED", `file changed on the server (${changed})`);
    }
  }

  /** Suffix asked, whole body sent, size unknown: keep only its last bytes. */
  private async readTail(body: ResponseBody, n: number): Promise<void> {
    const all = new Uint8Array(await body.arrayBuffer().catch((err: unknown) => {
      throw transportFailure(err, this.url, this.options.signal).error;
    }));
    this.tail = all.subarray(Math.max(0, all.byteLength - n));
    this.total = all.byteLength;
    this.first = this.pos = all.byteLength - this.tail.byteLength;
    this.end = all.byteLength;
  }

  /** The next chunk of the range, or undefined at its end. Resumes broken bodies. */
  async next(): Promise<Uint8Array | undefined> {
    if (this.tail) {
      const t = this.tail;
      this.tail = undefined;
      this.finished = true;
      return this.deliver(t);
    }
    for (;;) {
      if (this.finished) return undefined;
      if (this.rangeDone()) {
        this.cancel();
        return undefined;
      }
      let r: IteratorResult<Buffer>;
      this.iter ??= this.body![Symbol.asyncIterator]();
      this.watch!.arm();
      try {
        r = await this.iter.next();
      } catch (err) {
        await this.recover(err);
        continue;
      } finally {
        this.watch?.disarm();
      }
      if (r.done) {
        await this.bodyEnded();
        continue;
      }
      const piece = this.accept(r.value);
      if (piece) return piece;
    }
  }

  /** All bytes of the range in one buffer (allocated once when the length is known). */
  async readAll(): Promise<Uint8Array> {
    if (this.tail) return (await this.next())!;
    const len = this.length;
    if (len === 0) {
      this.cancel();
      return new Uint8Array(0);
    }
    const out = len === undefined ? undefined : Buffer.allocUnsafe(len);
    const parts: Uint8Array[] = [];
    let off = 0;
    const sink = (piece: Uint8Array) => {
      if (out) out.set(piece, off);
      else parts.push(piece);
      off += piece.byteLength;
    };
    if (this.leftover) {
      const held = this.leftover;
      const n = Math.min(held.byteLength, this.end! - this.pos);
      this.leftover = n < held.byteLength ? held.subarray(n) : undefined;
      sink(this.deliver(held.subarray(0, n)));
      if (this.pos >= this.end!) this.finished = true;
    }
    while (!this.finished) {
      try {
        if (await this.pump(sink)) await this.bodyEnded();
      } catch (err) {
        await this.recover(err);
      }
    }
    if (!out) return Buffer.concat(parts, off);
    if (off !== len) throw this.fail("EPROTO", `received ${off} of ${len} bytes`);
    return out;
  }

  /**
   * Hand every byte of the range to `write(chunk, offset)` as it arrives, the chunks as the
   * socket gave them (no copies), resuming breaks as `readAll` does. A write that returns a
   * promise holds the body back until it settles; a write that fails ends the download with
   * its error (never resumed: the bytes were received).
   */
  async pipeTo(write: ChunkWriter): Promise<void> {
    if (this.tail) {
      const offset = this.pos;
      const t = (await this.next())!;
      await write(t, offset);
      return;
    }
    if (this.length === 0) {
      this.cancel();
      return;
    }
    const sink = (piece: Uint8Array) => write(piece, this.pos - piece.byteLength);
    while (!this.finished) {
      try {
        if (await this.pump(sink)) await this.bodyEnded();
      } catch (err) {
        if (err instanceof WriteFailure) throw err.cause;
        await this.recover(err);
      }
    }
    if (this.end !== undefined && this.pos !== this.end) throw this.fail("EPROTO", `received ${this.pos - this.first} of ${this.end - this.first} bytes`);
  }

  /**
   * From now on stop also when `signal` aborts, the request in flight included: for an owner that
   * links the download to others (parallel parts) only once its answer shows it needs to. The
   * signal must follow the one the download was opened with (it replaces it for resumes).
   */
  stopWith(signal: AbortSignal): void {
    this.options = { ...this.options, signal };
    const onAbort = () => this.watch?.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }

  /** End the range earlier, at `end` or where it has read to if that is later (the rest goes another way: parallel parts); where it ends now. */
  limitTo(end: number): number {
    if (this.end === undefined || end < this.end) this.end = Math.max(end, this.pos);
    return this.end;
  }

  /** With keepRest: whether the body still holds bytes from `start` on (the range ended there). */
  continuesAt(start: number): boolean {
    const body = this.body;
    return this.options.keepRest === true && body !== undefined && !body.destroyed && this.pos === start && this.bodyEnd !== undefined && start < this.bodyEnd;
  }

  /** With keepRest: the bytes from where the range ended up to `end`, read on from the same body. */
  continueTo(end: number): Promise<Uint8Array> {
    this.first = this.pos;
    this.end = Math.min(end, this.bodyEnd!);
    this.finished = false;
    return this.readAll();
  }

  /** The range is complete: drop the rest of the body, or (keepRest) hold it, paused. */
  private rangeComplete(body: ResponseBody): void {
    if (this.options.keepRest && this.bodyEnd !== undefined && this.pos < this.bodyEnd) {
      this.finished = true;
      body.pause();
    } else {
      this.cancel();
    }
  }

  /**
   * Read the current body in flowing mode (cheaper than an async iterator per chunk), giving
   * each wanted piece to `sink`. Resolves true when the body ended, false when the range was
   * complete first (the rest of the body is dropped, or held with keepRest).
   */
  private pump(sink: (piece: Uint8Array) => void | Promise<void>): Promise<boolean> {
    const body = this.body!;
    const watch = this.watch!;
    // A held body that went away meanwhile: resumed like a break.
    if (body.destroyed) return Promise.reject(retryableError("ECONNRESET", "connection closed mid-body", this.url));
    return new Promise<boolean>((resolve, reject) => {
      let settled = false;
      /** A write the sink asked to wait for: the body is paused (and its idle timer off) meanwhile. */
      let writing: Promise<void> | undefined;
      const finish = (err: unknown, ended: boolean) => {
        settled = true;
        watch.disarm();
        body.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
        if (err) reject(err);
        else resolve(ended);
      };
      const settle = (err: unknown, ended: boolean) => {
        if (settled) return;
        // Bytes handed to a write are the sink's until it settles: wait for it before reporting.
        if (writing && !err) {
          settled = true;
          body.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
          writing.then(() => finish(undefined, ended), (cause: unknown) => finish(new WriteFailure(cause), false));
          return;
        }
        finish(err, ended);
      };
      const onData = (chunk: Buffer) => {
        watch.touch();
        let wait: void | Promise<void> = undefined;
        try {
          const piece = this.accept(chunk);
          if (piece) wait = sink(piece);
        } catch (err) {
          this.cancel();
          return settle(err, false);
        }
        if (wait) {
          const w = wait;
          writing = w;
          body.pause();
          watch.disarm();
          w.then(
            () => {
              if (writing === w) writing = undefined;
              if (settled) return;
              body.resume();
              watch.arm();
            },
            (cause: unknown) => {
              if (writing === w) writing = undefined;
              if (settled) return;
              this.cancel();
              finish(new WriteFailure(cause), false);
            },
          );
        }
        if (this.rangeDone()) {
          this.rangeComplete(body);
          settle(undefined, false);
        }
      };
      const onEnd = () => settle(undefined, true);
      const onError = (err: Error) => settle(err, false);
      // Destroyed without an error: the connection went away mid-body.
      const onClose = () => settle(retryableError("ECONNRESET", "connection closed mid-body", this.url), false);
      body.on("data", onData).once("end", onEnd).once("error", onError).once("close", onClose);
      // A held body was paused (a body left flowing would drop its chunks).
      body.resume();
      watch.arm();
    });
  }

  /** The wanted bytes are all delivered while the body still holds more (clipped or ignored range). */
  private rangeDone(): boolean {
    return this.end !== undefined && this.pos >= this.end && this.bodyEnd !== this.end;
  }

  /** The body ended: done if the range is complete, else resume the missing part. */
  private async bodyEnded(): Promise<void> {
    // A body that declared no length (a whole file) ends the file, even before the end asked.
    if (this.end === undefined || this.pos >= this.end || this.bodyEnd === undefined) {
      this.total ??= this.pos;
      if (this.end === undefined || this.pos < this.end) this.end = this.pos;
      this.finished = true;
      return;
    }
    await this.recover(retryableError("EPROTO", `body ended at byte ${this.pos}, expected ${this.end}`, this.url));
  }

  /** The part of a received chunk that belongs to the range (skipping and clipping), if any. */
  private accept(chunk: Uint8Array): Uint8Array | undefined {
    if (this.skip > 0) {
      if (chunk.byteLength <= this.skip) {
        this.skip -= chunk.byteLength;
        return undefined;
      }
      chunk = chunk.subarray(this.skip);
      this.skip = 0;
    }
    if (this.bodyEnd !== undefined && this.pos + chunk.byteLength > this.bodyEnd) {
      throw this.fail("EPROTO", `body longer than declared: it should end at byte ${this.bodyEnd}`);
    }
    if (this.end !== undefined && this.pos + chunk.byteLength > this.end) {
      if (this.options.keepRest) this.leftover = chunk.subarray(this.end - this.pos);
      chunk = chunk.subarray(0, this.end - this.pos);
    }
    return chunk.byteLength === 0 ? undefined : this.deliver(chunk);
  }

  private deliver(chunk: Uint8Array): Uint8Array {
    this.pos += chunk.byteLength;
    this.failures = 0;
    this.options.callback?.relativeUpdate?.(chunk.byteLength);
    return chunk;
  }

  /**
   * A transfer broke: resume from `pos` if the failure is transient, the version can be
   * pinned (strong ETag or Last-Modified) and tries remain; otherwise report the failure.
   * Tries count only failures without progress in between.
   */
  private async recover(err: unknown): Promise<void> {
    this.cancel();
    const failure = transportFailure(err, this.url, this.options.signal);
    const guard = isStrong(this.etag) ? this.etag : this.lastModified;
    const policy = this.client.options;
    if (!failure.retryable || !guard || this.failures >= policy.retries) throw failure.error;
    await sleep(backoffMs(policy, this.failures), this.options.signal, this.path);
    this.failures++;
    const res = await this.client.send(this.url, {
      headers: { ...this.options.headers, range: `bytes=${this.pos}-${this.end === undefined ? "" : this.end - 1}`, "if-range": guard },
      signal: this.options.signal,
      anonymous: this.options.anonymous,
    });
    const mine: Validators = { etag: this.etag, lastModified: this.lastModified };
    if (res.status === 206) {
      this.checkVersion(res, mine);
      const cr = this.checkPartial(res, this.pos);
      if (this.total !== undefined && cr.total !== undefined && cr.total !== this.total) {
        discardBody(res.body);
        throw this.fail("ECHANGED", `file size changed from ${this.total} to ${cr.total} bytes during the read`);
      }
      // The body starts at `pos`: nothing left to skip from an earlier 200 that broke while skipping.
      this.skip = 0;
      this.learnSize(cr.total);
    } else if (res.status === 200) {
      // If-Range failed (a new version), or the server ignores ranges for an unchanged file.
      const sameVersion =
        (this.etag !== undefined && header(res.headers, "etag") === this.etag) ||
        (this.etag === undefined && this.lastModified !== undefined && header(res.headers, "last-modified") === this.lastModified);
      if (!sameVersion) {
        discardBody(res.body);
        const changed = RangeDownload.change(mine, res) ?? `the answer carries no ${this.etag !== undefined ? "ETag" : "Last-Modified"} to compare`;
        throw this.fail("ECHANGED", `file changed on the server during the read (${changed}); not splicing two versions`);
      }
      this.skip = this.pos;
      this.learnSize(contentLength(res));
      this.bodyEnd = contentLength(res) ?? this.total;
    } else if (res.status === 416) {
      discardBody(res.body);
      const total = parseContentRange(header(res.headers, "content-range"))?.total ?? this.total;
      if ((this.end === undefined || this.bodyEnd === undefined) && total !== undefined && this.pos >= total) {
        // The body broke exactly at the end of a file of unknown length: nothing is missing.
        this.total = this.end = this.pos;
        return;
      }
      throw this.fail("EPROTO", `the server declared ${this.end ?? "more"} bytes but the file has ${total ?? "fewer"}`, 416);
    } else {
      discardBody(res.body);
      throw res.status === 412 ? this.refused(isStrong(this.etag) ? "ETag" : "Last-Modified") : statusError(res.status, this.url, res.statusText);
    }
    this.body = res.body;
    this.iter = undefined;
    this.watch = res.watch;
    this.finished = false;
  }

  /** A resume told the file's size: the read now ends there (no earlier, no later). */
  private learnSize(total: number | undefined): void {
    if (this.total !== undefined || total === undefined) return;
    this.total = total;
    if (this.end === undefined || this.end > total) this.end = total;
  }

  /**
   * Stop the current body: a small rest is read so the connection stays open, a large one is
   * dropped (the client's error listener keeps that from crashing). Safe to call more than once.
   */
  cancel(): void {
    this.finished = true;
    this.leftover = undefined;
    const iter = this.iter;
    this.iter = undefined;
    this.watch?.disarm();
    if (iter?.return) iter.return().catch(() => undefined);
    else if (this.body) discardBody(this.body);
    this.body = undefined;
  }
}
