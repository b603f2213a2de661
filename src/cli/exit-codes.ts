/**
 * What `fsspec-ts` exits with, so scripts can tell a missing file from a refused login from a
 * network outage (docs/cli.md lists them):
 *
 *   0 ok · 1 an operation failed · 2 usage (bad command, option or value) · 3 not found
 *   4 access denied · 5 network (unreachable, timed out, or the remote side failed)
 *   130 / 143 interrupted by SIGINT / SIGTERM
 */
import { FsError, NETWORK_ERROR_CODES } from "../core/errors.js";

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, accessDenied: 4, network: 5 } as const;

/**
 * Codes of failures to reach or hear from the other side: the library's network codes, a
 * malformed answer, and undici's own codes where an error carries one in its causes.
 */
const NETWORK_CODES = new Set<string>([
  ...NETWORK_ERROR_CODES,
  "EPROTO",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** The error and its causes (a network EIO carries the socket's ECONNREFUSED below it). */
function* causeChain(err: unknown): Generator<{ code?: unknown; status?: unknown }> {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    yield e as { code?: unknown; status?: unknown };
  }
}

export function exitCodeOf(err: unknown): number {
  if (!(err instanceof FsError)) return EXIT.failed;
  switch (err.code) {
    case "EINVAL":
      return EXIT.usage;
    case "ENOENT":
    case "ENOTDIR":
      return EXIT.notFound;
    case "EACCES":
      return EXIT.accessDenied;
  }
  // A remote store's 5xx or 429, or a socket that failed on the way.
  const status = err.status ?? 0;
  if (status >= 500 || status === 429) return EXIT.network;
  for (const e of causeChain(err)) if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return EXIT.network;
  return EXIT.failed;
}

/** The exit code of several failures: theirs when they agree, else 1 ("some operation failed"). */
export function combinedExitCode(codes: readonly number[]): number {
  if (codes.length === 0) return EXIT.ok;
  return codes.every((c) => c === codes[0]) ? codes[0]! : EXIT.failed;
}
