import type { TestHttpServer } from "../../../src/testing/http-server.js";
import { isInfoRequest, tailCut } from "../../support/http-requests.js";

/**
 * Bytes the server was asked for with GET on `path` since its last reset (no Range = the whole
 * file), by downloads: not the one-byte GETs that ask for the file's info. A GET from byte 0
 * whose later GETs take its tail exactly (parts handed to more connections, or a resume after a
 * break) was cut where they begin, so it counts up to there.
 */
export function bytesRequested(srv: TestHttpServer, path: string, size: number): number {
  const ranges = srv.requests.filter((r) => r.path === path && r.method === "GET" && !isInfoRequest(r)).map((r) => String(r.headers.range ?? ""));
  const span = (range: string) => {
    const m = /bytes=(\d+)-(\d*)/.exec(range);
    return m ? ([Number(m[1]), Math.min(size, m[2] ? Number(m[2]) + 1 : size)] as const) : ([0, size] as const);
  };
  // Downloads: a GET from byte 0 and the GETs after it that start later.
  const downloads: string[][] = [];
  for (const r of ranges) {
    if (span(r)[0] === 0 || downloads.length === 0) downloads.push([r]);
    else downloads.at(-1)!.push(r);
  }
  let total = 0;
  for (const d of downloads) {
    const [from, to] = span(d[0]!);
    let cut: number | undefined;
    try {
      cut = d.length > 1 && from === 0 && to === size ? tailCut(d.map((r) => (/^bytes=\d+-$/.test(r) ? `${r}${size - 1}` : r)), size) : undefined;
    } catch {
      cut = undefined; // not an exact tail: every GET counts whole
    }
    total += cut !== undefined ? size : d.reduce((n, r) => n + span(r)[1] - span(r)[0], 0);
  }
  return total;
}
