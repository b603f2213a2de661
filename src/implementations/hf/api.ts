/**
 * The Hub's HTTP API as pure functions: where each call goes, what its answers mean (tree
 * entries, pagination links, `X-Error-Code`s) and how they become FileInfos and FsErrors.
 */
import { FsError } from "../../core/errors.js";
import type { FileInfo } from "../../core/types.js";
import { describeRepo, effectiveRevision, formatHfPath, withPath, type HfPath, type HfRepoType } from "./path.js";

const API_PLURAL: Record<HfRepoType, string> = { model: "models", dataset: "datasets", space: "spaces" };

/** Each segment of a repo path percent-encoded, `/` kept between them. */
function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * `GET {endpoint}/api/{models|datasets|spaces}/{repo}/revision/{revision}` -> `{sha, siblings}`;
 * with `blobs`, each sibling carries its size, blob id and LFS metadata too.
 */
export function revisionUrl(endpoint: string, p: HfPath, blobs = false): string {
  return `${endpoint}/api/${API_PLURAL[p.repoType]}/${p.repoId}/revision/${encodeURIComponent(effectiveRevision(p))}${blobs ? "?blobs=true" : ""}`;
}

/** A file of a revision, as its `?blobs=true` answer states it (the LFS size is the file's). */
export interface SiblingFile {
  size: number;
  oid: string;
  lfs?: { oid: string; size: number };
}

/**
 * The files of a revision answer asked with `?blobs=true` (`siblings[].{rfilename, size, blobId,
 * lfs}`), as `{size, oid, lfs}` by path; undefined when the answer carries no such metadata.
 */
export function siblingFiles(body: unknown): Map<string, SiblingFile> | undefined {
  const siblings = (body as { siblings?: unknown } | null)?.siblings;
  if (!Array.isArray(siblings)) return undefined;
  const out = new Map<string, SiblingFile>();
  for (const s of siblings as Array<Record<string, unknown> | null>) {
    const lfs = s?.lfs as { sha256?: unknown; size?: unknown } | null | undefined;
    const path = s?.rfilename;
    if (typeof path !== "string" || typeof s!.size !== "number" || typeof s!.blobId !== "string") return undefined;
    const entry: SiblingFile = { size: s!.size, oid: s!.blobId };
    if (lfs) {
      if (typeof lfs.sha256 !== "string" || typeof lfs.size !== "number") return undefined;
      entry.lfs = { oid: lfs.sha256, size: lfs.size };
      entry.size = lfs.size;
    }
    out.set(path, entry);
  }
  return out;
}

/** `GET {endpoint}/api/{kind}/{repo}/tree/{commit}/{path}`: one directory (or, recursive, all below it), paginated. */
export function treeUrl(endpoint: string, p: HfPath, commit: string, recursive = false): string {
  const tail = p.path === "" ? "" : `/${encodePath(p.path)}`;
  return `${endpoint}/api/${API_PLURAL[p.repoType]}/${p.repoId}/tree/${encodeURIComponent(commit)}${tail}${recursive ? "?recursive=true" : ""}`;
}

/** `GET {endpoint}/[datasets/|spaces/]{repo}/resolve/{commit}/{path}`: the bytes (LFS: a redirect). */
export function resolveUrl(endpoint: string, p: HfPath, commit: string): string {
  const prefix = p.repoType === "model" ? "" : `${API_PLURAL[p.repoType]}/`;
  return `${endpoint}/${prefix}${p.repoId}/resolve/${encodeURIComponent(commit)}/${encodePath(p.path)}`;
}

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/s.exec(part);
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(m[2]!);
    if ((rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/).includes("next")) return m[1];
  }
  return undefined;
}

interface TreeEntry {
  type: "file" | "directory";
  path: string;
  size?: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

function isTreeEntry(v: unknown): v is TreeEntry {
  const e = v as TreeEntry | null;
  return (
    typeof e === "object" && e !== null &&
    (e.type === "file" || e.type === "directory") &&
    typeof e.path === "string" && e.path !== "" &&
    (e.size === undefined || (typeof e.size === "number" && e.size >= 0)) &&
    (e.lfs === undefined || e.lfs === null || (typeof e.lfs.oid === "string" && typeof e.lfs.size === "number"))
  );
}

/**
 * One page of a tree listing as FileInfos named like `dir` (same repo and revision form).
 * Only what lies below `dir` is kept (only its direct children unless `recursive`); anything
 * malformed is EPROTO.
 */
export function treePage(body: unknown, dir: HfPath, recursive = false): FileInfo[] {
  const shown = formatHfPath(dir);
  if (!Array.isArray(body)) throw new FsError("EPROTO", "the Hub's tree listing is not a JSON array", { path: shown });
  const prefix = dir.path === "" ? "" : `${dir.path}/`;
  const out: FileInfo[] = [];
  for (const raw of body) {
    if (!isTreeEntry(raw)) throw new FsError("EPROTO", "malformed entry in the Hub's tree listing", { path: shown });
    const rel = raw.path.startsWith(prefix) ? raw.path.slice(prefix.length) : "";
    if (rel === "" || (!recursive && rel.includes("/"))) continue;
    const name = formatHfPath(withPath(dir, raw.path));
    if (raw.type === "directory") {
      out.push({ name, size: 0, type: "directory", ...(raw.oid ? { oid: raw.oid } : {}) });
      continue;
    }
    const info: FileInfo = { name, size: raw.lfs?.size ?? raw.size ?? null, type: "file" };
    if (raw.oid) info.oid = raw.oid;
    if (raw.lfs) {
      info.lfs = { oid: raw.lfs.oid, size: raw.lfs.size };
      // The LFS oid is the content's sha256: downloads (filecache) verify against it.
      if (/^[0-9a-f]{64}$/.test(raw.lfs.oid)) info.sha256 = raw.lfs.oid;
    }
    out.push(info);
  }
  return out;
}

const TOKEN_HINT = "set HF_TOKEN (or pass the `token` option) to a token with access";

/**
 * The FsError for a Hub answer other than success, from its status and `X-Error-Code`.
 * `p` is what was asked for; `hasToken` only shapes the hint (the token is never shown).
 */
export function hubError(status: number, errorCode: string | undefined, p: HfPath, hasToken: boolean): FsError {
  const path = formatHfPath(p);
  const repo = describeRepo(p);
  if (status === 401 || status === 403) {
    const hint = hasToken ? "the token sent was refused or has no access to it" : `no token was sent: ${TOKEN_HINT}`;
    const what =
      errorCode === "GatedRepo" ? `${repo} is gated: accept its conditions on the Hub, then ${TOKEN_HINT}`
      : errorCode === "RepoNotFound" ? `${repo} was not found, or is private or gated`
      : `access to ${repo} denied`;
    return new FsError("EACCES", `${what} (HTTP ${status}; ${hint})`, { path, status });
  }
  if (status === 404 || status === 410) {
    const rev = `revision '${effectiveRevision(p)}'`;
    const message =
      errorCode === "RepoNotFound" ? `repository not found: ${repo}`
      : errorCode === "RevisionNotFound" ? `${rev} not found in ${repo}`
      : p.path === "" ? `nothing at the root of ${repo} at ${rev}`
      : `no file or directory '${p.path}' in ${repo} at ${rev}`;
    return new FsError("ENOENT", message, { path, status });
  }
  return new FsError("EIO", `the Hub answered HTTP ${status}${errorCode ? ` (${errorCode})` : ""}`, { path, status });
}
