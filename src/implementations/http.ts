/**
 * HTTP(S) as a filesystem (`http`, `https`): paths are full URLs. Files are read with ranged
 * GETs that are checked, retried and resumed (see http/download.ts); directories are HTML
 * index pages; uploads are PUT (or POST). One undici dispatcher per instance keeps connections
 * alive and caps them per origin, through a proxy where one applies (http/dispatcher.ts).
 * @module fsspec-ts/http
 */
import { AbstractFileSystem, type WalkEntry, type WalkEntryDetail } from "../core/abstract.js";
import { FsError, isFsError } from "../core/errors.js";
import { mapBounded, Semaphore } from "../core/limiter.js";
import { nodeCrypto } from "../core/first-use.js";
import { trimTrailingSlashes } from "../core/paths.js";
import { EXPAND_OPTIONS, isProgressCallback, type ExpandOptions, type FileInfo, type FileSystemOptions, type FindOptions, type GlobOptions, type LsOptions, type PipeMode, type ProgressCallback, type SignalOptions, type WalkOptions } from "../core/types.js";
import { anyValue, checkPaths, isBoolean, isStringRecord, oneOf, optionSpec } from "../core/validate.js";
import type { FileVersion, PinnedReadOptions, PinnedReads } from "../core/versions.js";
import { BufferedFile, type FileOpenOptions, type BinaryMode, type OpenMode, type TextMode } from "../files/buffered-file.js";
import type { TextFile } from "../files/text-file.js";
import { DEFAULT_BLOCK_SIZE } from "../files/read-caches.js";
import { discardBody, header, HttpClient, type HttpAuth, type HttpResponse, type SendOptions } from "./http/client.js";
import type { TransportOptions } from "./http/dispatcher.js";
import { parseContentRange, RangeDownload, type DownloadOptions, type Validators } from "./http/download.js";
import { redactUrl, statusError, transportFailure } from "./http/errors.js";
import { childrenOf } from "./http/index-page.js";
import { decodeSegment, encodeSegment, splitQuery } from "./http/names.js";
import { OpenedFileFetcher } from "./http/file-fetcher.js";
import { StreamingCache } from "./http/stream-cache.js";
import type { ByteSink, DownloadToOptions } from "../files/byte-sink.js";
import { downloadTuning, finishFromFirst, goesParallel, linkedAbort, type DownloadTuning, type ParallelDownloadOptions } from "../files/parallel-ranges.js";

export type { HttpAuth } from "./http/client.js";
export type { CertificateAuthorities } from "./http/dispatcher.js";

/**
 * Proxies (`proxy`; default HTTPS_PROXY / HTTP_PROXY / NO_PROXY), a `dispatcher` of your own, extra
 * certificate authorities (`ca`): see docs/proxies.md.
 */
export interface HTTPFileSystemOptions extends FileSystemOptions, TransportOptions, ParallelDownloadOptions {
  /**
   * Sent with every request (default none; credentials in them are dropped on redirects to other
   * origins).
   */
  headers?: Record<string, string>;
  /**
   * Basic (`{username, password}`) or bearer (`{bearer}`) credentials (default none); user info in a
   * URL wins.
   */
  auth?: HttpAuth;
  /**
   * Most connections per origin (default 64, measured: see docs/backends/http.md), kept alive
   * between requests and opened at most 4 at a time per origin. Batch calls (`cat`, `catRanges`,
   * `get`...) run as many requests at once unless `concurrency` says otherwise.
   */
  connections?: number;
  /** Milliseconds to connect and to receive response headers (default 30,000). */
  timeout?: number;
  /** Milliseconds a response body may go without a byte (default 30,000). */
  bodyTimeout?: number;
  /** Further tries after a retryable failure (default 5). */
  retries?: number;
  /** First backoff step in milliseconds, doubled per try, with jitter (default 100). */
  retryDelay?: number;
  /** Longest single wait in milliseconds; a longer Retry-After fails at once (default 15,000). */
  maxRetryDelay?: number;
  /** Redirects followed per request (default 10). */
  maxRedirects?: number;
  /** Milliseconds an idle connection is kept (default 4,000). */
  keepAliveTimeout?: number;
  /** Upload method of pipeFile/put/opened writers (default PUT; POST is never retried once sent). */
  uploadMethod?: "PUT" | "POST";
  /**
   * Fill in file sizes of listings with an info request per file, where details are asked for (`ls`,
   * `find`/`glob`/`walk` with `detail: true`, `du`); default true; false: size null.
   */
  listSizes?: boolean;
  /**
   * Those info requests in flight at once per origin, whatever the number of calls (default 16,
   * by measurement: see docs/backends/http.md; new connections still open at most 4 at a time,
   * which keeps small servers such as python's http.server, with a listen backlog of 5, whole).
   */
  headConcurrency?: number;
}

/**
 * The client options the backends built on this one (hf, ngc, gs) pass through to it: connections,
 * timeouts, retries, redirects, proxies, parallel downloads.
 * @internal
 */
