/**
 * HTTP statuses and undici failures as FsErrors. Every message names the URL with its
 * credentials (user info, signature-like query values) replaced, so errors can be logged.
 */
import { FsError, isNetworkErrorCode, networkError, systemErrorHost, type FsErrorCode } from "../../core/errors.js";
import { redactUrl } from "../../core/redact.js";

export { redactUrl };

/** The error for a final response with a status the caller does not handle itself. */
export function statusError(status: number, url: string, statusText = ""): FsError {
  const path = redactUrl(url);
  const what = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  if (status === 404 || status === 410) return new FsError("ENOENT", `no such file (${what})`, { path, status });
  if (status === 401 || status === 403) return new FsError("EACCES", `access denied (${what})`, { path, status });
  return new FsError("EIO", what, { path, status });
}

/**
 * Transport failures undici reports, by its error code. Connection failures keep their system
 * code (ECONNREFUSED, ENOTFOUND...), as Node's own clients report them; undici's "other side
 * closed" (the server hung up mid-request or mid-body) is ECONNRESET, as node:http calls it.
 */
const TRANSPORT_CODES: Record<string, { code: FsErrorCode; retry: boolean; text: string }> = {
  UND_ERR_CONNECT_TIMEOUT: { code: "ETIMEDOUT", retry: true, text: "connect timed out" },
  UND_ERR_HEADERS_TIMEOUT: { code: "ETIMEDOUT", retry: true, text: "no response headers in time" },
  UND_ERR_BODY_TIMEOUT: { code: "ETIMEDOUT", retry: true, text: "response body stalled" },
  UND_ERR_SOCKET: { code: "ECONNRESET", retry: true, text: "connection closed by the server" },
  UND_ERR_CLOSED: { code: "EIO", retry: true, text: "connection closed" },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { code: "EPROTO", retry: true, text: "body shorter than its Content-Length" },
  ECONNRESET: { code: "ECONNRESET", retry: true, text: "connection reset" },
  ECONNREFUSED: { code: "ECONNREFUSED", retry: true, text: "connection refused" },
  ECONNABORTED: { code: "ECONNABORTED", retry: true, text: "connection aborted" },
  EPIPE: { code: "EPIPE", retry: true, text: "broken pipe" },
  ETIMEDOUT: { code: "ETIMEDOUT", retry: true, text: "connection timed out" },
  EAI_AGAIN: { code: "EAI_AGAIN", retry: true, text: "DNS lookup failed (temporary)" },
  ENOTFOUND: { code: "ENOTFOUND", retry: false, text: "host not found" },
  EHOSTUNREACH: { code: "EHOSTUNREACH", retry: true, text: "host unreachable" },
  ENETUNREACH: { code: "ENETUNREACH", retry: true, text: "network unreachable" },
  ENETDOWN: { code: "ENETDOWN", retry: true, text: "network is down" },
};

/** Failures that happen before any byte of a request is sent: safe to retry even a POST. */
const NOT_STARTED = new Set(["UND_ERR_CONNECT_TIMEOUT", "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN"]);

export interface TransportFailure {
  error: FsError;
  retryable: boolean;
  /** The request never left this machine. */
  notStarted: boolean;
}

interface TransportErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  socket?: { remoteAddress?: unknown; remotePort?: unknown };
}

const codeOf = (e: TransportErrorLike | undefined): string => (typeof e?.code === "string" ? e.code : "");

/**
 * The code that says what happened: the cause's, when the error only wraps the socket's own
 * failure (undici's "other side closed", fetch's TypeError), else its own.
 */
function effectiveCode(e: TransportErrorLike | undefined): { code: string; source: TransportErrorLike | undefined } {
  const own = codeOf(e);
  const cause = e?.cause as TransportErrorLike | undefined;
  const wrapper = own === "UND_ERR_SOCKET" || TRANSPORT_CODES[own] === undefined;
  return wrapper && TRANSPORT_CODES[codeOf(cause)] ? { code: codeOf(cause), source: cause } : { code: own, source: e };
}

/** The host of `url` (`name:port`), or what the error itself names (a path that is no URL). */
function hostOf(url: string, err: TransportErrorLike | undefined): string | undefined {
  try {
    const host = new URL(url).host;
    if (host !== "") return host;
  } catch {
    // not a URL: the error may say where it went
  }
  const named = systemErrorHost(err);
  if (named !== undefined) return named;
  const { remoteAddress, remotePort } = err?.socket ?? {};
  return typeof remoteAddress === "string" ? `${remoteAddress}${typeof remotePort === "number" ? `:${remotePort}` : ""}` : undefined;
}

