/**
 * The JSON API's batch endpoint (`/batch/storage/v1`): up to 100 calls in one multipart/mixed
 * request, each part an HTTP request written out as text; the answer is multipart/mixed too,
 * each part the HTTP response of the call with the same Content-ID.
 */
import { randomBytes } from "node:crypto";

/** The most calls one batch request may hold. */
export const MAX_BATCH = 100;

export interface BatchCall {
  method: "DELETE" | "GET";
  /** Path and query on the service (`/storage/v1/b/<b>/o/<o>`). */
  path: string;
}

export interface BatchAnswer {
  status: number;
  /** The answer's body (an error's JSON), as text. */
  body: string;
}

/** The body and Content-Type of a batch request for `calls`. */
export function batchRequest(calls: readonly BatchCall[], authorization: string | undefined): { body: Buffer; contentType: string } {
  const boundary = `batch_${randomBytes(12).toString("hex")}`;
  const parts = calls.map((c, i) => {
    const inner = [`${c.method} ${c.path} HTTP/1.1`, ...(authorization ? [`Authorization: ${authorization}`] : []), "", ""].join("\r\n");
    return `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${i + 1}>\r\n\r\n${inner}`;
  });
  return { body: Buffer.from(`${parts.join("\r\n")}\r\n--${boundary}--\r\n`), contentType: `multipart/mixed; boundary=${boundary}` };
}

/** Answers by call index (0-based, from the parts' Content-IDs `<response-N>`); calls without one are missing. */
export function parseBatchResponse(body: string, contentType: string): Map<number, BatchAnswer> {
  const out = new Map<number, BatchAnswer>();
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return out;
  for (const part of body.split(`--${m[1]}`)) {
    const head = part.indexOf("\r\n\r\n");
    if (head < 0) continue;
    const id = /content-id:\s*<?response-(\d+)>?/i.exec(part.slice(0, head));
    const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/m.exec(part.slice(head + 4));
    if (!id || !status) continue;
    const inner = part.slice(head + 4);
    const split = inner.indexOf("\r\n\r\n");
    out.set(Number(id[1]) - 1, { status: Number(status[1]), body: split < 0 ? "" : inner.slice(split + 4).trim() });
  }
  return out;
}
