/**
 * One error type for every backend. Codes follow Node's `errno` names so callers can
 * switch on `err.code` exactly as they would for `node:fs` errors.
 */
import { inspect, type InspectOptions } from "node:util";
import { redactText, redactUrl } from "./redact.js";
/**
 * The `code` of an `FsError`, named as Node's `errno` codes where one exists: ENOENT (nothing there),
 * EEXIST, EISDIR, ENOTDIR, ENOTEMPTY, EINVAL (a bad argument or option), EACCES (refused, or outside a
 * root), ENOTSUP (the backend cannot), ETIMEDOUT, EIO (the storage or network failed), ECLOSED (a
 * closed file), EABORT (a signal fired), EPROTO (a server broke the protocol), ECHANGED (the file
 * changed during a read).
 */
export type FsErrorCode =
  | "ENOENT"
  | "EEXIST"
  | "EISDIR"
  | "ENOTDIR"
  | "ENOTEMPTY"
  | "EINVAL"
  | "EACCES"
  | "ENOTSUP"
  | "ETIMEDOUT"
  | "EIO"
  | "ECLOSED"
  | "EABORT"
  | "EPROTO"
  | "ECHANGED"
  | NetworkErrorCode;

/**
 * Network failures, by the system code Node gives them (`ETIMEDOUT` also covers timeouts of
 * this library's own: connect, headers, body, a free connection, a cache lock). One list for
 * everything that classifies errors (retries, the CLI's exit code 5).
 */
export const NETWORK_ERROR_CODES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
] as const;

/** One of NETWORK_ERROR_CODES. */
export type NetworkErrorCode = (typeof NETWORK_ERROR_CODES)[number];

const DEFAULT_MESSAGES: Record<FsErrorCode, string> = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EINVAL: "invalid argument",
  EACCES: "permission denied",
  ENOTSUP: "operation not supported",
  ETIMEDOUT: "operation timed out",
  EIO: "input/output error",
  ECLOSED: "I/O operation on a closed file",
  EABORT: "operation aborted",
  EPROTO: "protocol error",
  ECHANGED: "file changed on the remote side during the read",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "broken pipe",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed (temporary)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network is down",
};

const NETWORK_CODES: ReadonlySet<string> = new Set(NETWORK_ERROR_CODES);

/** What an `FsError` carries besides its code and message. */
export interface FsErrorOptions {
  /** The path the error is about (URLs lose their credentials). */
  path?: string;
  /** The underlying error (a Node `fs` error, an HTTP response's, a signal's reason). */
  cause?: unknown;
  /** HTTP status or other backend-specific status, when there is one. */
  status?: number;
  /** The host (`name:port`) a network failure happened with. */
  host?: string;
}

/**
 * The one error type of every backend: `code` says what happened, `path` where. `name` is "FsError";
 * the message is `CODE: detail: 'path'`, with credentials in URLs redacted.
 */
export class FsError extends Error {
  /** What happened; switch on it as on a `node:fs` error's code. */
  readonly code: FsErrorCode;
  /** The path the error is about, when there is one. */
  readonly path: string | undefined;
  /** The HTTP (or other backend) status behind the error, when there is one. */
  readonly status: number | undefined;
  /** Network failures: the host (`name:port`, no credentials) the connection was to. */
  readonly host: string | undefined;
  /** The message without code and path. */
  readonly detail: string;

  /** `message` defaults to the code's usual text ("no such file or directory"). */
  constructor(code: FsErrorCode, message?: string, options: FsErrorOptions = {}) {
    // URLs keep no credentials in errors (message, path and so stack), whichever layer raised them.
    const text = message === undefined ? DEFAULT_MESSAGES[code] : redactText(message);
    const path = options.path === undefined ? undefined : redactUrl(options.path);
    super(path !== undefined ? `${code}: ${text}: '${path}'` : `${code}: ${text}`, {
      cause: options.cause,
    });
    // Aborts are named as Node's own (`err.name === "AbortError"` is how Node code tells them).
    this.name = code === "EABORT" ? "AbortError" : "FsError";
    this.code = code;
    this.path = path;
    this.status = options.status;
    this.host = options.host === undefined ? undefined : withoutUserInfo(options.host);
    this.detail = text;
  }

  /** Printed (console.log) with its causes redacted too: a wrapped error's message may name a signed URL. */
  [inspect.custom](_depth: number, options: InspectOptions, show: typeof inspect = inspect): string {
    return redactText(show(this, { ...options, customInspect: false }));
  }

  /** The same error reported for another path (a rooted view renaming its target's paths). */
  withPath(path: string | undefined): FsError {
    return new FsError(this.code, this.detail, { path, cause: this, status: this.status, host: this.host });
  }

