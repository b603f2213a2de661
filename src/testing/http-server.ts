/**
 * A real `node:http` server for HTTP filesystem tests: static files with
 * ETag/Range support, HTML directory indexes, redirects, optional auth and
 * uploads, and a queue of injectable faults (error statuses, stalls, resets,
 * wrong Content-Length, changed content, throttling).
 *
 * Binds to 127.0.0.1 on an ephemeral port. close() tears down every socket and
 * timer, so stalled or throttled responses never keep a test run alive.
 */
import { createHash } from "node:crypto";
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

/**
 * A fault the test HTTP server injects into matching requests (`server.fault(spec)`); faults are
 * matched in the order added.
 */
export interface FaultSpec {
  /** Exact decoded pathname to match; omitted = every path. */
  path?: string;
  /** Extension: only match this method (e.g. "GET", so HEADs pass through). */
  method?: string;
  /**
   * Extension: let requests with this Range pass through (e.g. "bytes=0-0": the one-byte GETs
   * an HTTP filesystem asks a file's info with, so a fault meets the download's GETs).
   */
  unlessRange?: string;
  /**
   * Extension: only match ranged requests starting at this byte or later (`bytes=N-` with N >= it):
   * the parts of a parallel download, not its first GET from byte 0.
   */
  fromByte?: number;
  /** Replace the normal response with this status. */
  status?: number;
  /** Number of matching requests this fault applies to (default 1; Infinity allowed). */
  times?: number;
  /** Retry-After header value sent with the response. */
  retryAfter?: string;
  /** Send headers (declaring the full length) plus this many body bytes, then close the socket. */
  resetAfterBytes?: number;
  /** Flush headers, then wait this long before sending the body (Infinity = never send). */
  stallMs?: number;
  /** Wait this long before writing headers (Infinity = never respond). */
  stallBeforeHeadersMs?: number;
  /** Declare this Content-Length but send the real body, then close the connection. */
  wrongContentLength?: number;
  /** Serve the file with its first byte flipped and a different ETag. */
  changeEtag?: boolean;
  /** Ignore Range, send 200 with the full body and "Accept-Ranges: none". */
  noRanges?: boolean;
  /** Extension: ignore Range and say nothing about ranges (no Accept-Ranges), as python's http.server does. */
  rangesIgnored?: boolean;
  /** Extension: send no ETag (the file's version is only its Last-Modified). */
  noEtag?: boolean;
  /** Send the body at roughly this rate. */
  throttleBytesPerSec?: number;
  /** Extension: omit Content-Length (the body goes chunked), as servers streaming generated content do. */
  noContentLength?: boolean;
  /**
   * Extension: answer a ranged GET as if it had asked for this Range instead (e.g. "bytes=0-99"),
   * with a correct Content-Range: a server that truncates ranges or misreads suffix ranges.
   */
  answerRange?: string;
}

/** One request the test HTTP server received. */
export interface RecordedRequest {
  /** The HTTP method. */
  method: string;
  /** Decoded pathname, without query string. */
  path: string;
  /** Raw request target as received (path + query). */
  url: string;
  /** The request headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
}

/**
 * An info request: a HEAD, or the `Range: bytes=0-0` GET that stands in for one on an origin
 * whose HEAD announced ranges (see docs/backends/http.md, Reading).
 */
export const isInfoRequest = (r: Pick<RecordedRequest, "method" | "headers">): boolean =>
  r.method === "HEAD" || (r.method === "GET" && r.headers.range === "bytes=0-0");

/** How directory-index hrefs are written: "name", "/dir/name" or "http://host/dir/name". */
export type IndexStyle = "relative" | "absolute" | "url";

/** A running test HTTP server (`startHttpServer`): its files, faults and the requests it saw. */
export interface TestHttpServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** pathname -> content. May be mutated directly; metadata is recomputed when the content object changes. */
  files: Map<string, Uint8Array>;
  /**
   * Serve `data` at `path` (strings as UTF-8), with an ETag, Last-Modified and Content-Type of its own
   * unless given.
   */
  setFile(
    path: string,
    data: Uint8Array | string,
    opts?: { etag?: string; lastModified?: Date; contentType?: string },
  ): void;
  /** Stop serving `path` (404 from now on). */
  deleteFile(path: string): void;
  /** Answer `from` with a redirect to `to` (status default 302). */
  addRedirect(from: string, to: string, status?: number): void;
  /** Inject a fault into the next matching requests (see `FaultSpec`). */
  fault(spec: FaultSpec): void;
  /** Drop every pending fault. */
  clearFaults(): void;
  /**
   * Extension: how the directory `dir` (a path ending in "/") answers: `listed: false` gives
   * 403 for its index (autoindex off), `redirects: false` makes its unslashed URL 404 instead
   * of a 301 to the slashed one (object-store websites).
   */
  setDirectory(dir: string, options: { listed?: boolean; redirects?: boolean }): void;
  /** How directory indexes write their links from now on (default "relative"). */
  setIndexStyle(style: IndexStyle): void;
  /** Every request received since the last `resetCounts`, in order. */
  requests: RecordedRequest[];
  /** How many requests (for `path`, with `method`, when given) since the last `resetCounts`. */
  requestCount(path?: string, method?: string): number;
  /** Extension: TCP connections accepted since the last resetCounts (keep-alive shows as 1). */
  connectionCount(): number;
  /** Extension: most requests being handled at once since the last resetCounts. */
  peakInFlight(): number;
  /**
   * Extension: most downloads being handled at once since the last resetCounts: GETs other than
   * the one-byte `bytes=0-0` ones an HTTP filesystem asks a file's info with (HEADs neither).
   */
  peakDownloadsInFlight(): number;
  /** Forget the recorded requests and counters. */
  resetCounts(): void;
  /** Send every body at about this rate from now on (undefined: full speed). */
  throttle(bytesPerSec: number | undefined): void;
  /** Stop the server and drop its connections. */
  close(): Promise<void>;
}

