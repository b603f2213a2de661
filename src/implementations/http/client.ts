/**
 * The request layer under HTTPFileSystem: one undici dispatcher per filesystem (keep-alive, a
 * connection limit per origin, proxies: see dispatcher.ts), default headers and auth, redirects
 * followed by hand (so the final URL is known and credentials never follow a redirect to another
 * origin), and retries with backoff that honour Retry-After.
 *
 * Timeouts are timed here rather than left to undici alone, whose parser timers tick about
 * once a second (a 300 ms timeout would fire after up to 1.3 s). Requests wait for one of the
 * origin's slots first; `timeout` bounds that wait and the connect and headers after it.
 *
 * Every response body gets an error listener of its own and gives its slot back when it
 * closes: a body destroyed after its reader stopped listening (a range complete before the
 * body ends, an early stop, an abort) must neither crash the process nor keep the slot.
 */
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import { inspect, type InspectOptions } from "node:util";
import type { Dispatcher } from "undici";
import { FsError } from "../../core/errors.js";
import { printRedacted, redactOptions } from "../../core/redact.js";
import { Semaphore } from "../../core/limiter.js";
import { dispatcherFor, type TransportOptions } from "./dispatcher.js";
import { redactUrl, timeoutError, transportFailure } from "./errors.js";
import { escapeLonePercents } from "./names.js";
import { backoffMs, isRetryableStatus, retryAfterMs, sleep, type RetryPolicy } from "./retry.js";

/** Basic (`username` + `password`) or bearer-token credentials. */
export type HttpAuth =
  | {
      /** The user name of HTTP Basic authentication. */
      username: string;
      /** Its password. */
      password: string;
    }
  | {
      /** A bearer token, sent as `Authorization: Bearer <token>`. */
      bearer: string;
    };

export interface HttpClientOptions extends RetryPolicy, TransportOptions {
  headers: Record<string, string>;
  auth: HttpAuth | undefined;
  /** Most open connections per origin. */
  connections: number;
  /** Milliseconds to connect and to receive the response headers. */
  timeout: number;
  /** Milliseconds the body may go without sending a byte. */
  bodyTimeout: number;
  maxRedirects: number;
  keepAliveTimeout: number;
}

export type HttpMethod = "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
export type ResponseBody = Dispatcher.ResponseData["body"];

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
  /** Where the response came from, after redirects (credentials removed). */
  url: URL;
  /** Body idle timer for readers that pull chunk by chunk. */
  watch: BodyWatch;
}

/**
 * The control of one request: what undici watches instead of an AbortSignal (any emitter
 * with `aborted` and `reason` will do, and one is far cheaper than an AbortController), and
 * the body idle timer. Readers arm the timer while they wait for bytes (`touch` on each
 * chunk restarts it) and disarm it otherwise, so time the caller spends elsewhere never counts.
 */
export class BodyWatch extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the last chunk came: a chunk only stamps the time, the timer re-arms itself lazily. */
  private lastChunk = 0;

  constructor(private readonly idleMs: number) {
    super();
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit("abort");
  }

  arm(): void {
    if (this.timer !== undefined) return;
    this.lastChunk = Date.now();
    this.schedule(this.idleMs);
  }

  touch(): void {
    this.lastChunk = Date.now();
  }

  disarm(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      const quiet = Date.now() - this.lastChunk;
      if (quiet >= this.idleMs) this.abort(timeoutError("UND_ERR_BODY_TIMEOUT"));
      else this.schedule(this.idleMs - quiet);
    }, ms);
  }
}

export interface SendOptions {
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
  /** May a retry repeat the request's effect? Default: every method but POST. */
  idempotent?: boolean;
  /** Tries after the first, instead of the client's `retries`. */
  retries?: number;
  /** Send no credentials (neither `auth` nor credential headers): for URLs that carry their own (presigned). */
  anonymous?: boolean;
  /** Told of each redirect followed: its status, headers and where it led. */
  onRedirect?: (status: number, headers: IncomingHttpHeaders, location: URL) => void;
}

