/**
 * NGC's REST shapes as pure functions: the endpoint URLs and the checks of their JSON answers.
 * The I/O (tokens, retries, downloads) stays in ngc.ts.
 */
import { FsError } from "../../core/errors.js";
import type { FileInfo } from "../../core/types.js";
import type { NgcPath } from "./grammar.js";

export const DEFAULT_BASE_URL = "https://api.ngc.nvidia.com/";
export const DEFAULT_AUTH_URL = "https://authn.nvidia.com/";

/** The environment variables the NGC backend reads (once, when an instance is built). */
export const NGC_ENV = {
  baseUrl: "NGC_CLI_SEARCH_SERVICE_URL",
  apiKey: "NGC_CLI_API_KEY",
  org: "NGC_CLI_ORG",
  team: "NGC_CLI_TEAM",
} as const;

type Model = Pick<NgcPath, "org" | "team" | "name" | "version">;

/** `url` with exactly one trailing slash, checked to be http(s). */
export function baseWithSlash(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw FsError.einval(`${what} is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw FsError.einval(`${what} must be an http(s) URL`);
  return url.replace(/\/*$/, "/");
}

/**
 * The download-URL lookup of one file. Public: `v2/models/[org/<org>/][team/<team>/]<name>/<version>/files`;
 * authenticated: `v2/[org/<org>/][team/<team>/]models/<name>/<version>/files`.
 */
export function fileLookupUrl(base: string, p: Model, path: string, authenticated: boolean): string {
  const owners = [p.org === undefined ? "" : `org/${p.org}/`, p.team === undefined ? "" : `team/${p.team}/`].join("");
  const model = `${p.name}/${p.version}/files?path=${encodeURIComponent(path)}`;
  return authenticated ? `${base}v2/${owners}models/${model}` : `${base}v2/models/${owners}${model}`;
}

/** The older listing of a whole version: `v2/models/[<org>/][<team>/]<name>/versions/<version>/files/`. */
export function listingUrl(base: string, p: Model, page?: number): string {
  const owners = [p.org, p.team].filter((s) => s !== undefined).map((s) => `${s}/`).join("");
  return `${base}v2/models/${owners}${p.name}/versions/${p.version}/files/${page === undefined ? "" : `?page-number=${page}`}`;
}

/** The token request: `token?service=ngc&scope=group/ngc:<org>[&scope=group/ngc:<org>/<team>]`. */
export function tokenUrl(authUrl: string, org: string, team: string | undefined): string {
  const q = new URLSearchParams({ service: "ngc" });
  q.append("scope", `group/ngc:${org}`);
  if (team !== undefined) q.append("scope", `group/ngc:${org}/${team}`);
  return `${authUrl}token?${q.toString()}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function malformed(what: string, path: string): FsError {
  return new FsError("EPROTO", `NGC answered the ${what} with unexpected JSON`, { path });
}

/** `{token, expires_in}` of the token endpoint. */
export function parseToken(json: unknown, path: string): { token: string; expiresIn: number } {
  if (!isRecord(json) || typeof json.token !== "string" || json.token === "") throw malformed("token request", path);
  const e = Number(json.expires_in);
  // No lifetime stated: use it until the registry refuses it (a 401 fetches a new one).
  return { token: json.token, expiresIn: Number.isFinite(e) && e >= 0 ? e : Infinity };
}

/** The first of `urls`, resolved against the URL it came from. */
export function parseFileUrls(json: unknown, from: string, path: string): string {
  if (!isRecord(json) || !Array.isArray(json.urls)) throw malformed("file lookup", path);
  const first = json.urls[0];
  if (first === undefined) throw FsError.enoent(path, "NGC lists no download URL for this file");
  if (typeof first !== "string") throw malformed("file lookup", path);
  try {
    return new URL(first, from).href;
  } catch {
    throw malformed("file lookup", path);
  }
}

/** One file of a version's listing. */
export interface ListedFile {
  path: string;
  size: number | null;
  mtime?: Date;
}

/** `modelFiles[]` of one listing page, and how many pages there are. */
export function parseListing(json: unknown, path: string): { files: ListedFile[]; pages: number } {
  if (!isRecord(json) || !Array.isArray(json.modelFiles)) throw malformed("listing", path);
  const files: ListedFile[] = [];
  for (const entry of json.modelFiles) {
    if (!isRecord(entry) || typeof entry.path !== "string") throw malformed("listing", path);
    const rel = entry.path.split("/").filter((s) => s !== "" && s !== ".").join("/");
    if (rel === "" || rel.split("/").includes("..")) continue;
    const raw = entry.sizeInBytes ?? entry.size;
    const size = typeof raw === "number" && Number.isInteger(raw) && raw >= 0 ? raw : null;
    const file: ListedFile = { path: rel, size };
    const modified = entry.lastModified ?? entry.updatedDate;
    if (typeof modified === "string" && !Number.isNaN(Date.parse(modified))) file.mtime = new Date(modified);
    files.push(file);
  }
  const info = json.paginationInfo;
  const pages = isRecord(info) && typeof info.totalPages === "number" && info.totalPages > 1 ? Math.floor(info.totalPages) : 1;
  return { files, pages };
}

/** The registry's own words about a failure (`requestStatus.statusDescription`), shortened. */
export function statusDescription(json: unknown): string | undefined {
  if (!isRecord(json) || !isRecord(json.requestStatus)) return undefined;
  const d = json.requestStatus.statusDescription;
  return typeof d === "string" && d !== "" ? d.slice(0, 200) : undefined;
}

/** A version's files as directory listings: `dirs` by relative path ("" is the package root). */
export interface PackageTree {
  files: Map<string, FileInfo>;
  dirs: Map<string, FileInfo[]>;
}

/** Directory listings of a version, with the directories its file paths imply. */
export function buildTree(root: string, listed: readonly ListedFile[]): PackageTree {
  const files = new Map<string, FileInfo>();
  const dirs = new Map<string, FileInfo[]>([["", []]]);
  const dirOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");
  const ensureDir = (rel: string): FileInfo[] => {
    let entries = dirs.get(rel);
    if (entries) return entries;
    const parent = ensureDir(dirOf(rel));
    dirs.set(rel, (entries = []));
    parent.push({ name: `${root}/${rel}`, size: 0, type: "directory" });
    return entries;
  };
  for (const f of listed) {
    if (files.has(f.path) || dirs.has(f.path)) continue;
    const info: FileInfo = { name: `${root}/${f.path}`, size: f.size, type: "file" };
    if (f.mtime) info.mtime = f.mtime;
    ensureDir(dirOf(f.path)).push(info);
    files.set(f.path, info);
  }
  return { files, dirs };
}