export const HTTP_TRANSPORT_KEYS = [
  "headers", "connections", "timeout", "bodyTimeout", "retries", "retryDelay", "maxRetryDelay", "maxRedirects", "keepAliveTimeout",
  "proxy", "dispatcher", "ca", "rangeConcurrency", "rangeThreshold",
] as const;
/** The options of the HTTP client that hf, ngc and gs take too (see HTTPFileSystemOptions). */
export type HttpTransportOptions = Pick<HTTPFileSystemOptions, (typeof HTTP_TRANSPORT_KEYS)[number]>;

/** Per-call options of reads and writes: an AbortSignal and a progress callback. */
export interface HttpCallOptions extends SignalOptions {
  /** Progress of the bytes downloaded: `setSize(total)` when known, then `relativeUpdate(bytes)`. */
  callback?: ProgressCallback;
}

/** Options of `open()` on the HTTP-based backends (http, hf, ngc): the file's own and download progress. */
export interface ProgressOpenOptions extends FileOpenOptions {
  /** Progress of the bytes downloaded: `setSize(total)` when known, then `relativeUpdate(bytes)`. */
  callback?: ProgressCallback;
}

/** Options of `open()` over HTTP, hf and ngc: also `streaming`. */
export interface HttpOpenOptions extends ProgressOpenOptions {
  /** Read forward through one streamed response instead of ranged requests, as a whole-file download does (default false). */
  streaming?: boolean;
}

/**
 * Per-call options the HTTP-based backends add to catFile and open: download progress.
 * @internal
 */
export const PROGRESS_CALL_OPTIONS = optionSpec<Pick<HttpCallOptions, "callback">>({ callback: isProgressCallback });

/**
 * Options the HTTP-based backends add to open: download progress, and reading through one streamed response.
 * @internal
 */
export const STREAMING_OPEN_OPTIONS = optionSpec<Pick<HttpOpenOptions, "callback" | "streaming">>({ callback: isProgressCallback, streaming: isBoolean });

/**
 * Connections per origin by default. Measured (bench/cases/http-defaults.ts): many small requests
 * gain most from more in flight once a network's latency is there, and 64 loses little on loopback.
 */
const DEFAULT_CONNECTIONS = 64;
const MAX_DIR_HINTS = 10_000;
/** Longest wait for the one byte of an info's `bytes=0-0` GET before answering without it. */
const BODY_WAIT_MS = 1_000;
/** Larger pages are taken for files by `ls`, not parsed for links. */
const MAX_INDEX_PAGE = 16 * 2 ** 20;

function option(options: HTTPFileSystemOptions, name: keyof HTTPFileSystemOptions, fallback: number, min: number): number {
  const v = options[name] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw FsError.einval(`${String(name)} must be a number >= ${min}, got ${String(v)}`);
  return v;
}

/** The whole body, or undefined (and the body dropped) once it is longer than `limit`. */
async function readUpTo(body: HttpResponse["body"], limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    n += chunk.byteLength;
    if (n > limit) {
      body.destroy();
      return undefined;
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, n);
}

/** True when `final` is `path` with a trailing slash (asked for so, or redirected there). */
function isSlashedForm(path: string, final: URL): boolean {
  try {
    const asked = new URL(path).pathname;
    return final.pathname === asked || final.pathname === `${asked.replace(/\/+$/, "")}/`;
  } catch {
    return false;
  }
}

/** Whether ranges of one version can be asked for: a strong ETag or a date for If-Range. */
function canPin(version: Validators): boolean {
  return (typeof version.etag === "string" && !version.etag.startsWith("W/")) || typeof version.lastModified === "string";
}

/** The origin of an absolute URL (undefined for anything else). */
function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function isHtml(res: HttpResponse): boolean {
  const type = header(res.headers, "content-type");
  return type === undefined || /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(type);
}

/** `open` takes HttpOpenOptions here (types only: the base's open does the work). */
export interface HTTPFileSystem {
  open(path: string, mode: TextMode, options?: HttpOpenOptions): Promise<TextFile>;
  open(path: string, mode?: BinaryMode, options?: HttpOpenOptions): Promise<BufferedFile>;
  open(path: string, mode?: OpenMode, options?: HttpOpenOptions): Promise<BufferedFile | TextFile>;
}

/**
 * HTTP(S) as a filesystem (`http`, `https`): paths are full URLs; reads are checked, retried and
 * resumed ranged GETs, directories are HTML index pages, uploads PUT (or POST). See
 * docs/backends/http.md.
 */