/** Headers that carry credentials: dropped on a redirect to another origin (as browsers and curl do). */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A header value as one string (undici gives arrays for repeated headers). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Drain or drop a body we do not need; small leftovers are read so the connection is kept. */
export function discardBody(body: ResponseBody): void {
  body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/**
 * One of the origin's slots, waited for at most `waitMs` and never past an abort (a slot that
 * comes after the caller gave up is handed straight back).
 */
function acquireSlot(slots: Semaphore, signal: AbortSignal | undefined, waitMs: number, url: URL): Promise<() => void> {
  // Redacted only when an error needs it: this runs for every request.
  const path = () => redactUrl(url.href);
  if (signal?.aborted) return Promise.reject(new FsError("EABORT", undefined, { path: path(), cause: signal.reason }));
  return new Promise((resolve, reject) => {
    let abandoned = false;
    const giveUp = (err: FsError) => {
      abandoned = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    };
    const onAbort = () => giveUp(new FsError("EABORT", undefined, { path: path(), cause: signal!.reason }));
    const timer = setTimeout(
      () => giveUp(new FsError("ETIMEDOUT", `no free connection to this origin within ${waitMs} ms (all ${slots.limit} busy)`, { path: path() })),
      waitMs,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    void slots.acquire().then((release) => {
      if (abandoned) return release();
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(release);
    });
  });
}

/** Errors of a body nobody reads any more: its readers attach listeners of their own. */
const ignoreBodyError = () => undefined;

/** Options printed as `***`: credentials, and what may hold them (a proxy URL, a dispatcher's proxy headers). */
const SECRET_OPTIONS = new Set(["auth", "proxy", "dispatcher"]);

export class HttpClient {
  /** Where requests go: an Agent of ours, routed through proxies where they apply, or the caller's `dispatcher`. */
  readonly dispatcher: Dispatcher;
  /** Whether `dispatcher` is ours (closed by `close`) or the caller's (left open). */
  private readonly ownsDispatcher: boolean;
  /** The proxy a URL is reached through, for error messages. */
  readonly proxyFor: (url: URL) => URL | undefined;
  private readonly authHeader: string | undefined;
  private readonly slots = new Map<string, Semaphore>();
  /**
   * The configured headers, asking for the bytes as stored unless they say otherwise: bodies
   * are never decompressed here, so a compressed answer would not be the file.
   */
  private readonly baseHeaders: Record<string, string>;

  constructor(readonly options: HttpClientOptions) {
    const asksEncoding = Object.keys(options.headers).some((k) => k.toLowerCase() === "accept-encoding");
    this.baseHeaders = asksEncoding ? { ...options.headers } : { "accept-encoding": "identity", ...options.headers };
    const transport = dispatcherFor(options, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeout,
      headersTimeout: options.timeout,
      bodyTimeout: options.bodyTimeout,
      connectTimeout: options.timeout,
    });
    this.dispatcher = transport.dispatcher;
    this.ownsDispatcher = transport.owned;
    this.proxyFor = transport.proxyFor;
    const auth = options.auth;
    if (auth && "bearer" in auth) this.authHeader = `Bearer ${auth.bearer}`;
    else if (auth) this.authHeader = basicAuth(auth.username, auth.password);
  }

  /** Printed as its options, with `auth`, `proxy`, `dispatcher` and credential headers as `***`. */
  [inspect.custom](depth: number, options: InspectOptions, show?: typeof inspect): string {
    return printRedacted("HttpClient", redactOptions(this.options, SECRET_OPTIONS), depth, options, show);
  }

  /**
   * Send one request, following redirects and retrying transport failures and retryable
   * statuses. Resolves with the final response whatever its status; the caller maps it.
   * A non-idempotent request is retried only when it provably never left this machine.
   */
  async send(url: string, options: SendOptions = {}): Promise<HttpResponse> {
    const method = options.method ?? "GET";
    const idempotent = options.idempotent ?? method !== "POST";
    const retries = options.retries ?? this.options.retries;
    const { target, auth } = this.prepare(url);
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.follow(target, method, auth, options);
      } catch (err) {
        const failure = transportFailure(err, url, options.signal, this.proxyFor(target));
        if (!failure.retryable || !(idempotent || failure.notStarted) || attempt >= retries) throw failure.error;
        await sleep(backoffMs(this.options, attempt), options.signal, redactUrl(url));
        continue;
      }
      if (!idempotent || attempt >= retries || !isRetryableStatus(res.status)) return res;
      const asked = retryAfterMs(res.headers["retry-after"]);
      // A server asking for a longer pause than we would ever wait: report its status now.
      if (asked !== undefined && asked > this.options.maxRetryDelay) return res;
      discardBody(res.body);
      await sleep(Math.max(asked ?? 0, backoffMs(this.options, attempt)), options.signal, redactUrl(url));
    }
  }

  /** The URL without user info, and the Authorization header to send to its origin. */
  private prepare(url: string): { target: URL; auth: string | undefined } {
    let target: URL;
    try {
      target = new URL(escapeLonePercents(url));
    } catch {
      throw FsError.einval("not a valid URL", redactUrl(url));
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      throw FsError.einval(`unsupported URL scheme '${target.protocol}'`, redactUrl(url));
    }
    let auth = this.authHeader;
    if (target.username || target.password) {
      const decode = (v: string) => {
        try {
          return decodeURIComponent(v);
        } catch {
          return v; // not percent-encoded after all
        }
      };
      auth = basicAuth(decode(target.username), decode(target.password));
      target.username = "";
      target.password = "";
    }
    return { target, auth };
  }

  private async follow(start: URL, method: HttpMethod, auth: string | undefined, options: SendOptions): Promise<HttpResponse> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...this.baseHeaders, ...options.headers };
      if (url.origin === start.origin && options.anonymous !== true) {
        if (auth) headers.authorization = auth;
      } else {
        // Credentials are for the origin they were given for, never for where it redirects,
        // nor for a URL that carries its own (a presigned one, sent anonymously).
        for (const k of Object.keys(headers)) if (CREDENTIAL_HEADERS.has(k.toLowerCase())) delete headers[k];
      }
      const { res, watch } = await this.dispatch(url, method, headers, options);
      const location = header(res.headers, "location");
      const follows = REDIRECTS.has(res.statusCode) && location !== undefined;
      // Only 307/308 promise the same method and body; other redirects of uploads are errors.
      if (!follows || (method !== "GET" && method !== "HEAD" && res.statusCode !== 307 && res.statusCode !== 308)) {
        return { status: res.statusCode, statusText: res.statusText ?? "", headers: res.headers, body: res.body, url, watch };
      }
      discardBody(res.body);
      if (hop >= this.options.maxRedirects) {
        throw new FsError("EIO", `more than ${this.options.maxRedirects} redirects`, {
          path: redactUrl(start.href),
          status: res.statusCode,
        });
      }
      const next = new URL(location, url);
      options.onRedirect?.(res.statusCode, res.headers, next);
      url = next;
    }
  }

  /**
   * One request on one of the origin's slots, with the timeout covering the wait for the slot,
   * the connect and the headers; the caller's signal is forwarded to the request's control.
   */
  private async dispatch(url: URL, method: HttpMethod, headers: Record<string, string>, options: SendOptions) {
    let slots = this.slots.get(url.origin);
    if (!slots) this.slots.set(url.origin, (slots = new Semaphore(this.options.connections)));
    const outer = options.signal;
    const started = Date.now();
    // A free slot is taken without a promise or a timer: most requests find one.
    const release = (!outer?.aborted && slots.tryAcquire()) || (await acquireSlot(slots, outer, this.options.timeout, url));
    if (outer?.aborted) {
      release();
      throw new FsError("EABORT", undefined, { path: redactUrl(url.href), cause: outer.reason });
    }
    const watch = new BodyWatch(this.options.bodyTimeout);
    const forward = outer ? () => watch.abort(outer.reason) : undefined;
    if (forward) outer!.addEventListener("abort", forward, { once: true });
    const left = Math.max(1, this.options.timeout - (Date.now() - started));
    const timer = setTimeout(() => watch.abort(timeoutError("UND_ERR_HEADERS_TIMEOUT")), left);
    try {
      const res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
        body: options.body,
        signal: watch,
      });
      res.body.on("error", ignoreBodyError);
      // The slot and the link to the caller's signal go when the body closes (read, dumped or destroyed).
      res.body.once("close", () => {
        watch.disarm();
        if (forward) outer!.removeEventListener("abort", forward);
        release();
      });
      return { res, watch };
    } catch (err) {
      if (forward) outer!.removeEventListener("abort", forward);
      release();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private closing: Promise<void> | undefined;

  /** Close our dispatcher once (a caller's is left open); later calls share that result (undici rejects a second close). */
  close(): Promise<void> {
    this.closing ??= this.ownsDispatcher ? this.dispatcher.close() : Promise.resolve();
    return this.closing;
  }
}
