/**
 * One S3 object's bytes [start, end) streamed from GetObject to a writer, pinned with IfMatch to
 * the ETag the download started on: a replaced object answers 412 (ECHANGED), never other bytes.
 * A body that breaks off is asked for again from the byte it reached, up to `retries` times
 * without progress in between.
 */
import type { GetObjectCommandOutput } from "@aws-sdk/client-s3";
import { FsError, isFsError } from "../../core/errors.js";
import type { ChunkWriter } from "../http/download.js";

export interface ObjectStream {
  /** GetObject of `range` ("bytes=a-b", or undefined for the whole object), pinned to the ETag. */
  get(range: string | undefined, signal: AbortSignal | undefined): Promise<Pick<GetObjectCommandOutput, "Body" | "ContentRange" | "ContentLength">>;
  /** An SDK or stream failure in the backend's words. */
  error(err: unknown): FsError;
  path: string;
  retries: number;
}

export async function pipeObject(
  source: ObjectStream,
  start: number,
  end: number | undefined,
  signal: AbortSignal | undefined,
  write: ChunkWriter,
  onBytes?: (n: number) => void,
): Promise<void> {
  let pos = start;
  let failures = 0;
  for (;;) {
    const range = pos === 0 && end === undefined ? undefined : `bytes=${pos}-${end === undefined ? "" : end - 1}`;
    const out = await source.get(range, signal);
    // A store that ignores Range sends the whole object: its first `pos` bytes are skipped.
    let skip = range !== undefined && out.ContentRange === undefined ? pos : 0;
    const wanted = end === undefined ? (out.ContentLength === undefined ? undefined : pos + out.ContentLength - skip) : end;
    try {
      for await (const raw of out.Body as AsyncIterable<Uint8Array>) {
        let chunk = raw;
        if (skip > 0) {
          if (chunk.byteLength <= skip) {
            skip -= chunk.byteLength;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        if (wanted !== undefined && pos + chunk.byteLength > wanted) chunk = chunk.subarray(0, wanted - pos);
        if (chunk.byteLength === 0) continue;
        const offset = pos;
        pos += chunk.byteLength;
        failures = 0;
        onBytes?.(chunk.byteLength);
        await write(chunk, offset);
        if (wanted !== undefined && pos >= wanted) break;
      }
    } catch (err) {
      if (signal?.aborted || isFsError(err)) throw isFsError(err) ? err : source.error(err);
      // The connection broke mid-body: asked for again from `pos` below.
      if (failures++ >= source.retries) throw source.error(err);
      continue;
    }
    if (wanted === undefined || pos >= wanted) return;
    if (failures++ >= source.retries) throw new FsError("EPROTO", `body ended at byte ${pos}, expected ${wanted}`, { path: source.path });
  }
}