  /** ENOENT for `path`. */
  static enoent(path: string, message?: string, cause?: unknown): FsError {
    return new FsError("ENOENT", message, { path, cause });
  }
  /** EEXIST for `path`. */
  static eexist(path: string, message?: string): FsError {
    return new FsError("EEXIST", message, { path });
  }
  /** EISDIR for `path`. */
  static eisdir(path: string, message?: string): FsError {
    return new FsError("EISDIR", message, { path });
  }
  /** ENOTDIR for `path`. */
  static enotdir(path: string, message?: string): FsError {
    return new FsError("ENOTDIR", message, { path });
  }
  /** EINVAL with `message` (and the path, when there is one). */
  static einval(message: string, path?: string): FsError {
    return new FsError("EINVAL", message, { path });
  }
  /** EACCES for `path`. */
  static eacces(path: string, message?: string): FsError {
    return new FsError("EACCES", message, { path });
  }
  /** ENOTSUP with `message` (and the path, when there is one). */
  static enotsup(message: string, path?: string): FsError {
    return new FsError("ENOTSUP", message, { path });
  }
}

const NODE_CODES = new Set<string>(Object.keys(DEFAULT_MESSAGES));

/** `user:pass@host:port` -> `host:port` (a host taken from a URL's authority may hold credentials). */
function withoutUserInfo(host: string): string {
  return host.slice(host.lastIndexOf("@") + 1);
}

/** True for the codes of NETWORK_ERROR_CODES. */
export function isNetworkErrorCode(code: unknown): code is NetworkErrorCode {
  return typeof code === "string" && NETWORK_CODES.has(code);
}

/** True for an FsError whose code is a network failure (refused, reset, DNS, unreachable, timed out). */
export function isNetworkError(err: unknown): err is FsError {
  return err instanceof FsError && NETWORK_CODES.has(err.code);
}

/** The host a Node system error names: `hostname` (DNS failures) or `address:port` (connect failures). */
export function systemErrorHost(err: unknown): string | undefined {
  const e = err as { hostname?: unknown; address?: unknown; port?: unknown } | undefined;
  if (typeof e?.hostname === "string" && e.hostname !== "") return e.hostname;
  if (typeof e?.address !== "string" || e.address === "") return undefined;
  const address = e.address.includes(":") ? `[${e.address}]` : e.address;
  return typeof e.port === "number" ? `${address}:${e.port}` : address;
}

/**
 * A network failure: the system code kept (never EIO), the host in the message and as `host`.
 * `what` says what happened in words (default: the code's own).
 */
export function networkError(code: NetworkErrorCode, host: string | undefined, options: { path?: string; cause?: unknown; what?: string; status?: number } = {}): FsError {
  const what = options.what ?? DEFAULT_MESSAGES[code];
  const shown = host === undefined ? undefined : withoutUserInfo(host);
  return new FsError(code, shown === undefined ? what : `${what} (host ${shown})`, { path: options.path, cause: options.cause, status: options.status, host: shown });
}

/** Map any thrown value (node:fs errors, memfs errors, aborts) onto an FsError for `path`. */
export function toFsError(err: unknown, path?: string): FsError {
  if (err instanceof FsError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (code !== undefined) {
    if (isNetworkErrorCode(code)) return networkError(code, systemErrorHost(err), { path, cause: err });
    if (NODE_CODES.has(code)) return new FsError(code as FsErrorCode, undefined, { path, cause: err });
    if (code === "EPERM") return new FsError("EACCES", undefined, { path, cause: err });
    if (code === "ELOOP" || code === "ENAMETOOLONG") {
      return new FsError("EINVAL", String(e?.message ?? code), { path, cause: err });
    }
    if (code === "EXDEV" || code === "EBUSY" || code === "EMFILE") {
      return new FsError("EIO", String(e?.message ?? code), { path, cause: err });
    }
    if (code === "ABORT_ERR") return new FsError("EABORT", undefined, { path, cause: err });
  }
  if (e?.name === "AbortError") return new FsError("EABORT", undefined, { path, cause: err });
  if (e?.name === "TimeoutError") return new FsError("ETIMEDOUT", undefined, { path, cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new FsError("EIO", message, { path, cause: err });
}

/** Whether `err` is an `FsError` (with `code`, when given): `if (isFsError(err, "ENOENT")) ...`. */
export function isFsError(err: unknown, code?: FsErrorCode): err is FsError {
  return err instanceof FsError && (code === undefined || err.code === code);
}

/** Throw an EABORT error if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, path?: string): void {
  if (signal?.aborted) {
    throw new FsError("EABORT", undefined, { path, cause: signal.reason });
  }
}
