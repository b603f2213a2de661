/**
 * A minimal static file server for the demo (127.0.0.1, a free port): GET and HEAD with
 * single Range requests and ETags, counting requests (and the most downloads answered at once)
 * so the demo can show cache hits and parallel downloads.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";

export interface StaticServer {
  url: string;
  requests: number;
  /** The most downloads (GETs of more than the one byte an info asks for) in progress at once since `requests` was last set. */
  readonly peakDownloads: number;
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<StaticServer> {
  const state = { requests: 0, inFlight: 0, peak: 0 };
  const server = createServer(async (req, res) => {
    state.requests++;
    if (req.method === "GET" && req.headers.range !== "bytes=0-0") {
      state.peak = Math.max(state.peak, ++state.inFlight);
      res.once("close", () => state.inFlight--);
    }
    const rel = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(root, rel);
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error("not a file");
      const etag = `"${st.size}-${st.mtimeMs}"`;
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
      let start = 0;
      let end = st.size - 1;
      if (m && (m[1] || m[2])) {
        if (m[1]) {
          start = Number(m[1]);
          end = m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
        } else {
          start = Math.max(0, st.size - Number(m[2]));
        }
        if (start >= st.size) {
          res.writeHead(416, { "content-range": `bytes */${st.size}` }).end();
          return;
        }
        res.writeHead(206, { "content-range": `bytes ${start}-${end}/${st.size}`, "content-length": end - start + 1, etag, "accept-ranges": "bytes" });
      } else {
        res.writeHead(200, { "content-length": st.size, etag, "accept-ranges": "bytes" });
      }
      if (req.method === "HEAD" || end < start) return void res.end();
      createReadStream(file, { start, end }).pipe(res);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    set requests(n: number) {
      state.requests = n;
      state.peak = state.inFlight;
    },
    get peakDownloads() {
      return state.peak;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
