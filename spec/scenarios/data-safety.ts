/**
 * Data-safety scenarios the spec suite replays on every backend: names holding glob characters
 * (an existing name is itself, before any glob), and copies and moves that overlap their own
 * source (a no-op, or EINVAL; never a loss). These deliberately differ from Python fsspec,
 * which globs `a[1].txt` as `a1.txt` and deletes the source of `mv("/d/f", "/d")`.
 */

/** Files (content = a short tag) whose names hold `*`, `[`, `]` and `!`; under `lit/` in the scratch root. */
export const LITERAL_TREE: Record<string, string> = {
  "lit/a[1].txt": "literal",
  "lit/a1.txt": "one",
  "lit/st*r": "star",
  "lit/stAr": "A",
  "lit/run*/log": "run-star",
  "lit/run1/log": "run-one",
  "lit/[!/x": "bang",
};

/** Names holding `?`, for backends with `plainNames` (in a URL it starts the query). */
export const QUESTION_TREE: Record<string, string> = {
  "q/x?": "question",
  "q/xy": "xy",
  "q/st*r": "star",
};

/** One `expandPath` or `glob` call on LITERAL_TREE. */
export interface ExpandLiteralRow {
  /** Relative to the scratch root. */
  path: string;
  /** The call's `recursive`. */
  recursive?: boolean;
  /** What expandPath returns, relative to the scratch root. */
  result: string[];
  /** The pattern must match a `[` in a listed name: needs names listed as written (`plainNames`). */
  matchesBracket?: boolean;
}

/** expandPath over LITERAL_TREE: an existing name is itself; a name that does not exist is a glob. */
export const EXPAND_LITERAL_ROWS: ExpandLiteralRow[] = [
  { path: "lit/a[1].txt", result: ["lit/a[1].txt"] },
  { path: "lit/st*r", result: ["lit/st*r"] },
  { path: "lit/a[0-9].txt", result: ["lit/a1.txt"] },
  { path: "lit/run*", recursive: true, result: ["lit/run*", "lit/run*/log"] },
  { path: "lit/ru?*", recursive: true, result: ["lit/run*", "lit/run*/log", "lit/run1", "lit/run1/log"] },
  { path: "lit/[!", recursive: true, result: ["lit/[!", "lit/[!/x"] },
  { path: "lit/[[]*", recursive: true, result: ["lit/[!", "lit/[!/x"], matchesBracket: true },
];

/** glob() always reads a pattern; a one-character class (`[[]`, `[*]`) matches that character. */
export const GLOB_LITERAL_ROWS: ExpandLiteralRow[] = [
  { path: "lit/a[1].txt", result: ["lit/a1.txt"] },
  { path: "lit/a[[]1].txt", result: ["lit/a[1].txt"], matchesBracket: true },
  { path: "lit/st[*]r", result: ["lit/st*r"] },
  { path: "lit/[!", result: ["lit/[!"], matchesBracket: true },
];

/** Tree for the overlap scenarios, under the scratch root. */
export const OVERLAP_TREE: Record<string, string> = { "d/f": "F", "d/sub/g": "G" };

/** A copy or move whose destination overlaps its source. */
export interface OverlapRow {
  /** `mv` or `copy`, with paths relative to the scratch root ("/" suffix kept). */
  op: "mv" | "copy";
  /** The source path(s). */
  src: string | string[];
  /** The destination path(s). */
  dst: string | string[];
  /** The call's `recursive`. */
  recursive?: boolean;
  /** "no-op": OVERLAP_TREE is unchanged and the call succeeds; otherwise the error code, tree unchanged. */
  result: "no-op" | "EINVAL" | "EISDIR";
}

/** Copies and moves onto themselves or into themselves: no-ops or refusals, never data loss. */
export const OVERLAP_ROWS: OverlapRow[] = [
  { op: "mv", src: "d/f", dst: "d", result: "no-op" },
  { op: "mv", src: "d/f", dst: "d/", result: "no-op" },
  { op: "mv", src: ["d/f"], dst: "d", result: "no-op" },
  { op: "mv", src: ["d/f"], dst: ["d/f"], result: "no-op" },
  { op: "mv", src: "d/f", dst: "d/f", result: "no-op" },
  { op: "mv", src: "d/sub", dst: "d", recursive: true, result: "no-op" },
  { op: "mv", src: "d", dst: "d", recursive: true, result: "no-op" },
  { op: "copy", src: "d/f", dst: "d/", result: "no-op" },
  { op: "copy", src: ["d/f"], dst: ["d/f"], result: "no-op" },
  { op: "copy", src: "d/sub", dst: "d", recursive: true, result: "no-op" },
  { op: "mv", src: "d", dst: "d/new", recursive: true, result: "EINVAL" },
  { op: "mv", src: "d", dst: "d/sub", recursive: true, result: "EINVAL" },
  { op: "mv", src: "d/", dst: "d/sub/", recursive: true, result: "EINVAL" },
  { op: "mv", src: "d/*", dst: "d/sub/", recursive: true, result: "EINVAL" },
  { op: "copy", src: "d", dst: "d/new", recursive: true, result: "EINVAL" },
  { op: "mv", src: ["d/f", "d/sub/g"], dst: ["d/sub/g", "d/h"], result: "EINVAL" },
  { op: "mv", src: "d/sub", dst: "e", result: "EISDIR" },
  { op: "mv", src: ["d/sub"], dst: "e/", result: "EISDIR" },
];