/**
 * The status with which a proxy refused a request, from undici's errors: a CONNECT answered
 * with anything but 200, or a forwarded request answered 407.
 */
function proxyRefusal(code: string, message: string): number | undefined {
  const tunnel = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/.exec(message);
  if (tunnel && code === "UND_ERR_ABORTED") return Number(tunnel[1]);
  if (code === "UND_ERR_INVALID_ARG" && /^Proxy Authentication Required \(407\)/.test(message)) return 407;
  return undefined;
}

/** A proxy's refusal: 407 is EACCES (credentials), any other status EIO. */
export function proxyRefused(status: number, proxy: URL | undefined, path?: string, cause?: unknown): FsError {
  const via = proxy ? ` ${redactUrl(proxy.origin)}` : "";
  if (status === 407) {
    const hint = proxy?.username ? "it refused the credentials in the proxy URL" : "give them in the proxy URL, as user:password@ before its host";
    return new FsError("EACCES", `the proxy${via} asks for credentials (HTTP 407): ${hint}`, { path, status, cause });
  }
  return new FsError("EIO", `the proxy${via} refused to connect to the server (HTTP ${status})`, { path, status, cause });
}

/** Nothing reached the server; a 5xx (the proxy could not reach it) is worth another try. */
function proxyFailure(status: number, path: string, proxy: URL | undefined, cause: unknown): TransportFailure {
  return { error: proxyRefused(status, proxy, path, cause), retryable: status >= 500 && status !== 501, notStarted: true };
}

/**
 * Classify a thrown value from undici (or our own checks) for `url`; `proxy` is the proxy the
 * request went through, named in messages of failures to reach it.
 */
export function transportFailure(err: unknown, url: string, signal?: AbortSignal, proxy?: URL): TransportFailure {
  const path = redactUrl(url);
  if (signal?.aborted) {
    return { error: new FsError("EABORT", undefined, { path, cause: signal.reason }), retryable: false, notStarted: false };
  }
  if (err instanceof FsError) {
    const retryable = (err as FsError & { retryable?: boolean }).retryable === true;
    return { error: err, retryable, notStarted: false };
  }
  const e = err as TransportErrorLike | undefined;
  const own = codeOf(e);
  const refused = proxyRefusal(own, typeof e?.message === "string" ? e.message : "");
  if (refused !== undefined) return proxyFailure(refused, path, proxy, err);
  if (e?.name === "AbortError" || own === "UND_ERR_ABORTED" || own === "ABORT_ERR") {
    return { error: new FsError("EABORT", undefined, { path, cause: err }), retryable: false, notStarted: false };
  }
  const { code, source } = effectiveCode(e);
  const known = TRANSPORT_CODES[code];
  if (known) {
    const what = proxy ? `${known.text} (through the proxy ${redactUrl(proxy.origin)})` : known.text;
    // Not connected at all: through a proxy, that is the proxy's host.
    const host = proxy && NOT_STARTED.has(code) ? proxy.host : hostOf(url, source);
    const error = isNetworkErrorCode(known.code)
      ? networkError(known.code, host, { path, cause: err, what })
      : new FsError(known.code, what, { path, cause: err });
    return { error, retryable: known.retry, notStarted: NOT_STARTED.has(code) };
  }
  if (code.startsWith("HPE_")) {
    return { error: new FsError("EPROTO", `malformed HTTP response (${code})`, { path, cause: err }), retryable: false, notStarted: false };
  }
  const message = typeof e?.message === "string" ? e.message : String(err);
  return { error: new FsError("EIO", message, { path, cause: err }), retryable: false, notStarted: false };
}

/** The abort reason of our own timers, classified like undici's timeout errors. */
export function timeoutError(code: "UND_ERR_HEADERS_TIMEOUT" | "UND_ERR_BODY_TIMEOUT"): Error {
  return Object.assign(new Error(TRANSPORT_CODES[code]!.text), { code });
}

/** An FsError that the download loop may resume from (a body that ended early). */
export function retryableError(code: FsErrorCode, message: string, url: string): FsError {
  const path = redactUrl(url);
  const err = isNetworkErrorCode(code) ? networkError(code, hostOf(url, undefined), { path, what: message }) : new FsError(code, message, { path });
  (err as FsError & { retryable?: boolean }).retryable = true;
  return err;
}
