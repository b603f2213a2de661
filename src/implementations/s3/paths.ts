/**
 * S3 names: `bucket/key` paths (the root is ""), split into bucket and key, and the
 * `CopySource` spelling of an object.
 */
import { FsError } from "../../core/errors.js";

export interface ObjectPath {
  bucket: string;
  /** The key without a trailing slash; "" for the bucket itself. */
  key: string;
}

/** `"bucket/a/b"` -> `{bucket: "bucket", key: "a/b"}`; `"bucket"` -> key `""`. */
export function splitPath(path: string): ObjectPath {
  const slash = path.indexOf("/");
  if (slash < 0) return { bucket: path, key: "" };
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/** The path of `key` in `bucket` (a directory prefix loses its trailing slash). */
export function joinObject(bucket: string, key: string): string {
  const k = key.endsWith("/") ? key.slice(0, -1) : key;
  return k === "" ? bucket : `${bucket}/${k}`;
}

/** The listing prefix for a directory path: `key/`, or "" for a whole bucket. */
export function dirPrefix(key: string): string {
  return key === "" ? "" : `${key}/`;
}

/**
 * Keys with empty segments (`a//b//c`, `/x`): a run of slashes is one separator, so no
 * directory level is named "". The key prefixes (relative, without a trailing slash) of the
 * directories that `rel` lies in, outermost first: each ends a non-empty segment (`a//b//c`
 * -> `a`, `a//b`). A key ending in `/` is a directory marker and names its own directory last.
 */
export function directoriesOf(rel: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < rel.length; i++) if (rel[i] === "/" && rel[i - 1] !== "/") out.push(rel.slice(0, i));
  return out;
}

/** Whether `key` is a marker object of the directory listed with `prefix`: `prefix` followed by slashes only. */
export function isMarkerOf(key: string, prefix: string): boolean {
  return key.startsWith(prefix) && /^\/*$/.test(key.slice(prefix.length));
}

/** A path that names an object (bucket and key), or EISDIR/EINVAL for the root and buckets. */
export function objectOf(path: string): ObjectPath & { key: string } {
  if (path === "") throw FsError.eisdir("s3://", "the root of S3 is the list of buckets");
  const parts = splitPath(path);
  if (parts.bucket === "") throw FsError.einval("an S3 path starts with a bucket name", path);
  if (parts.key === "") throw FsError.eisdir(path, "a bucket is a directory");
  return parts;
}

/** `CopySource` for CopyObject / UploadPartCopy: bucket and key, each segment URL-encoded. */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const encoded = key.split("/").map(encodeURIComponent).join("/");
  return `${bucket}/${encoded}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ""}`;
}