/** Options of `startHttpServer`. */
export interface HttpServerOptions {
  /** Accept PUT/POST (store body) and DELETE. Otherwise they get 405. */
  acceptPut?: boolean;
  /** Require this Authorization on every request (either scheme is accepted when both are set). */
  auth?: { basic?: { user: string; password: string }; bearer?: string };
  /** Extension: serve https:// with this key and certificate. */
  tls?: {
    /** The private key, PEM. */
    key: string;
    /** The certificate, PEM (a self-signed one is its own authority: give it to clients as `ca`). */
    cert: string;
  };
}

interface FileMeta {
  data: Uint8Array; // the content object this metadata was computed for
  etag: string;
  lastModified: string;
  contentType: string;
}

/** Per-request state shared by the response helpers. */
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  fault: FaultSpec | undefined;
  closed: boolean;
}

const SLICE = 1 << 20; // 1 MiB writes: large enough to be fast, small enough to respect backpressure
const THROTTLE_TICKS_PER_SEC = 20;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

const sha1 = (data: Uint8Array) => createHash("sha1").update(data).digest("hex");
const text = (s: string) => encoder.encode(s);
const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");
const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function httpDate(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toUTCString();
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed escapes: match on the raw form
  }
}

type RangeResult = { start: number; end: number } | "unsatisfiable" | undefined;

/** Single byte range per RFC 7233; undefined means "ignore the header and send 200". */
function parseRange(header: string, size: number): RangeResult {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // invalid or multi-range: answered with the full body
  const [, a, b] = m;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== "" && Number(b) < start) return undefined; // syntactically invalid -> ignore
  if (start >= size) return "unsatisfiable";
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  return { start, end };
}

/**
 * Start the test HTTP server on 127.0.0.1 (a free port): static files with ETag, Last-Modified and
 * single ranges, HTML directory indexes, redirects, optional auth and uploads, and injectable faults.
 */
