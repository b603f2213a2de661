/**
 * Files written to GCS: an UploadSink that sends a small file as one simple upload at commit,
 * and a larger one through a resumable session whose chunks (multiples of 256 KiB) go out
 * while the file is written; the last chunk, which publishes the object, goes on commit. A
 * chunk that breaks off (a reset, a 5xx) is resumed from the offset the session says it
 * committed, never resent blindly; discard cancels the session.
 */
import { FsError, isFsError } from "../../core/errors.js";
import { concatBytes, type UploadSink } from "../../files/upload-sink.js";
import { discardBody, header, type HttpClient, type HttpResponse } from "../http/client.js";
import { transportFailure } from "../http/errors.js";
import { backoffMs, isRetryableStatus, sleep } from "../http/retry.js";

/** Resumable chunks are multiples of this (all but the last). */
export const CHUNK_UNIT = 256 * 1024;

export interface ResumableTarget {
  /** For the session's PUTs: the session URL is its own credential. */
  client: HttpClient;
  /** The path errors name. */
  path: string;
  /** Bytes per chunk (a multiple of 256 KiB), and the most a simple upload sends. */
  chunkSize: number;
  signal?: AbortSignal;
  /** Start a session; its URL. */
  start(): Promise<string>;
  /** Upload a small file whole (this publishes it). */
  simple(data: Uint8Array): Promise<void>;
  /** The error for a final answer of the session that is no success. */
  fail(res: HttpResponse): Promise<FsError>;
}

/** Bytes the session has committed, from a 308's `Range: bytes=0-N` (none: 0). */
function committedOf(res: HttpResponse): number {
  const m = /^bytes=0-(\d+)$/.exec(header(res.headers, "range")?.trim() ?? "");
  return m ? Number(m[1]) + 1 : 0;
}

export class GcsUploadSink implements UploadSink {
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private session: string | undefined;
  /** Bytes the session has committed (all chunks before the buffered bytes). */
  private offset = 0;
  private done = false;

  constructor(private readonly target: ResumableTarget) {}

  async uploadChunk(data: Uint8Array, _final: boolean): Promise<boolean> {
    if (data.byteLength > 0) {
      this.buffered.push(data);
      this.bufferedBytes += data.byteLength;
    }
    while (this.bufferedBytes >= this.target.chunkSize) await this.sendChunk(this.take(this.target.chunkSize), undefined);
    return true;
  }

  async commit(): Promise<void> {
    if (this.done) return;
    const rest = this.take(this.bufferedBytes);
    if (this.session === undefined) {
      await this.target.simple(rest);
    } else {
      await this.sendChunk(rest, this.offset + rest.byteLength);
    }
    this.done = true;
  }

  async discard(): Promise<void> {
    this.buffered = [];
    this.bufferedBytes = 0;
    const session = this.session;
    this.session = undefined;
    if (session === undefined || this.done) return;
    this.done = true;
    // Cancelled sessions answer 499; any failure only leaves a session that expires in a week.
    await this.target.client.send(session, { method: "DELETE", retries: 1 }).then((res) => discardBody(res.body), () => undefined);
  }

  /** The first `n` buffered bytes, removed from the buffer. */
  private take(n: number): Uint8Array {
    const all = concatBytes(this.buffered, this.bufferedBytes);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.byteLength > 0 ? [rest] : [];
    this.bufferedBytes = rest.byteLength;
    return out;
  }

  /**
   * Send `bytes` (which start at `offset`) as the next chunk; `total` is the file's size on
   * the last chunk. Resumes from the committed offset after a break, up to the client's retries.
   */
  private async sendChunk(bytes: Uint8Array, total: number | undefined): Promise<void> {
    const { client, path, signal } = this.target;
    this.session ??= await this.target.start();
    const first = this.offset;
    const end = first + bytes.byteLength;
    const totalText = total === undefined ? "*" : String(total);
    let failures = 0;
    // After a failure, the session is asked what it committed before anything is resent.
    let ask = false;
    for (;;) {
      const piece = bytes.subarray(this.offset - first);
      const range = ask || piece.byteLength === 0 ? `bytes */${totalText}` : `bytes ${this.offset}-${end - 1}/${totalText}`;
      let res: HttpResponse | undefined;
      let failed: FsError | undefined;
      try {
        res = await client.send(this.session, { method: "PUT", headers: { "content-range": range }, body: ask ? new Uint8Array(0) : piece, retries: 0, signal });
      } catch (err) {
        // The client classified the failure already; its cause says whether it is worth another try.
        const failure = transportFailure(isFsError(err) && err.cause !== undefined ? err.cause : err, path, signal);
        if (!failure.retryable) throw isFsError(err) ? err : failure.error;
        failed = failure.error;
      }
      if (res && (res.status === 200 || res.status === 201)) {
        discardBody(res.body);
        this.offset = end;
        return;
      }
      if (res?.status === 308) {
        discardBody(res.body);
        const committed = committedOf(res);
        if (committed < first) throw new FsError("EIO", `the upload session lost bytes: it holds ${committed}, ${first} were committed before`, { path });
        const progressed = committed > this.offset;
        this.offset = Math.min(committed, end);
        // A chunk that is not the last, committed whole: on to the next one.
        if (total === undefined && this.offset === end) return;
        if (ask || progressed) {
          ask = false;
          continue;
        }
        failed = new FsError("EIO", `the upload session committed nothing of a chunk at byte ${this.offset}`, { path, status: 308 });
      } else if (res) {
        if (!isRetryableStatus(res.status) || failures >= client.options.retries) throw await this.target.fail(res);
        discardBody(res.body);
      }
      if (failures >= client.options.retries && failed) throw failed;
      await sleep(backoffMs(client.options, failures), signal, path);
      failures++;
      ask = true;
    }
  }
}
