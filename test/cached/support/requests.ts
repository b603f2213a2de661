import type { TestHttpServer } from "../../../src/testing/http-server.js";
import { isInfoRequest } from "../../support/http-requests.js";

/**
 * Bytes the server was asked for with GET on `path` since its last reset (no Range = the whole
 * file), by downloads: not the one-byte GETs that ask for the file's info.
 */
export function bytesRequested(srv: TestHttpServer, path: string, size: number): number {
  return srv.requests.filter((r) => r.path === path && r.method === "GET" && !isInfoRequest(r)).reduce((total, r) => {
    const m = /bytes=(\d+)-(\d*)/.exec(String(r.headers.range ?? ""));
    if (!m) return total + size;
    return total + Math.min(size, m[2] ? Number(m[2]) + 1 : size) - Number(m[1]);
  }, 0);
}
