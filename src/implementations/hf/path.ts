/**
 * The `hf://` grammar as pure functions:
 *
 *   hf://[datasets/|spaces/]<namespace>/<repo>[@<revision>][/<path in the repo>]
 *
 * The revision defaults to `main`; it may be URL-encoded (`refs%2Fpr%2F1`), and the special
 * refs `refs/pr/<n>` and `refs/convert/<name>` may also be written plainly. Names are
 * canonical: the repo part as given, the revision only when one was written (always in its
 * encoded form, so it stays one path segment), the path with `//` collapsed.
 */
import { FsError } from "../../core/errors.js";

/**
 * The kinds of Hub repository: `hf://org/name` is a model, `hf://datasets/...` a dataset,
 * `hf://spaces/...` a space.
 */
export type HfRepoType = "model" | "dataset" | "space";

/** An `hf://` path taken apart (`parseHfPath`; `formatHfPath` puts it back together). */
export interface HfPath {
  /** The kind of repository. */
  repoType: HfRepoType;
  /** `namespace/name`. */
  repoId: string;
  /** The revision as written (decoded), or undefined for the default branch. */
  revision: string | undefined;
  /** The path inside the repo, "" for its root. */
  path: string;
}

export const DEFAULT_REVISION = "main";

const PREFIXES: Record<string, HfRepoType> = { datasets: "dataset", spaces: "space" };
/** Hub rule: letters, digits, `-`, `_`, `.`; no `--` or `..`; `-` and `.` neither start nor end; 96 at most. */
const NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;
/** Refs that contain `/` and may be written unencoded (as huggingface_hub allows). */
const SPECIAL_REF = /^refs\/(?:pr\/\d+|convert\/[A-Za-z0-9_.-]+)(?=\/|$)/;
const COMMIT = /^[0-9a-f]{40}$/;

const GRAMMAR = "hf://[datasets/|spaces/]<namespace>/<repo>[@<revision>]/<path>";

function bad(why: string, input: string): FsError {
  return FsError.einval(`${why} (expected ${GRAMMAR})`, input);
}

function checkName(kind: string, name: string | undefined, input: string): string {
  if (name === undefined || name === "") throw bad(`missing ${kind}`, input);
  if (!NAME.test(name) || name.includes("--") || name.includes("..")) throw bad(`invalid ${kind} '${name}'`, input);
  return name;
}

/** Git's ref-name rules, loosely: nothing that could be a path trick or a wildcard. */
function checkRevision(revision: string, input: string): string {
  const invalid =
    revision === "" ||
    /[\s~^:?*[\\\x00-\x1f\x7f]/.test(revision) ||
    revision.includes("..") ||
    revision.includes("//") ||
    revision.includes("@{") ||
    revision.startsWith("/") ||
    revision.endsWith("/") ||
    revision.endsWith(".");
  if (invalid) throw bad(`invalid revision '${revision}'`, input);
  return revision;
}

/** True for a full commit sha: such a revision is pinned already. */
export function isCommitSha(revision: string): boolean {
  return COMMIT.test(revision);
}

/** Parse a path with or without `hf://`. Anything that is not a repo path is EINVAL. */
export function parseHfPath(input: string): HfPath {
  if (typeof input !== "string") throw FsError.einval(`path must be a string, got ${typeof input}`);
  let rest = input.replace(/^hf:(?:\/\/|:)/i, "").replace(/^\/+/, "");
  let repoType: HfRepoType = "model";
  const first = rest.slice(0, rest.indexOf("/") >>> 0);
  if (PREFIXES[first] !== undefined) {
    repoType = PREFIXES[first]!;
    rest = rest.slice(first.length + 1);
  }
  const slash = rest.indexOf("/");
  if (slash < 0) throw bad(rest === "" ? "missing repository" : `missing repository name after '${rest}'`, input);
  const namespace = checkName("namespace", rest.slice(0, slash), input);
  rest = rest.slice(slash + 1);

  const at = rest.search(/[@/]/);
  const name = checkName("repository name", at < 0 ? rest : rest.slice(0, at), input);
  rest = at < 0 ? "" : rest.slice(at);
  let revision: string | undefined;
  if (rest.startsWith("@")) {
    rest = rest.slice(1);
    const special = SPECIAL_REF.exec(rest);
    const end = special ? special[0].length : rest.indexOf("/") >>> 0;
    const raw = rest.slice(0, end);
    rest = rest.slice(raw.length);
    try {
      revision = decodeURIComponent(raw);
    } catch {
      throw bad(`malformed URL-encoding in revision '${raw}'`, input);
    }
    checkRevision(revision, input);
  }
  const segments = rest.split("/").filter((s) => s !== "");
  for (const seg of segments) {
    if (seg === "." || seg === "..") throw bad(`'${seg}' is not allowed in a repository path`, input);
    if (seg.includes("\0")) throw bad("NUL byte in path", input);
  }
  return { repoType, repoId: `${namespace}/${name}`, revision, path: segments.join("/") };
}

/** The canonical name (no protocol) of a parsed path; `parseHfPath(formatHfPath(p))` gives `p` back. */
export function formatHfPath(p: HfPath): string {
  const prefix = p.repoType === "model" ? "" : `${p.repoType}s/`;
  const rev = p.revision === undefined ? "" : `@${encodeURIComponent(p.revision)}`;
  return `${prefix}${p.repoId}${rev}${p.path ? `/${p.path}` : ""}`;
}

/** The revision a path reads: the one written, else `main`. */
export function effectiveRevision(p: HfPath): string {
  return p.revision ?? DEFAULT_REVISION;
}

/** What a name pins to a commit: the repo and its revision (not the path). */
export function pinKey(p: HfPath): string {
  return `${p.repoType}:${p.repoId}@${effectiveRevision(p)}`;
}

/** The same repo and revision, another path inside it. */
export function withPath(p: HfPath, path: string): HfPath {
  return { ...p, path };
}

/** How messages name the repo: `model 'org/name'`, `dataset 'org/name'`. */
export function describeRepo(p: HfPath): string {
  return `${p.repoType} '${p.repoId}'`;
}
