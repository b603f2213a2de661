/**
 * AWS SDK failures as FsErrors: one mapping for the whole S3 backend. Messages name the
 * S3 error code and status, never a credential (configured secrets are scrubbed from any
 * text the SDK or the server hands back, in case one is ever echoed).
 */
import { FsError, isNetworkErrorCode, networkError, systemErrorHost, type FsErrorCode } from "../../core/errors.js";

/** What a 412 means for the request that got it: a create that found an object, or a read pinned to an ETag. */
export type PreconditionMeaning = "EEXIST" | "ECHANGED";

export interface S3ErrorContext {
  /** The meaning of `412 Precondition Failed` for this request (default EEXIST). */
  precondition?: PreconditionMeaning;
  signal?: AbortSignal;
  /** Values never to show (the configured secret and session token). */
  secrets?: readonly string[];
  /** The configured endpoint's host, named by network failures (else the one the error names). */
  host?: string;
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchUpload", "NoSuchVersion"]);
const DENIED = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "Forbidden",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AccountProblem",
  "CredentialsProviderError",
]);
const TIMEOUTS = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);

interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status an SDK error carries, if any. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as SdkErrorLike | undefined)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`...) of an SDK error. */
export function s3CodeOf(err: unknown): string {
  const e = err as SdkErrorLike | undefined;
  for (const v of [e?.Code, e?.name, e?.code]) if (typeof v === "string" && v !== "Error" && v !== "Unknown" && v !== "UnknownError") return v;
  return "";
}

/** True for `404`-like answers: a missing key, bucket or upload. */
export function isNotFound(err: unknown): boolean {
  return NOT_FOUND.has(s3CodeOf(err)) || statusOf(err) === 404;
}

export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  return out;
}

/** Map anything the SDK (or the transport under it) throws onto an FsError for `path`. */
export function s3Error(err: unknown, path: string, context: S3ErrorContext = {}): FsError {
  // Ours already (a proxy's refusal from the transport): it only lacks the path.
  if (err instanceof FsError) return err.path === undefined ? err.withPath(path) : err;
  const e = err as SdkErrorLike | undefined;
  const code = s3CodeOf(err);
  const status = statusOf(err);
  const raw = typeof e?.message === "string" && e.message !== "" && e.message !== "UnknownError" ? e.message : "";
  const said = scrub(raw, context.secrets);
  const tag = [code, status].filter((x) => x !== "" && x !== undefined).join(" ");
  const text = (what: string) => `${what}${tag ? ` (${tag}${said && said !== code ? `: ${said}` : ""})` : said ? ` (${said})` : ""}`;
  const make = (fsCode: FsErrorCode, what: string) => new FsError(fsCode, text(what), { path, cause: err, status });

  if (context.signal?.aborted || code === "AbortError" || code === "ABORT_ERR") {
    return new FsError("EABORT", undefined, { path, cause: context.signal?.reason ?? err });
  }
  if (code === "NoSuchBucket") return make("ENOENT", "no such bucket");
  if (code === "NoSuchUpload") return make("ENOENT", "no such multipart upload");
  if (NOT_FOUND.has(code) || status === 404) return make("ENOENT", "no such key");
  if (DENIED.has(code) || status === 401 || status === 403) return make("EACCES", "access denied");
  if (code === "PreconditionFailed" || status === 412) {
    return context.precondition === "ECHANGED"
      ? make("ECHANGED", "the object changed since it was opened")
      : make("EEXIST", "the object already exists");
  }
  if (code === "BucketAlreadyOwnedByYou" || code === "BucketAlreadyExists") return make("EEXIST", "the bucket already exists");
  if (code === "BucketNotEmpty") return make("ENOTEMPTY", "the bucket is not empty");
  // The transport's failures (the SDK hands on Node's own error): the system code, and the host.
  const system = typeof e?.code === "string" ? e.code : "";
  const host = context.host ?? systemErrorHost(err);
  if (isNetworkErrorCode(system)) return networkError(system, host, { path, cause: err });
  if (TIMEOUTS.has(code) || status === 408) return networkError("ETIMEDOUT", host, { path, cause: err, status, what: text("request timed out") });
  return make("EIO", "S3 request failed");
}