export async function startHttpServer(options: HttpServerOptions = {}): Promise<TestHttpServer> {
  const files = new Map<string, Uint8Array>();
  const meta = new Map<string, FileMeta>();
  const redirects = new Map<string, { to: string; status: number }>();
  const directories = new Map<string, { listed?: boolean; redirects?: boolean }>();
  const faults: Array<{ spec: FaultSpec; remaining: number }> = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let indexStyle: IndexStyle = "relative";
  let globalThrottle: number | undefined;
  let baseUrl = "";
  let connectionsAccepted = 0;
  let inFlight = 0;
  let downloadsInFlight = 0;
  let downloadPeak = 0;
  let peak = 0;

  function makeMeta(data: Uint8Array, opts: { etag?: string; lastModified?: Date; contentType?: string } = {}): FileMeta {
    let etag = opts.etag ?? `"${sha1(data)}"`;
    if (!etag.startsWith('"') && !etag.startsWith("W/")) etag = `"${etag}"`;
    return {
      data,
      etag,
      lastModified: httpDate(opts.lastModified ?? new Date()),
      contentType: opts.contentType ?? "application/octet-stream",
    };
  }

  function fileMeta(path: string): FileMeta | undefined {
    const data = files.get(path);
    if (!data) return undefined;
    let m = meta.get(path);
    // `files` is public, so content may have been replaced behind setFile's back.
    if (!m || m.data !== data) {
      m = makeMeta(data);
      meta.set(path, m);
    }
    return m;
  }

  function setFile(
    path: string,
    data: Uint8Array | string,
    opts?: { etag?: string; lastModified?: Date; contentType?: string },
  ): void {
    const bytes = typeof data === "string" ? text(data) : data; // kept by reference: no copy of big files
    files.set(path, bytes);
    meta.set(path, makeMeta(bytes, opts));
  }

  function takeFault(path: string, method: string, range: string | undefined): FaultSpec | undefined {
    const i = faults.findIndex(
      (f) =>
        (f.spec.path === undefined || f.spec.path === path) &&
        (f.spec.method === undefined || f.spec.method.toUpperCase() === method) &&
        (f.spec.unlessRange === undefined || f.spec.unlessRange !== range) &&
        (f.spec.fromByte === undefined || Number(/^bytes=(\d+)-/.exec(range ?? "")?.[1] ?? -1) >= f.spec.fromByte),
    );
    if (i < 0) return undefined;
    const f = faults[i];
    if (--f.remaining <= 0) faults.splice(i, 1);
    return f.spec;
  }

  /** Resolves after `ms`, or as soon as the response closes (client gone or server closing). */
  function sleep(ms: number, ctx: Ctx): Promise<void> {
    return new Promise((resolve) => {
      if (ctx.closed) return resolve();
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) {
          clearTimeout(timer);
          timers.delete(timer);
        }
        ctx.res.off("close", done);
        resolve();
      };
      ctx.res.once("close", done);
      if (Number.isFinite(ms)) {
        timer = setTimeout(done, ms);
        timers.add(timer);
      }
    });
  }

  function drained(ctx: Ctx): Promise<void> {
    return new Promise((resolve) => {
      if (ctx.closed) return resolve();
      const done = () => {
        ctx.res.off("drain", done);
        ctx.res.off("close", done);
        resolve();
      };
      ctx.res.once("drain", done);
      ctx.res.once("close", done);
    });
  }

  /** Flush what was written, send FIN and drop the socket: the client sees the body end early. */
  function hangUp(sock: Socket | null): void {
    if (!sock || sock.destroyed) return;
    // end() rather than an RST so already-sent bytes reliably reach the client first.
    sock.end(() => sock.destroy());
  }

  async function writeBody(ctx: Ctx, body: Uint8Array, rate: number | undefined): Promise<void> {
    const step = rate ? Math.max(1, Math.floor(rate / THROTTLE_TICKS_PER_SEC)) : SLICE;
    for (let off = 0; off < body.length && !ctx.closed; off += step) {
      const ok = ctx.res.write(body.subarray(off, off + step)); // subarray: a view, no copy
      if (!ok) await drained(ctx);
      if (rate) await sleep((1000 * step) / rate, ctx);
    }
  }

  /** Write the response with raw bytes so Content-Length can disagree with the body. */
  function sendRaw(ctx: Ctx, status: number, headers: OutgoingHttpHeaders, body: Uint8Array): void {
    const sock = ctx.res.socket;
    if (!sock) return;
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`];
    for (const [k, v] of Object.entries(headers)) {
      for (const item of Array.isArray(v) ? v : [v]) if (item !== undefined) lines.push(`${k}: ${item}`);
    }
    lines.push("Connection: close", "", "");
    sock.write(lines.join("\r\n"));
    if (body.length) sock.write(body);
    hangUp(sock);
  }

  /** Every response goes through here so body-level faults apply uniformly. */
  async function send(ctx: Ctx, status: number, headers: OutgoingHttpHeaders, body: Uint8Array): Promise<void> {
    const { req, res, fault } = ctx;
    const isHead = req.method === "HEAD";
    const all: OutgoingHttpHeaders = {
      "Content-Type": "text/plain; charset=utf-8",
      ...headers,
      "Content-Length": String(fault?.wrongContentLength ?? body.length),
    };
    if (fault?.noContentLength) delete all["Content-Length"];
    if (fault?.retryAfter !== undefined) all["Retry-After"] = fault.retryAfter;

    if (fault?.wrongContentLength !== undefined) return sendRaw(ctx, status, all, isHead ? EMPTY : body);

    res.writeHead(status, all);
    if (isHead) {
      res.end();
      return;
    }
    if (fault?.stallMs) {
      res.flushHeaders(); // the client gets headers, then waits on the body
      await sleep(fault.stallMs, ctx);
      if (ctx.closed) return;
    }
    const reset = fault?.resetAfterBytes;
    const toSend = reset === undefined ? body : body.subarray(0, Math.min(reset, body.length));
    await writeBody(ctx, toSend, fault?.throttleBytesPerSec ?? globalThrottle);
    if (ctx.closed) return;
    if (reset !== undefined) {
      if (toSend.length === 0) res.flushHeaders(); // headers haven't gone out yet
      hangUp(res.socket);
      return;
    }
    res.end();
  }

  function hasChildren(dir: string): boolean {
    for (const key of files.keys()) if (key.startsWith(dir) && key.length > dir.length) return true;
    return false;
  }

  function indexHtml(dir: string): string {
    const names = new Set<string>();
    for (const key of files.keys()) {
      if (!key.startsWith(dir) || key.length === dir.length) continue;
      const rest = key.slice(dir.length);
      const slash = rest.indexOf("/");
      names.add(slash < 0 ? rest : rest.slice(0, slash + 1)); // subdirectories keep their trailing "/"
    }
    const href = (name: string) => {
      const rel = encodePath(name);
      if (indexStyle === "relative") return rel;
      const abs = encodePath(dir) + rel;
      return indexStyle === "absolute" ? abs : baseUrl + abs;
    };
    const items = [...names].sort().map((n) => `<li><a href="${escapeHtml(href(n))}">${escapeHtml(n)}</a></li>`);
    if (dir !== "/") items.unshift(`<li><a href="../">../</a></li>`);
    const title = `Index of ${escapeHtml(dir)}`;
    return `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1>\n<ul>\n${items.join("\n")}\n</ul>\n</body></html>\n`;
  }

  async function serveGet(ctx: Ctx, path: string): Promise<void> {
    const m = fileMeta(path);
    if (m) return serveFile(ctx, m);
    if (path.endsWith("/")) {
      if (path === "/" || hasChildren(path)) {
        if (directories.get(path)?.listed === false) return send(ctx, 403, {}, text("Forbidden\n"));
        return send(ctx, 200, { "Content-Type": "text/html; charset=utf-8" }, text(indexHtml(path)));
      }
    } else if (hasChildren(path + "/") && directories.get(path + "/")?.redirects !== false) {
      return send(ctx, 301, { Location: encodePath(path) + "/" }, text("Moved Permanently"));
    }
    return send(ctx, 404, {}, text(`Not Found: ${path}\n`));
  }

  async function serveFile(ctx: Ctx, m: FileMeta): Promise<void> {
    let { data, etag } = m;
    if (ctx.fault?.changeEtag) {
      data = data.slice(); // copy only for this faulted request
      if (data.length) data[0] ^= 0xff;
      etag = `"changed-${sha1(data)}"`; // "changed-" prefix: differs even for empty files
    }
    const ignored = ctx.fault?.rangesIgnored === true;
    const noRanges = ctx.fault?.noRanges === true || ignored;
    const size = data.length;
    const headers: OutgoingHttpHeaders = {
      "Content-Type": m.contentType,
      ETag: etag,
      "Last-Modified": m.lastModified,
      "Accept-Ranges": noRanges ? "none" : "bytes",
    };
    if (ignored) delete headers["Accept-Ranges"];
    if (ctx.fault?.noEtag) delete headers.ETag;
    const rangeHeader = ctx.req.headers.range && (ctx.fault?.answerRange ?? ctx.req.headers.range);
    const ifRange = ctx.req.headers["if-range"];
    // If-Range that doesn't match the current validator means "send it all" (RFC 7233 §3.2).
    const rangeAllowed = !noRanges && (ifRange === undefined || ifRange === etag || ifRange === m.lastModified);
    if (rangeHeader && rangeAllowed) {
      const r = parseRange(rangeHeader, size);
      if (r === "unsatisfiable") {
        return send(
          ctx,
          416,
          { ...headers, "Content-Type": "text/plain; charset=utf-8", "Content-Range": `bytes */${size}` },
          text("Range Not Satisfiable\n"),
        );
      }
      if (r) {
        const part = data.subarray(r.start, r.end + 1);
        return send(ctx, 206, { ...headers, "Content-Range": `bytes ${r.start}-${r.end}/${size}` }, part);
      }
    }
    return send(ctx, 200, headers, data);
  }

  async function storeBody(ctx: Ctx, path: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    if (ctx.closed) return;
    const existed = files.has(path);
    const contentType = ctx.req.headers["content-type"];
    setFile(path, new Uint8Array(Buffer.concat(chunks)), contentType ? { contentType } : undefined);
    return send(ctx, existed ? 200 : 201, {}, text(existed ? "Updated\n" : "Created\n"));
  }

  function authorized(header: string | undefined): boolean {
    const { basic, bearer } = options.auth ?? {};
    if (basic && header === `Basic ${Buffer.from(`${basic.user}:${basic.password}`).toString("base64")}`) return true;
    return bearer !== undefined && header === `Bearer ${bearer}`;
  }

  function challenges(): string[] {
    const out: string[] = [];
    if (options.auth?.basic) out.push('Basic realm="fsspec-ts-test"');
    if (options.auth?.bearer !== undefined) out.push('Bearer realm="fsspec-ts-test"');
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx: Ctx = { req, res, fault: undefined, closed: false };
    const method = (req.method ?? "GET").toUpperCase();
    const download = method === "GET" && !isInfoRequest({ method, headers: req.headers });
    res.once("close", () => {
      ctx.closed = true;
      inFlight--;
      if (download) downloadsInFlight--;
    });
    peak = Math.max(peak, ++inFlight);
    if (download) downloadPeak = Math.max(downloadPeak, ++downloadsInFlight);

    const rawUrl = req.url ?? "/";
    // Prefixing the origin keeps "//x" targets as paths rather than hosts.
    const path = decodePath(new URL(`http://127.0.0.1${rawUrl.startsWith("/") ? rawUrl : `/${rawUrl}`}`).pathname);
    requests.push({ method, path, url: rawUrl, headers: req.headers });

    const fault = (ctx.fault = takeFault(path, method, req.headers.range));
    if (fault?.stallBeforeHeadersMs) {
      await sleep(fault.stallBeforeHeadersMs, ctx);
      if (ctx.closed) return;
    }
    // Fault statuses come before auth: they simulate an overloaded proxy or server.
    if (fault?.status !== undefined) {
      return send(ctx, fault.status, {}, text(`${fault.status} ${STATUS_CODES[fault.status] ?? ""} (injected)\n`));
    }
    if (options.auth && !authorized(req.headers.authorization)) {
      return send(ctx, 401, { "WWW-Authenticate": challenges() }, text("Unauthorized\n"));
    }
    const redirect = redirects.get(path);
    if (redirect) return send(ctx, redirect.status, { Location: redirect.to }, text(`Redirecting to ${redirect.to}\n`));

    switch (method) {
      case "GET":
      case "HEAD":
        return serveGet(ctx, path);
      case "PUT":
      case "POST":
        if (options.acceptPut) return storeBody(ctx, path);
        break;
      case "DELETE":
        if (options.acceptPut) {
          if (!files.delete(path)) return send(ctx, 404, {}, text(`Not Found: ${path}\n`));
          meta.delete(path);
          return send(ctx, 200, {}, text("Deleted\n"));
        }
        break;
    }
    const allow = options.acceptPut ? "GET, HEAD, PUT, POST, DELETE" : "GET, HEAD";
    return send(ctx, 405, { Allow: allow }, text("Method Not Allowed\n"));
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
  };
  const server = options.tls ? createHttpsServer(options.tls, onRequest) : createServer(onRequest);
  server.on("connection", (sock) => {
    sockets.add(sock);
    connectionsAccepted++;
    sock.once("close", () => sockets.delete(sock));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;

  return {
    url: baseUrl,
    port,
    files,
    requests,
    setFile,
    deleteFile(path) {
      files.delete(path);
      meta.delete(path);
    },
    addRedirect(from, to, status = 302) {
      redirects.set(from, { to, status });
    },
    fault(spec) {
      faults.push({ spec, remaining: spec.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    setDirectory(dir, options) {
      directories.set(dir, options);
    },
    setIndexStyle(style) {
      indexStyle = style;
    },
    requestCount(path, method) {
      const m = method?.toUpperCase();
      return requests.filter((r) => (path === undefined || r.path === path) && (m === undefined || r.method === m))
        .length;
    },
    connectionCount() {
      return connectionsAccepted;
    },
    peakInFlight() {
      return peak;
    },
    peakDownloadsInFlight() {
      return downloadPeak;
    },
    resetCounts() {
      requests.length = 0;
      connectionsAccepted = 0;
      peak = inFlight;
      downloadPeak = downloadsInFlight;
    },
    throttle(bytesPerSec) {
      globalThrottle = bytesPerSec;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const t of timers) clearTimeout(t);
        timers.clear();
        faults.length = 0;
        // Destroying sockets fires each response's "close", which releases pending sleeps/drains.
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
