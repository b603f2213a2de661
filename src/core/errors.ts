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
  | "ECHANGED";

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
};

/** What an `FsError` carries besides its code and message. */
export interface FsErrorOptions {
  /** The path the error is about (URLs lose their credentials). */
  path?: string;
  /** The underlying error (a Node `fs` error, an HTTP response's, a signal's reason). */
  cause?: unknown;
  /** HTTP status or other backend-specific status, when there is one. */
  status?: number;
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
    this.name = "FsError";
    this.code = code;
    this.path = path;
    this.status = options.status;
    this.detail = text;
  }

  /** Printed (console.log) with its causes redacted too: a wrapped error's message may name a signed URL. */
  [inspect.custom](_depth: number, options: InspectOptions, show: typeof inspect = inspect): string {
    return redactText(show(this, { ...options, customInspect: false }));
  }

  /** The same error reported for another path (a rooted view renaming its target's paths). */
  withPath(path: string | undefined): FsError {
    return new FsError(this.code, this.detail, { path, cause: this, status: this.status });
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

/** Map any thrown value (node:fs errors, memfs errors, aborts) onto an FsError for `path`. */
export function toFsError(err: unknown, path?: string): FsError {
  if (err instanceof FsError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (code !== undefined) {
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
