/**
 * Credentials out of anything printed. One notion of a secret name serves query and fragment
 * parameters of URLs, option names of filesystems and packages, and HTTP header names, so what
 * is redacted in an error message is redacted in a printed instance too.
 */
import { inspect, type InspectOptions } from "node:util";

/** Words that mark a name as holding a credential (`access_token`, `X-Api-Key`, `sessionToken`). */
const SECRET_WORDS = new Set([
  "token",
  "secret",
  "password",
  "passwd",
  "pass",
  "pwd",
  "auth",
  "authorization",
  "credential",
  "credentials",
  "session",
  "sessionid",
  "key",
  "apikey",
  "sig",
  "signature",
  "cookie",
  "bearer",
  "jwt",
  // A proxy URL may hold credentials, and so may a dispatcher (a ProxyAgent's Proxy-Authorization).
  "proxy",
  "dispatcher",
]);

/** Signed-URL parameters of the clouds: every one of them goes (`X-Amz-Credential`, `X-Goog-Signature`...). */
const SECRET_PREFIX = /^x-(amz|goog)-/i;

export const REDACTED = "***";

/**
 * True when `name` (a query parameter, option or header name; any case) names a secret: one of
 * its words (split at `-`, `_`, `.`, spaces and camelCase humps) is a secret word, or it is an
 * `X-Amz-*` / `X-Goog-*` parameter.
 */
export function isSecretName(name: string): boolean {
  if (SECRET_PREFIX.test(name)) return true;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const SCHEME = /[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

function redactWith(text: string, end: string): string {
  if (!SCHEME.test(text)) return text;
  // User info: up to the last @ of the authority (a password may hold an unescaped @).
  const userInfo = new RegExp(`(${SCHEME.source})[^/?#${end}]*@`, "g");
  // name=value after ?, & or # (queries and fragments such as #access_token=...).
  const param = new RegExp(`([?&#])([^=&#?${end}]+)=([^&#${end}]*)`, "g");
  return text
    .replace(userInfo, `$1${REDACTED}@`)
    .replace(param, (all, sep: string, name: string) => (isSecretName(decodedName(name)) ? `${sep}${name}=${REDACTED}` : all));
}

/**
 * `url` with user info and secret-looking query and fragment values replaced by `***`. The whole
 * string is taken for the URL (a chain such as `simplecache::https://...` too): values run to
 * the next `&` or `#`. Strings without `scheme://` are returned as they are (local names).
 */
export function redactUrl(url: string): string {
  return redactWith(url, "");
}

/** Free text (an error message, a log line) with every URL in it redacted; URLs end at spaces and quotes. */
export function redactText(text: string): string {
  return redactWith(text, "\\s'\"<>`");
}

/**
 * A copy of an options object fit for printing: values under a secret name (`secretNames`, at
 * the top level, or any name `isSecretName` accepts, at every depth) become `***`, URLs in
 * strings lose their credentials, plain objects and arrays are copied the same way. Anything
 * else (a filesystem instance, a function) is kept: a filesystem prints itself redacted.
 */
export function redactOptions(options: object, secretNames: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    out[k] = secretNames.has(k) || isSecretName(k) ? REDACTED : redactValue(v);
  }
  return out;
}

function redactValue(v: unknown): unknown {
  if (typeof v === "string") return redactUrl(v);
  if (Array.isArray(v)) return v.map(redactValue);
  if (v !== null && typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) return redactOptions(v);
  }
  return v;
}

/**
 * `Name { fields }` for `toString()` (one line), or for an `util.inspect.custom` hook when the
 * hook's `depth` and `options` are passed (nested as deep as Node's own printing would go).
 */
export function printRedacted(name: string, fields: object, depth?: number, options?: InspectOptions, show: typeof inspect = inspect): string {
  if (depth !== undefined && depth < 0) return `[${name}]`;
  const shown = options ? { ...options, depth: options.depth == null ? options.depth : options.depth - 1 } : { breakLength: Infinity, depth: 4 };
  return `${name} ${show(fields, shown)}`;
}

/**
 * An inspect hook's output for an object that names a path (an opened file): its own fields
 * printed as Node would print them (nested filesystems use their own hooks), every URL in
 * the text redacted.
 */
export function inspectRedacted(obj: object, depth: number, options: InspectOptions, show?: typeof inspect): string {
  return redactText(printRedacted(obj.constructor.name, { ...obj }, depth, options, show));
}
