/**
 * Glob patterns as fsspec reads them: `*` and `?` stay inside one path segment, `**` is any
 * depth and must be a whole segment, `[a-z]` / `[!x]` are classes, braces are literal.
 * Written here rather than on minimatch because fsspec's rules differ from shell globbing
 * (`**` inside a segment is an error, dotfiles match, a trailing `/**` also matches the
 * directory itself, whole-segment `*` must match at least one character).
 */
import { FsError } from "./errors.js";

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/g;

function escapeRegex(text: string): string {
  return text.replace(REGEX_SPECIAL, "\\$&");
}

/** Translate one `[...]` class starting at `seg[i] === "["`; returns [regex, next index] or undefined. */
function translateClass(seg: string, i: number): [string, number] | undefined {
  let j = i + 1;
  if (seg[j] === "!") j++;
  if (seg[j] === "]") j++;
  const close = seg.indexOf("]", j);
  if (close < 0) return undefined;
  let body = seg.slice(i + 1, close);
  let negate = false;
  if (body.startsWith("!")) {
    negate = true;
    body = body.slice(1);
  }
  // Parse into single characters and ranges; drop reversed ranges like fnmatch does.
  const items: string[] = [];
  for (let k = 0; k < body.length; k++) {
    const ch = body[k]!;
    if (body[k + 1] === "-" && k + 2 < body.length) {
      const hi = body[k + 2]!;
      if (ch <= hi) items.push(`${escapeRegex(ch)}-${escapeRegex(hi)}`);
      k += 2;
    } else {
      items.push(escapeRegex(ch));
    }
  }
  if (items.length === 0) return [negate ? "[^/]" : "(?!)", close + 1];
  return [negate ? `[^/${items.join("")}]` : `[${items.join("")}]`, close + 1];
}

function translateSegment(seg: string): string {
  if (seg === "*") return "[^/]+";
  let out = "";
  for (let i = 0; i < seg.length; ) {
    const ch = seg[i]!;
    if (ch === "*") {
      out += "[^/]*";
      while (seg[i] === "*") i++;
    } else if (ch === "?") {
      out += "[^/]";
      i++;
    } else if (ch === "[") {
      const cls = translateClass(seg, i);
      if (cls) {
        out += cls[0];
        i = cls[1];
      } else {
        out += "\\[";
        i++;
      }
    } else {
      out += escapeRegex(ch);
      i++;
    }
  }
  return out;
}

/** Full-match regular expression for a glob pattern (paths already stripped of protocol). */
export function globToRegExp(pattern: string): RegExp {
  const segments = pattern.split("/");
  let re = "";
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === "**") {
      re += last ? ".*" : "(?:.+/)?";
      return;
    }
    if (seg.includes("**")) {
      throw FsError.einval("'**' can only be an entire path segment", pattern);
    }
    re += translateSegment(seg);
    if (!last) re += "/";
  });
  return new RegExp(`^${re}$`, "s");
}

/** Whether `path` holds a glob character (`*`, `?` or `[`). */
export function hasMagic(path: string): boolean {
  return /[*?[]/.test(path);
}

/** Index of the first magic character, or the length when there is none. */
function firstMagicIndex(path: string): number {
  const m = /[*?[]/.exec(path);
  return m ? m.index : path.length;
}

export interface GlobPlan {
  /** The deepest literal directory: listing starts there. */
  root: string;
  /** How deep to list below the root (undefined: all the way, for an unbounded `**`). */
  depth: number | undefined;
  /** Whether a listed name matches (directories may match a trailing `/` or `/**`). */
  matches(name: string, isDir: boolean): boolean;
}

/**
 * How to answer a glob over `path` (protocol stripped, with magic): where to list from, how
 * deep, and the test for each listed name. `maxDepth` bounds the first `**`.
 */
export function planGlob(path: string, endsWithSep: boolean, maxDepth: number | undefined, rootMarker: string): GlobPlan {
  const regex = globToRegExp(path + (endsWithSep ? "/" : ""));
  // A trailing "/" keeps directories only; "/**" also matches the directory itself.
  const slashForDirs = endsWithSep || path.endsWith("/**");
  const cut = path.lastIndexOf("/", firstMagicIndex(path));
  const root = cut < 0 ? rootMarker : cut === 0 ? "/" : path.slice(0, cut);
  const rest = cut < 0 ? path : path.slice(cut + 1);
  let depth: number | undefined = rest.split("/").length;
  if (path.includes("**")) {
    depth = maxDepth === undefined ? undefined : depth - path.slice(path.indexOf("**")).split("/").length + maxDepth;
  }
  return {
    root,
    depth,
    matches: (name, isDir) => (!endsWithSep || isDir) && regex.test(slashForDirs && isDir ? `${name}/` : name),
  };
}
