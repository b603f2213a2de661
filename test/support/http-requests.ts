/** What the test HTTP server's recorded requests were for: an info, or a download. */
import { isInfoRequest } from "../../src/testing/http-server.js";
import type { TestHttpServer } from "../../src/testing/http-server.js";

export { isInfoRequest } from "../../src/testing/http-server.js";

/** GETs of `path` (every path when omitted) that fetched content, not an info. */
export function downloadCount(srv: Pick<TestHttpServer, "requests">, path?: string): number {
  return srv.requests.filter((r) => r.method === "GET" && (path === undefined || r.path === path) && !isInfoRequest(r)).length;
}

/**
 * Where a download that streamed from byte 0 was cut: its later GETs (the tail parts handed to
 * more connections) must be disjoint and together cover [cut, size) exactly; `size` when there
 * were none. Fails (throws) on a gap or an overlap.
 */
export function tailCut(ranges: ReadonlyArray<string | string[] | undefined>, size: number): number {
  const parts = ranges.slice(1).map((r) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(r));
    if (!m) throw new Error(`a tail part without a closed range: ${String(r)}`);
    return [Number(m[1]), Number(m[2]) + 1] as const;
  });
  parts.sort((a, b) => a[0] - b[0]);
  let at = size;
  for (let i = parts.length - 1; i >= 0; i--) {
    const [from, to] = parts[i]!;
    if (to !== at) throw new Error(`tail parts leave a gap or overlap at byte ${to} (expected ${at})`);
    at = from;
  }
  return at;
}
