/**
 * The GCS JSON API's shapes as pure functions: where the service is, the URLs of its calls,
 * object and bucket resources as FileInfos, and its error answers as FsErrors. The I/O
 * (tokens, retries, downloads) stays in gs.ts.
 */
import { FsError, type FsErrorCode } from "../../core/errors.js";
import type { FileInfo } from "../../core/types.js";
import { joinObject } from "../s3/paths.js";

export const DEFAULT_ENDPOINT = "https://storage.googleapis.com";

/** The environment variable Google's clients read for an emulator (`host:port` or a URL). */
export const EMULATOR_ENV = "STORAGE_EMULATOR_HOST";

/**
 * The service's base URL: the option, else STORAGE_EMULATOR_HOST (a bare `host:port` is
 * http), else Google's. A trailing `/storage/v1` (the Node client's spelling of the
 * variable) and slashes go.
 */
export function resolveEndpoint(option: string | undefined): { endpoint: string; emulator: boolean } {
  const fromEnv = process.env[EMULATOR_ENV] || undefined;
  const raw = option ?? fromEnv ?? DEFAULT_ENDPOINT;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw FsError.einval(`${option !== undefined ? "endpoint" : EMULATOR_ENV} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw FsError.einval(`${option !== undefined ? "endpoint" : EMULATOR_ENV} must be an http(s) URL`);
  const endpoint = withScheme.replace(/\/+$/, "").replace(/\/storage\/v1$/, "");
  return { endpoint, emulator: option === undefined && fromEnv !== undefined };
}

const enc = encodeURIComponent;

/** The URLs of the calls the backend makes, for one endpoint. */
export class GcsUrls {
  constructor(
    readonly endpoint: string,
    /** Billed project for requester-pays buckets (`userProject`), added to every call. */
    private readonly userProject: string | undefined,
  ) {}

  private query(params: Record<string, string | number | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    if (this.userProject !== undefined) q.set("userProject", this.userProject);
    const s = q.toString();
    return s === "" ? "" : `?${s}`;
  }

  bucket(bucket: string, params: Record<string, string | number | undefined> = {}): string {
    return `${this.endpoint}/storage/v1/b/${enc(bucket)}${this.query(params)}`;
  }

  buckets(params: Record<string, string | number | undefined>): string {
    return `${this.endpoint}/storage/v1/b${this.query(params)}`;
  }

  objects(bucket: string, params: Record<string, string | number | undefined>): string {
    return `${this.endpoint}/storage/v1/b/${enc(bucket)}/o${this.query(params)}`;
  }

  object(bucket: string, key: string, params: Record<string, string | number | undefined> = {}): string {
    return `${this.endpoint}/storage/v1/b/${enc(bucket)}/o/${enc(key)}${this.query(params)}`;
  }

  /** The object's path (no endpoint, no userProject): how a batch part names it. */
  objectPath(bucket: string, key: string): string {
    return `/storage/v1/b/${enc(bucket)}/o/${enc(key)}${this.query({})}`;
  }

  upload(bucket: string, params: Record<string, string | number | undefined>): string {
    return `${this.endpoint}/upload/storage/v1/b/${enc(bucket)}/o${this.query(params)}`;
  }

  rewrite(from: { bucket: string; key: string }, to: { bucket: string; key: string }, params: Record<string, string | number | undefined>): string {
    return `${this.endpoint}/storage/v1/b/${enc(from.bucket)}/o/${enc(from.key)}/rewriteTo/b/${enc(to.bucket)}/o/${enc(to.key)}${this.query(params)}`;
  }

  batch(): string {
    return `${this.endpoint}/batch/storage/v1`;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function malformed(what: string, path: string): FsError {
  return new FsError("EPROTO", `GCS answered the ${what} with unexpected JSON`, { path });
}

function date(v: unknown): Date | undefined {
  if (typeof v !== "string") return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** An object resource as a FileInfo (size, hashes, generation, dates, content type). */
export function objectInfo(bucket: string, json: unknown, path: string): FileInfo {
  if (!isRecord(json) || typeof json.name !== "string") throw malformed("object lookup", path);
  const size = Number(json.size);
  if (!Number.isSafeInteger(size) || size < 0) throw malformed("object lookup", path);
  const info: FileInfo = { name: joinObject(bucket, json.name), size, type: "file" };
  const updated = date(json.updated);
  if (updated) info.mtime = updated;
  const created = date(json.timeCreated);
  if (created) info.created = created;
  for (const k of ["generation", "metageneration", "md5Hash", "crc32c", "etag", "contentType", "storageClass", "contentEncoding"] as const) {
    if (typeof json[k] === "string" && json[k] !== "") info[k] = json[k];
  }
  return info;
}

export interface ListPage {
  items: FileInfo[];
  /** The object names of the items (a marker `d/` is named so, though its info says `d`). */
  keys: string[];
  prefixes: string[];
  nextPageToken: string | undefined;
}

/** One page of objects.list. */
export function parseListPage(bucket: string, json: unknown, path: string): ListPage {
  if (!isRecord(json)) throw malformed("listing", path);
  const rawItems = json.items ?? [];
  const rawPrefixes = json.prefixes ?? [];
  if (!Array.isArray(rawItems) || !Array.isArray(rawPrefixes)) throw malformed("listing", path);
  const items = rawItems.map((o) => objectInfo(bucket, o, path));
  const keys = rawItems.map((o) => (o as { name: string }).name);
  if (!rawPrefixes.every((p) => typeof p === "string")) throw malformed("listing", path);
  const token = typeof json.nextPageToken === "string" && json.nextPageToken !== "" ? json.nextPageToken : undefined;
  return { items, keys, prefixes: rawPrefixes as string[], nextPageToken: token };
}

/** One page of buckets.list: the buckets as directories. */
export function parseBucketPage(json: unknown): { buckets: FileInfo[]; nextPageToken: string | undefined } {
  if (!isRecord(json)) throw malformed("bucket listing", "gs://");
  const raw = json.items ?? [];
  if (!Array.isArray(raw)) throw malformed("bucket listing", "gs://");
  const buckets: FileInfo[] = [];
  for (const b of raw) {
    if (!isRecord(b) || typeof b.name !== "string") throw malformed("bucket listing", "gs://");
    const info: FileInfo = { name: b.name, size: 0, type: "directory" };
    const created = date(b.timeCreated);
    if (created) info.created = created;
    if (typeof b.location === "string") info.location = b.location;
    if (typeof b.storageClass === "string") info.storageClass = b.storageClass;
    buckets.push(info);
  }
  const token = typeof json.nextPageToken === "string" && json.nextPageToken !== "" ? json.nextPageToken : undefined;
  return { buckets, nextPageToken: token };
}

/** A rewrite call's answer: done (with the new object) or a token to call again with. */
export function parseRewrite(json: unknown, path: string): { done: boolean; rewriteToken: string | undefined } {
  if (!isRecord(json) || typeof json.done !== "boolean") throw malformed("rewrite", path);
  const token = typeof json.rewriteToken === "string" && json.rewriteToken !== "" ? json.rewriteToken : undefined;
  if (!json.done && token === undefined) throw malformed("rewrite", path);
  return { done: json.done, rewriteToken: token };
}

/** The service's own words about a failure (`error.message`), shortened. */
export function errorMessage(json: unknown): string | undefined {
  if (!isRecord(json) || !isRecord(json.error)) return undefined;
  const m = json.error.message;
  return typeof m === "string" && m !== "" ? m.slice(0, 300) : undefined;
}

/** What a status means for the call that got it. */
export interface StatusMeaning {
  /** 412: a create that found an object (EEXIST), or a read or write pinned to a generation (ECHANGED). */
  precondition?: "EEXIST" | "ECHANGED";
  /** 409: a bucket create (EEXIST) or a bucket delete (ENOTEMPTY). */
  conflict?: "EEXIST" | "ENOTEMPTY";
  /** Words added to an EACCES (what the credentials were, what to try). */
  accessHint?: string;
}

/** A final error status of the JSON API as an FsError naming `path`. */
export function statusError(status: number, path: string, said: string | undefined, meaning: StatusMeaning = {}): FsError {
  const words = `(HTTP ${status}${said ? `: ${said}` : ""})`;
  let code: FsErrorCode;
  let text: string;
  if (status === 404 || status === 410) [code, text] = ["ENOENT", `no such object or bucket ${words}`];
  else if (status === 401 || status === 403) [code, text] = ["EACCES", `access denied ${words}${meaning.accessHint ? `; ${meaning.accessHint}` : ""}`];
  else if (status === 412) [code, text] = meaning.precondition === "EEXIST" ? ["EEXIST", `the object exists ${words}`] : ["ECHANGED", `the object changed: another generation is live now ${words}`];
  else if (status === 409 && meaning.conflict) [code, text] = [meaning.conflict, meaning.conflict === "EEXIST" ? `the bucket exists ${words}` : `the bucket is not empty ${words}`];
  else if (status === 400) [code, text] = ["EINVAL", `GCS refused the request ${words}`];
  else if (status === 408 || status === 504) [code, text] = ["ETIMEDOUT", `GCS timed out ${words}`];
  else [code, text] = ["EIO", `GCS failed ${words}`];
  return new FsError(code, text, { path, status });
}