export class HTTPFileSystem extends AbstractFileSystem implements PinnedReads {
  static override protocols = ["http", "https"] as const;
  static override rootMarker = "";
  /**
   * `headers` is printed with its credential headers (Authorization, Cookie, X-Api-Key...) as `***`;
   * a proxy URL and a dispatcher (which may hold a proxy's credentials) are never printed.
   */
  static override secretOptions = ["auth", "proxy", "dispatcher"];
  static override ownOptions = optionSpec<HTTPFileSystemOptions, FileSystemOptions>({
    headers: isStringRecord,
    // Credentials, connection counts and times are checked by the constructor, with their bounds.
    auth: anyValue,
    connections: anyValue,
    timeout: anyValue,
    bodyTimeout: anyValue,
    retries: anyValue,
    retryDelay: anyValue,
    maxRetryDelay: anyValue,
    maxRedirects: anyValue,
    keepAliveTimeout: anyValue,
    uploadMethod: oneOf("PUT", "POST"),
    listSizes: isBoolean,
    headConcurrency: anyValue,
    // Checked where they are used: the proxy plan, dispatcherFor.
    proxy: anyValue,
    dispatcher: anyValue,
    ca: anyValue,
    // Checked by downloadTuning, with their bounds.
    rangeConcurrency: anyValue,
    rangeThreshold: anyValue,
  });
  static override callOptions = {
    /** `catFile` also takes `callback` (download progress). */
    catFile: PROGRESS_CALL_OPTIONS,
    /** `open` also takes `callback` and `streaming`. */
    open: STREAMING_OPEN_OPTIONS,
  };

