/** What the test HTTP server's recorded requests were for: an info, or a download. */
import type { RecordedRequest, TestHttpServer } from "../../src/testing/http-server.js";

/**
 * An info request: a HEAD, or the `Range: bytes=0-0` GET that stands in for one on an origin
 * whose HEAD announced ranges (see docs/backends/http.md, Reading).
 */
export const isInfoRequest = (r: Pick<RecordedRequest, "method" | "headers">): boolean =>
  r.method === "HEAD" || (r.method === "GET" && r.headers.range === "bytes=0-0");

/** GETs of `path` (every path when omitted) that fetched content, not an info. */
export function downloadCount(srv: Pick<TestHttpServer, "requests">, path?: string): number {
  return srv.requests.filter((r) => r.method === "GET" && (path === undefined || r.path === path) && !isInfoRequest(r)).length;
}
