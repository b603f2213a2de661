/**
 * Pure path helpers. Every filesystem path in fsspec-ts is `/`-separated, whatever the OS;
 * protocols are stripped by each filesystem class, then these helpers take over.
 */
import { FsError } from "./errors.js";

const PROTOCOL_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*)(:\/\/|::)/;

/** `"s3://bucket/key"` -> `["s3", "bucket/key"]`; no protocol -> `[undefined, url]`. */
export function splitProtocol(url: string): [string | undefined, string] {
  const m = PROTOCOL_RE.exec(url);
  if (!m) return [undefined, url];
  return [m[1]!.toLowerCase(), url.slice(m[0].length)];
}

/**
 * Split a chained URL on `::`, ignoring `::` inside brackets (IPv6 hosts such as `http://[::1]:80/`).
 * `"filecache::s3://b/k"` -> `["filecache", "s3://b/k"]`.
 */
export function splitChain(url: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < url.length; i++) {
    const ch = url[i];
    if (ch === "[") depth++;
    else if (ch === "]") depth = Math.max(0, depth - 1);
    else if (ch === ":" && url[i + 1] === ":" && depth === 0) {
      parts.push(url.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  parts.push(url.slice(start));
  return parts;
}

/** The protocol of the outermost layer of a (possibly chained) URL, if any. */
export function protocolOf(url: string): string | undefined {
  const first = splitChain(url)[0] ?? "";
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*)(:\/\/|$)/.exec(first);
  return m && (m[2] === "://" || splitChain(url).length > 1) ? m[1]!.toLowerCase() : undefined;
}

/** `path` without trailing slashes ("/" stays "/"). */
export function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

/** Lexical POSIX normalisation: collapses `//`, resolves `.` and `..` (never above the root). */
export function normalizePosix(path: string, absolute = path.startsWith("/")): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const joined = out.join("/");
  return absolute ? `/${joined}` : joined;
}

/** Parent of a path; the parent of a top-level entry is `root` (`"/"` or `""`). */
export function parentOf(path: string, root = "/"): string {
  const trimmed = trimTrailingSlashes(path);
  const idx = trimmed.lastIndexOf("/");
  if (idx < 0) return root;
  if (idx === 0) return "/";
  return trimmed.slice(0, idx);
}

/** The last segment of `path`, trailing slashes ignored. */
export function basename(path: string): string {
  const trimmed = trimTrailingSlashes(path);
  const idx = trimmed.lastIndexOf("/");
  return idx < 0 ? trimmed : trimmed.slice(idx + 1);
}

/** Join path parts with single `/` between them (no normalisation of `..`). */
export function joinPath(base: string, ...parts: string[]): string {
  let out = base;
  for (const part of parts) {
    if (part === "") continue;
    if (out === "" ) out = part;
    else if (out.endsWith("/")) out += part.replace(/^\/+/, "");
    else out += "/" + part.replace(/^\/+/, "");
  }
  return out;
}

/** True when `path` is `dir` or lies below it, component-wise (`/a/b` is not inside `/a/bc`). */
export function isInside(path: string, dir: string): boolean {
  if (dir === "/" || dir === "") return true;
  const d = trimTrailingSlashes(dir);
  return path === d || path.startsWith(d + "/");
}

/**
 * The longest common leading run of path components of `paths` (a single path is its own
 * prefix). Compared component by component, so `subdir` is not a prefix of `subdir.txt`.
 */
export function commonPathPrefix(paths: readonly string[]): string {
  if (paths.length === 0) return "";
  const first = paths[0]!.split("/");
  let n = first.length;
  for (const p of paths.slice(1)) {
    const parts = p.split("/");
    let i = 0;
    while (i < n && i < parts.length && parts[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join("/");
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Refuse a path holding a control character (U+0000-U+001F, U+007F) with EINVAL. URL parsers
 * drop TAB, LF and CR (so `.\t.` turns into `..` after any containment check) and NUL ends
 * C strings: no backend gets such a path. Every filesystem's `normalizePath` calls this.
 */
export function checkPathCharacters(path: string): void {
  const m = CONTROL_CHARACTER.exec(path);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw FsError.einval(`path contains the control character U+${code} at index ${m.index}`, path);
  }
}

/** UTF-8 overlong spellings of `.`, `/` and `\` that lenient decoders accept. */
const OVERLONG = [
  [/%c0%ae|%e0%80%ae/gi, "."],
  [/%c0%af|%e0%80%af/gi, "/"],
  [/%c1%9c/gi, "\\"],
] as const;

/** Every reading of a segment a layer below might apply: percent-decoding (repeated), overlong UTF-8, NFKC. */
function readingsOf(seg: string): string {
  let out = seg;
  for (const [re, ch] of OVERLONG) out = out.replace(re, ch);
  // Decode repeatedly so `%252e%252e` (double-encoded) is seen too.
  for (let i = 0; i < 3 && out.includes("%"); i++) {
    try {
      const next = decodeURIComponent(out);
      if (next === out) break;
      out = next;
    } catch {
      break;
    }
  }
  // Fullwidth and leader dots and slashes (U+FF0E, U+2025, U+FF0F...) become ASCII under NFKC.
  return out.normalize("NFKC");
}

/**
 * Resolve `rel` inside the view rooted at `root`. A leading `/` means the view's root. The
 * path is first read the way any layer below might read it (percent-decoded, backslashes as
 * separators, NFKC, spaces around a segment trimmed as a URL parser trims the end of a URL),
 * and refused with EACCES if any such reading climbs above the root; control characters are
 * EINVAL. Plain `..` that stays inside is resolved.
 */
export function resolveInside(root: string, rel: string): string {
  checkPathCharacters(rel);
  let depth = 0;
  for (const raw of rel.split(/[\\/]+/)) {
    for (const sub of readingsOf(raw).split(/[\\/]+/)) {
      const seg = sub.trim();
      if (seg === "" || seg === ".") continue;
      if (seg === "..") depth--;
      else depth++;
      if (depth < 0) throw FsError.eacces(rel, "path escapes the root of the view");
    }
  }
  const inner = normalizePosix(rel.replace(/^\/+/, ""), false);
  if (inner.startsWith("..")) throw FsError.eacces(rel, "path escapes the root of the view");
  if (inner === "") return root;
  return joinPath(root, inner);
}

/** Strip `root` from the front of `path` for names shown by a rooted view. */
export function relativeTo(root: string, path: string): string {
  const r = trimTrailingSlashes(root);
  if (r === "" || r === "/") return path.startsWith("/") ? path.slice(1) : path;
  if (path === r) return "";
  if (path.startsWith(r + "/")) return path.slice(r.length + 1);
  return path;
}