  /**
   * A URL names itself; only trailing slashes go (directories are found by the server's
   * answer). A URL with a query or fragment is kept exactly as written: `d/?sig=…` and
   * `d?sig=…` are different requests, and a signed URL must be sent as it was signed.
   */
  static override stripProtocol(path: string): string {
    if (!/^https?:\/\/./i.test(path)) throw FsError.einval("HTTP paths are full URLs (http:// or https://)", redactUrl(path));
    return /[?#]/.test(path) ? path : trimTrailingSlashes(path);
  }

  /**
   * The connection pool and retry policy of this instance.
   * @internal
   */
  readonly client: HttpClient;
  /** Requests a batch call runs at once: `concurrency`, else as many as there are `connections`. */
  override readonly concurrency: number;
  private readonly listSizes: boolean;
  private readonly headConcurrency: number;
  private readonly uploadMethod: "PUT" | "POST";
  /** Names that listings showed to be directories: asked for with their trailing slash. */
  private readonly dirHints = new Set<string>();
  /** Per origin: the info requests that fill in listed sizes (see withSizes). */
  private readonly sizeProbes = new Map<string, Semaphore>();
  /**
   * How large downloads go: parallel ranges from `threshold` bytes on, `concurrency` at a time.
   * @internal
   */
  readonly downloads: DownloadTuning;
  /**
   * Per origin, how `info` asks: "range" (a `bytes=0-0` GET) once a 2xx HEAD announced
   * `Accept-Ranges: bytes`; "head" for good once such a GET showed that ranges give no size
   * there (a whole 200 body, a Content-Range without a total). undici closes the connection
   * after every HEAD (a misbehaving server might send a body), so where the origin honours
   * ranges the one-byte GET is the cheaper question: it keeps the connection, and its TLS
   * session, for the next request. An origin that does not announce ranges is never sent a
   * GET it could answer with the whole file.
   */
  private readonly infoMethod = new Map<string, "range" | "head">();

  constructor(options: HTTPFileSystemOptions = {}) {
    super(options);
    const method = options.uploadMethod ?? "PUT";
    if (method !== "PUT" && method !== "POST") throw FsError.einval(`uploadMethod must be PUT or POST, got ${String(method)}`);
    this.uploadMethod = method;
    this.listSizes = options.listSizes ?? true;
    this.headConcurrency = Math.floor(option(options, "headConcurrency", 16, 1));
    const connections = Math.floor(option(options, "connections", DEFAULT_CONNECTIONS, 1));
    this.concurrency = options.concurrency ?? connections;
    this.downloads = downloadTuning(options);
    this.client = new HttpClient({
      headers: { ...options.headers },
      auth: options.auth,
      connections,
      timeout: option(options, "timeout", 30_000, 1),
      bodyTimeout: option(options, "bodyTimeout", 30_000, 1),
      retries: Math.floor(option(options, "retries", 5, 0)),
      retryDelay: option(options, "retryDelay", 100, 0),
      maxRetryDelay: option(options, "maxRetryDelay", 15_000, 0),
      maxRedirects: Math.floor(option(options, "maxRedirects", 10, 0)),
      keepAliveTimeout: option(options, "keepAliveTimeout", 4_000, 1),
      proxy: options.proxy,
      dispatcher: options.dispatcher,
      ca: options.ca,
    });
  }

  protected override get listsRemotely(): boolean {
    return true;
  }

  /** Close the connections of this instance (do not use it afterwards); it leaves the instance cache. */
  override async close(): Promise<void> {
    await super.close();
    await this.client.close();
  }

  // ---------------------------------------------------------------- names

  /** A URL written with a trailing slash names a directory: it is asked for in that form. */
  override normalizePath(path: string): string {
    const p = super.normalizePath(path);
    if (path.endsWith("/") && !/[?#]/.test(path)) this.hint(p);
    return p;
  }

  /**
   * Local names are the decoded segments (`dir%20a` is `dir a`, the same from every server),
   * without a query: `a.txt?sig=…` is saved as `a.txt`, so no signature lands in a file name.
   */
  override fileNameOf(segment: string): string | undefined {
    return decodeSegment(splitQuery(segment)[0]);
  }

  override segmentOf(name: string): string {
    return encodeSegment(name);
  }

  // ---------------------------------------------------------------- metadata

  /** Forgets which names are directories too. */
  override invalidateCache(path?: string): void {
    super.invalidateCache(path);
    if (path === undefined) this.dirHints.clear();
    else this.dirHints.delete(HTTPFileSystem.stripProtocol(path));
  }

  private hint(path: string): void {
    if (this.dirHints.size >= MAX_DIR_HINTS) this.dirHints.clear();
    this.dirHints.add(path);
  }

  /**
   * Send to `path` in the form it is known by (with its trailing slash when a listing or the
   * caller named it a directory); on 404 the other form is tried once, since servers differ in
   * which one a directory answers. A URL with a query is only ever sent as written.
   */
  private async sendTo(path: string, options: SendOptions): Promise<HttpResponse> {
    if (path.includes("?")) return this.client.send(path, options);
    const slashed = `${path}/`;
    const asDir = this.dirHints.has(path);
    const res = await this.client.send(asDir ? slashed : path, options);
    if (res.status !== 404) return res;
    discardBody(res.body);
    if (asDir) this.dirHints.delete(path);
    const other = await this.client.send(asDir ? path : slashed, options);
    if (!asDir && other.status >= 200 && other.status < 300) this.hint(path);
    return other;
  }

  private fileInfo(path: string, res: HttpResponse, size: number | null): FileInfo {
    const info: FileInfo = { name: path, size, type: "file" };
    const etag = header(res.headers, "etag");
    if (etag) info.etag = etag;
    const modified = header(res.headers, "last-modified");
    if (modified && !Number.isNaN(Date.parse(modified))) {
      info.mtime = new Date(modified);
      // Kept verbatim: If-Range must repeat the server's own date string.
      info.lastModified = modified;
    }
    const type = header(res.headers, "content-type");
    if (type) info.mimetype = type.split(";")[0]!.trim();
    const ranges = header(res.headers, "accept-ranges");
    if (ranges) info.acceptRanges = ranges.trim().toLowerCase() !== "none";
    return info;
  }

  /**
   * Size a response states: Content-Range's total for partial answers, else Content-Length.
   * A Content-Encoding does not change that: bodies are handed on as sent, never decompressed.
   */
  private static sizeOf(res: HttpResponse): number | null {
    if (res.status === 206 || res.status === 416) return parseContentRange(header(res.headers, "content-range"))?.total ?? null;
    const len = header(res.headers, "content-length");
    return len !== undefined && /^\d+$/.test(len.trim()) ? Number(len) : null;
  }

  /**
   * What a final status says about `path`: a 2xx HTML page at the slashed URL is a directory,
   * and so is a slashed URL the server refuses to show (autoindex off: 301 to `dir/`, then 403);
   * other failures are errors, whatever redirects came before (the final status decides).
   */
  private directoryOrError(path: string, res: HttpResponse): "directory" | "file" {
    const slashed = res.url.pathname.endsWith("/");
    if (res.status >= 200 && res.status < 300) {
      if (slashed && isHtml(res)) {
        this.hint(path);
        return "directory";
      }
      return "file";
    }
    if ((res.status === 401 || res.status === 403) && slashed && isSlashedForm(path, res.url)) {
      this.hint(path);
      return "directory";
    }
    throw statusError(res.status, path, res.statusText);
  }

  protected override async _info(path: string, options: SignalOptions): Promise<FileInfo> {
    const listed = this.dircache?.get(this.parent(path))?.find((e) => e.name === path);
    if (listed && (listed.type === "directory" || listed.size !== null)) return listed;
    return this.headInfo(path, options);
  }

  /**
   * Info from one request: a one-byte GET where the origin honours ranges (see infoMethod),
   * else a HEAD; a server without HEAD, or without a length, is asked for byte 0 instead.
   */
  private async headInfo(path: string, options: SignalOptions): Promise<FileInfo> {
    const origin = originOf(path);
    if (origin !== undefined && this.infoMethod.get(origin) === "range") {
      const info = await this.rangeInfo(path, origin, options);
      if (info !== undefined) return info;
    }
    const res = await this.sendTo(path, { method: "HEAD", signal: options.signal });
    discardBody(res.body);
    if (origin !== undefined && !this.infoMethod.has(origin) && res.status >= 200 && res.status < 300 && /\bbytes\b/i.test(header(res.headers, "accept-ranges") ?? "")) {
      this.infoMethod.set(origin, "range");
    }
    if (res.status === 405 || res.status === 501) return this.probe(path, options);
    if (this.directoryOrError(path, res) === "directory") return { name: path, size: 0, type: "directory" };
    const info = this.fileInfo(path, res, HTTPFileSystem.sizeOf(res));
    if (info.size === null) info.size = (await this.probe(path, options)).size;
    return info;
  }

  /**
   * Info from a `bytes=0-0` GET, or undefined to leave the question to a HEAD. A 206 carries
   * the size in Content-Range. A whole 200 body is a file of its Content-Length (the body is
   * dropped, and unless the file is empty the origin is asked by HEAD from now on) or a
   * directory's index page. 401,
   * 403, 404 and 410 decide as a HEAD's would. The 416 of an empty file goes to a HEAD too:
   * its headers are those of an error page (no ETag, date or type of the file's own).
   */
  private async rangeInfo(path: string, origin: string, options: SignalOptions): Promise<FileInfo | undefined> {
    const res = await this.sendTo(path, { headers: { range: "bytes=0-0" }, signal: options.signal });
    // Read to its end (one byte; or up to 64 KiB of a whole file, then the connection is
    // dropped) and let undici check the idle socket (two turns of the event loop) before
    // answering: a request sent at once would find the connection busy and open another.
    // A body slower than BODY_WAIT_MS is dropped with its connection (a stalled server): the
    // answer does not wait for it, and the request ends with the answer, so a caller that
    // bounds requests in flight (ls's sizes) is never one over while it would drain.
    const drained = res.body.dump({ limit: 64 * 1024 }).then(
      () => true,
      () => true,
    );
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([drained, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), BODY_WAIT_MS)))]);
    clearTimeout(timer);
    if (!ended) res.body.destroy();
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410) {
      this.directoryOrError(path, res); // throws, unless it is a directory the server will not show
      return { name: path, size: 0, type: "directory" };
    }
    if (res.status < 200 || res.status >= 300) return undefined;
    if (this.directoryOrError(path, res) === "directory") return { name: path, size: 0, type: "directory" };
    const size = HTTPFileSystem.sizeOf(res);
    // Ranges gave no size here: the file came whole, or Content-Range has no total. (An empty
    // file's whole body is what nginx, Apache and lighttpd answer bytes=0-0 with: no sign.)
    if ((res.status !== 206 && size !== 0) || size === null) this.infoMethod.set(origin, "head");
    if (size === null) return undefined;
    const info = this.fileInfo(path, res, size);
    if (res.status === 206) info.acceptRanges = true; // the answer itself shows it
    return info;
  }

  /** Info from a `bytes=0-0` GET: its Content-Range carries the size. */
  private async probe(path: string, options: SignalOptions): Promise<FileInfo> {
    const res = await this.sendTo(path, { headers: { range: "bytes=0-0" }, signal: options.signal });
    discardBody(res.body);
    if (res.status === 416) return this.fileInfo(path, res, HTTPFileSystem.sizeOf(res));
    if (this.directoryOrError(path, res) === "directory") return { name: path, size: 0, type: "directory" };
    return this.fileInfo(path, res, HTTPFileSystem.sizeOf(res));
  }

  /**
   * An index page's links below the URL, or `[info]` when the URL is a file. Sizes are left
   * unknown here: the calls that give details fill them in (see withSizes).
   */
  protected override async _ls(path: string, options: SignalOptions): Promise<FileInfo[]> {
    const res = await this.sendTo(path, { signal: options.signal });
    if (res.status < 200 || res.status >= 300) {
      discardBody(res.body);
      if (this.directoryOrError(path, res) === "directory") {
        throw new FsError("EACCES", `the server does not list this directory (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""})`, {
          path: redactUrl(path),
          status: res.status,
        });
      }
    }
    const declared = HTTPFileSystem.sizeOf(res);
    // Not an index page (or too big to be one: an untyped download is never read whole here).
    if (!isHtml(res) || (declared !== null && declared > MAX_INDEX_PAGE)) {
      discardBody(res.body);
      return [this.fileInfo(path, res, declared)];
    }
    const bytes = await readUpTo(res.body, MAX_INDEX_PAGE).catch((err: unknown) => {
      throw transportFailure(err, path, options.signal).error;
    });
    if (bytes === undefined) return [this.fileInfo(path, res, null)];
    const children = childrenOf(bytes.toString("utf8"), res.url);
    if (!res.url.pathname.endsWith("/") && children.length === 0) {
      return [this.fileInfo(path, res, declared ?? bytes.byteLength)];
    }
    // Children are named from the path part, as a browser resolves the page's relative links:
    // the query of `d/?token=X` is that URL's own and is not carried to `d/a.txt`.
    const [dir, query] = splitQuery(path);
    const base = trimTrailingSlashes(dir);
    this.hint(query ? base : path);
    return children.map((c) => {
      const name = `${base}/${c.segment}`;
      if (c.type === "directory") this.hint(name);
      return c.type === "directory" ? { name, size: 0, type: "directory" } : { name, size: null, type: "file" };
    });
  }

  /**
   * Fill in the unknown sizes of listed files with an info request each (unless `listSizes` is off), at
   * most `headConcurrency` at a time per origin whatever the number of calls: a listing of
   * many files neither floods a small server nor takes every connection from reads.
   */
  private async withSizes<T extends FileInfo[] | Record<string, FileInfo>>(entries: T, options: SignalOptions): Promise<T> {
    if (!this.listSizes) return entries;
    const unknown = Object.values(entries).filter((e) => e.type === "file" && e.size === null);
    await mapBounded(unknown, async (entry) => {
      const origin = new URL(entry.name).origin;
      let gate = this.sizeProbes.get(origin);
      if (!gate) this.sizeProbes.set(origin, (gate = new Semaphore(this.headConcurrency)));
      try {
        const info = await gate.run(() => this.headInfo(entry.name, options));
        Object.assign(entry, info);
      } catch (err) {
        // A dead link stays listed with an unknown size; an abort stops the listing.
        if (isFsError(err, "EABORT")) throw err;
      }
    }, { concurrency: this.concurrency, signal: options.signal });
    return entries;
  }

  override ls(path: string, options: LsOptions & { detail: false }): Promise<string[]>;
  override ls(path: string, options?: LsOptions & { detail?: true }): Promise<FileInfo[]>;
  override ls(path: string, options?: LsOptions): Promise<FileInfo[] | string[]>;
  override async ls(path: string, options: LsOptions = {}): Promise<FileInfo[] | string[]> {
    const out = await super.ls(path, options);
    return options.detail === false ? out : this.withSizes(out as FileInfo[], options);
  }

  override find(path: string, options: FindOptions & { detail: true }): Promise<Record<string, FileInfo>>;
  override find(path: string, options?: FindOptions & { detail?: false }): Promise<string[]>;
  override find(path: string, options?: FindOptions): Promise<string[] | Record<string, FileInfo>>;
  override async find(path: string, options: FindOptions = {}): Promise<string[] | Record<string, FileInfo>> {
    const out = await super.find(path, options);
    return options.detail ? this.withSizes(out as Record<string, FileInfo>, options) : out;
  }

  override glob(pattern: string, options: GlobOptions & { detail: true }): Promise<Record<string, FileInfo>>;
  override glob(pattern: string, options?: GlobOptions & { detail?: false }): Promise<string[]>;
  override glob(pattern: string, options?: GlobOptions): Promise<string[] | Record<string, FileInfo>>;
  override async glob(pattern: string, options: GlobOptions = {}): Promise<string[] | Record<string, FileInfo>> {
    const out = await super.glob(pattern, options);
    return options.detail ? this.withSizes(out as Record<string, FileInfo>, options) : out;
  }

  override walk(path: string, options: WalkOptions & { detail: true }): AsyncGenerator<WalkEntryDetail>;
  override walk(path: string, options?: WalkOptions & { detail?: false }): AsyncGenerator<WalkEntry>;
  override async *walk(path: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry | WalkEntryDetail> {
    for await (const entry of super.walk(path, options as WalkOptions & { detail?: false }) as AsyncGenerator<WalkEntry | WalkEntryDetail>) {
      if (options.detail) await this.withSizes((entry as WalkEntryDetail)[2], options);
      yield entry;
    }
  }

  /** A key that changes with the content: the URL plus its ETag (else size and date). */
  override async ukey(path: string, options: SignalOptions = {}): Promise<string> {
    const info = await this.info(path, options);
    const version = info.etag ? [String(info.etag)] : [String(info.size), String(info.lastModified ?? "")];
    return nodeCrypto().createHash("sha256").update([info.name, ...version].join("\n")).digest("hex");
  }

  // ---------------------------------------------------------------- bytes

  protected override _catFile(path: string, start: number, end: number | undefined, options: HttpCallOptions): Promise<Uint8Array> {
    return this.fetchRange(path, start, end, options);
  }

  /**
   * One GET; a large range (from `rangeThreshold` on) hands parts of its tail to parallel ranged
   * GETs pinned to the first answer's version where that pays (finishFromFirst), into one buffer.
   */
  private async fetchRange(path: string, start: number, end: number | undefined, options: DownloadOptions): Promise<Uint8Array> {
    if (end !== undefined && end <= start) return new Uint8Array(0);
    const download = await RangeDownload.open(this.client, path, { start, end }, options);
    const length = download.length;
    const version: Validators = options.expect ?? { etag: download.etag, lastModified: download.lastModified, size: download.total };
    if (length === undefined || !download.partial || !canPin(version) || !goesParallel(this.downloads, length)) return download.readAll();
    // Linked to its parts only now that the answer shows it has some: most reads are small, and
    // an AbortController per request is a measurable part of a small read's cost.
    const stop = linkedAbort(options.signal);
    try {
      download.stopWith(stop.signal);
      const out = Buffer.allocUnsafe(length);
      const sink: ByteSink = { positioned: true, write: (chunk, offset) => void out.set(chunk, offset), flush: async () => undefined };
      const update = options.callback?.relativeUpdate;
      const callback: ProgressCallback | undefined = update ? { relativeUpdate: (n) => update(n) } : undefined;
      const from = download.first;
      await finishFromFirst(download, from, from + length, sink, this.downloads, stop.controller, (s, e, partSignal) =>
        RangeDownload.open(this.client, path, { start: s, end: e }, { signal: partSignal, callback, expect: version, headers: options.headers }),
      );
      return out;
    } finally {
      stop.dispose();
    }
  }

  /** @internal */
  override get downloadsFromGivenInfo(): boolean {
    return true;
  }

  /**
   * One GET streamed to the sink (resumed with If-Range where it breaks); for a large file into a
   * positioned sink, parts of its tail go as parallel ranged GETs where that pays, each pinned to
   * the version the HEAD saw. A server that
   * does not say `Accept-Ranges: bytes`, or gives no validator to pin the parts to, gets one GET.
   * @internal
   */
  protected override async _downloadTo(path: string, sink: ByteSink, options: DownloadToOptions): Promise<FileInfo> {
    const signal = options.signal;
    // A file's info the caller just looked up (get, cp, a prefetch) is not asked for again: the
    // GETs are pinned to its version, so a file replaced since is ECHANGED as it would be otherwise.
    const info = options.info ?? (await this._info(path, { signal }));
    if (info.type === "directory") throw FsError.eisdir(redactUrl(path));
    const expect: Validators = { etag: info.etag, lastModified: info.lastModified as string | undefined, size: info.size };
    options.onInfo?.(info);
    const onBytes = options.onBytes;
    const callback: ProgressCallback | undefined = onBytes ? { relativeUpdate: (n) => onBytes(n) } : undefined;
    const open = (start: number, end: number | undefined, partSignal: AbortSignal | undefined) =>
      RangeDownload.open(this.client, path, { start, end }, { signal: partSignal, callback, expect });
    if (info.size !== null && sink.positioned && info.acceptRanges === true && canPin(expect) && goesParallel(this.downloads, info.size)) {
      const stop = linkedAbort(signal);
      try {
        const first = await open(0, info.size, stop.signal);
        await finishFromFirst(first, 0, info.size, sink, this.downloads, stop.controller, open);
      } finally {
        stop.dispose();
      }
    } else {
      const download = await open(0, undefined, signal);
      await download.pipeTo((chunk, offset) => sink.write(chunk, offset));
    }
    await sink.flush();
    return info;
  }

  /** What a read can be pinned to: the ETag, the Last-Modified date (verbatim) and the size. */
  async fileVersion(path: string, options: SignalOptions = {}): Promise<FileVersion> {
    const info = await this.info(path, options);
    if (info.type === "directory") throw FsError.eisdir(redactUrl(info.name));
    const version: FileVersion = { size: info.size };
    if (typeof info.etag === "string") version.etag = info.etag;
    if (typeof info.lastModified === "string") version.lastModified = info.lastModified;
    return version;
  }

  /** Bytes of `options.version` only, checked as an opened file's are (If-Range; ECHANGED for another version). */
  async catFilePinned(path: string, start: number, end: number, options: PinnedReadOptions): Promise<Uint8Array> {
    const { etag, lastModified, size } = options.version;
    return this.fetchRange(this.normalizePath(path), start, end, { signal: options.signal, expect: { etag, lastModified, size } });
  }

  /** catFile with its progress option in the type (the base checks and runs it). */
  override catFile(path: string, start?: number | null, end?: number | null, options: HttpCallOptions = {}): Promise<Uint8Array> {
    return super.catFile(path, start, end, options);
  }

  /** A negative start without an end is one suffix request (`bytes=-N`): no HEAD for the size. @internal */
  protected override readSuffix(path: string, length: number, options: HttpCallOptions): Promise<Uint8Array> {
    return RangeDownload.open(this.client, path, { suffix: length }, options).then((d) => d.readAll());
  }

  /**
   * In a URL `?` starts the query, so a URL without `*` or `[` names itself in cat, copy, get
   * and rm, even when it has a query (signed URLs); `glob()` still reads `?` as a wildcard.
   */
  override async expandInfos(pathOrPaths: string | readonly string[], options: ExpandOptions = {}): Promise<Map<string, FileInfo | undefined>> {
    checkPaths("expandInfos", pathOrPaths);
    this.checkCall("expandInfos", options, EXPAND_OPTIONS);
    const inputs = typeof pathOrPaths === "string" ? [pathOrPaths] : [...pathOrPaths];
    const isQueryUrl = (p: string) => p.includes("?") && !/[*[]/.test(p);
    const queries = inputs.filter(isQueryUrl);
    if (queries.length === 0) return super.expandInfos(pathOrPaths, options);
    if (options.recursive) return this.renameQueryDirs(await super.expandInfos(pathOrPaths, options), queries);
    const rest = inputs.filter((p) => !isQueryUrl(p));
    const out = new Map<string, FileInfo | undefined>();
    if (rest.length > 0) {
      // The query URLs already make the result non-empty, so rest matching nothing is fine.
      const found = await super.expandInfos(rest, options).catch((err) => {
        if (isFsError(err, "ENOENT")) return new Map<string, FileInfo | undefined>();
        throw err;
      });
      for (const [k, v] of found) out.set(k, v);
    }
    for (const q of queries) {
      const p = this.normalizePath(q);
      if (!out.has(p)) out.set(p, undefined);
    }
    return out;
  }

  /**
   * A directory URL with a query, expanded recursively, goes by its path part as its children
   * do (see _ls), so a copy puts them in the destination rather than under a `?…` folder.
   */
  private renameQueryDirs(found: Map<string, FileInfo | undefined>, queries: readonly string[]): Map<string, FileInfo | undefined> {
    for (const q of queries) {
      const p = this.normalizePath(q);
      const info = found.get(p);
      if (info?.type !== "directory") continue;
      const dir = trimTrailingSlashes(splitQuery(p)[0]);
      found.delete(p);
      if (!found.has(dir)) found.set(dir, { ...info, name: dir });
    }
    return found;
  }

  /**
   * A seekable file over ranged GETs pinned to the version opened (If-Range + ETag) when the
   * size is known and ranges are not refused; otherwise (or with `streaming: true`) a
   * forward-only file over one streamed response.
   */
  protected override async openForRead(path: string, options: HttpOpenOptions): Promise<BufferedFile> {
    const info = await this._info(path, { signal: options.signal });
    if (info.type === "directory") throw FsError.eisdir(redactUrl(path));
    const size = options.size ?? info.size;
    const expect: Validators = { etag: info.etag, lastModified: info.lastModified as string | undefined, size };
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    const signal = options.signal;
    const callback = options.callback;
    if (size !== null) callback?.setSize?.(size);
    const progress: ProgressCallback | undefined = callback?.relativeUpdate ? { relativeUpdate: (n) => callback.relativeUpdate!(n) } : undefined;
    // The file and its cache name the URL in their errors: redacted, like every other error here.
    const shown = redactUrl(path);
    const common = { path: shown, mode: "rb" as const, blockSize, details: info, signal };
    if (size === null || info.acceptRanges === false || options.streaming === true) {
      const open = (start: number) => RangeDownload.open(this.client, path, { start }, { signal, callback: progress, expect });
      return new BufferedFile({ ...common, size: size ?? Infinity, readCache: new StreamingCache(size ?? Infinity, blockSize, shown, open) });
    }
    // A body held for the next read is kept as long as an idle connection would be.
    const fetcher = new OpenedFileFetcher(
      (start, end) => RangeDownload.open(this.client, path, { start, end }, { signal, callback: progress, expect, keepRest: true }),
      this.client.options.keepAliveTimeout,
    );
    return new BufferedFile({
      ...common,
      size,
      cacheType: options.cacheType,
      cacheOptions: options.cacheOptions,
      fetcher: (start, end) => (end <= start ? Promise.resolve(new Uint8Array(0)) : fetcher.fetch(start, end)),
      // Each fetch is a buffer of its own (readAll allocates it), so the cache may hand it on.
      ownedFetches: true,
      onClose: () => fetcher.close(),
    });
  }

  // ---------------------------------------------------------------- writing

  protected override async _rmFile(path: string): Promise<void> {
    throw FsError.enotsup("the HTTP filesystem uploads (PUT/POST) but does not delete", redactUrl(path));
  }

  /** One PUT (or POST); `create` checks first and sends `If-None-Match: *` for servers that honour it. */
  protected override async _pipeFile(path: string, data: Uint8Array, mode: PipeMode, options: SignalOptions): Promise<void> {
    const headers: Record<string, string> = {};
    if (mode === "create") {
      if (await this.exists(path, { signal: options.signal })) throw FsError.eexist(redactUrl(path));
      headers["if-none-match"] = "*";
    }
    const res = await this.client.send(path, { method: this.uploadMethod, body: data, headers, signal: options.signal });
    discardBody(res.body);
    if (res.status === 412 && mode === "create") throw FsError.eexist(redactUrl(path));
    if (res.status === 409) {
      throw new FsError("EIO", "HTTP 409 Conflict (a WebDAV server's answer when the parent directory does not exist: Apache's mod_dav makes none)", {
        path: redactUrl(path),
        status: 409,
      });
    }
    if (res.status < 200 || res.status >= 300) throw statusError(res.status, path, res.statusText);
  }
}
