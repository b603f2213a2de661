/**
 * A local stand-in for Google Cloud Storage on 127.0.0.1, speaking the JSON API's shapes:
 *
 * - objects: `GET /storage/v1/b/<b>/o` (prefix, delimiter, pageToken, maxResults, startOffset,
 *   endOffset, includeTrailingDelimiter -> items, prefixes, nextPageToken), `GET .../o/<o>`
 *   (the object resource), `GET .../o/<o>?alt=media` (Range, generation, ifGenerationMatch;
 *   x-goog-generation, x-goog-hash), `DELETE .../o/<o>`, `POST .../o/<o>/rewriteTo/b/<b>/o/<o>`
 *   (rewriteToken loops, `rewriteBytesPerCall` or maxBytesRewrittenPerCall bytes a call);
 * - uploads: `POST /upload/storage/v1/b/<b>/o?uploadType=media|multipart|resumable`, and the
 *   resumable session's `PUT` chunks (`Content-Range: bytes a-b/N|*`, status queries
 *   `bytes * /N`, 308 Resume Incomplete with the committed `Range`, `DELETE` to cancel);
 * - `POST /batch/storage/v1` (multipart/mixed, at most 100 parts, each run as its own request);
 * - buckets: `GET /storage/v1/b?project=` (paginated), `POST` (409 when taken), `GET`/`DELETE .../b/<b>`;
 * - OAuth: `POST /token` for the JWT-bearer grant (RS256 checked against registered service
 *   accounts) and the refresh-token grant; the GCE metadata server's
 *   `/computeMetadata/v1/instance/service-accounts/default/token` and `.../project/project-id`
 *   (Metadata-Flavor: Google required), on the same port (`metadataHost`).
 *
 * Objects of a public bucket may be listed and read without credentials; everything else needs
 * a bearer token the server issued (or one added with `addAccessToken`). Every request is
 * recorded with its kind; `failNext` and `cutNext` inject faults. Nothing depends on timing.
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type GcsRequestKind =
  | "token"
  | "metadata"
  | "list"
  | "get"
  | "media"
  | "upload"
  | "chunk"
  | "delete"
  | "rewrite"
  | "batch"
  | "bucket"
  | "other";

export interface GcsRequest {
  kind: GcsRequestKind;
  method: string;
  /** Pathname as received (percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Part of a batch request. */
  batched?: boolean;
}

export interface StoredObject {
  name: string;
  data: Uint8Array;
  generation: string;
  metageneration: string;
  contentType: string;
  created: Date;
  updated: Date;
  metadata?: Record<string, string>;
}

export interface GcsServerOptions {
  /** Milliseconds issued tokens live (default one hour); reported as `expires_in`, in whole seconds. */
  tokenLifetimeMs?: number;
  /** Bytes a rewrite call copies at most (default: all); smaller values force rewriteToken loops. */
  rewriteBytesPerCall?: number;
  /** The project the metadata server reports (default "metadata-project"). */
  metadataProject?: string;
}

export interface TestGcsServer {
  /** `http://127.0.0.1:<port>`: the `endpoint` (or STORAGE_EMULATOR_HOST). */
  url: string;
  /** The OAuth token endpoint (`token_uri` of keys and authorized-user files). */
  tokenUri: string;
  /** `127.0.0.1:<port>` for GCE_METADATA_HOST. */
  metadataHost: string;
  requests: GcsRequest[];
  createBucket(name: string, options?: { public?: boolean; project?: string }): void;
  putObject(bucket: string, name: string, data: Uint8Array | string, options?: { contentType?: string }): StoredObject;
  getObject(bucket: string, name: string): StoredObject | undefined;
  deleteObject(bucket: string, name: string): void;
  objectNames(bucket: string): string[];
  /** Accept this bearer token (it never expires until `revokeTokens`). */
  addAccessToken(token: string): void;
  addServiceAccount(clientEmail: string, publicKeyPem: string): void;
  addAuthorizedUser(clientId: string, clientSecret: string, refreshToken: string): void;
  /** Tokens issued by /token and the metadata server, in order. */
  issuedTokens: string[];
  /** Every token accepted so far is refused from now on (401). */
  revokeTokens(): void;
  setTokenLifetimeMs(ms: number): void;
  setRewriteBytesPerCall(bytes: number | undefined): void;
  /** The next `times` requests of `kind` are answered with `status` (after being recorded). */
  failNext(kind: GcsRequestKind, status: number, times?: number): void;
  /**
   * The next request of `kind` is cut after `bytes`: a media download sends its headers and
   * that many body bytes, then the connection closes; an upload chunk keeps that many of its
   * bytes, then the connection closes without an answer.
   */
  cutNext(kind: "media" | "chunk", bytes: number): void;
  /** Open resumable sessions (not completed, not cancelled). */
  openSessions(): number;
  count(kind?: GcsRequestKind): number;
  resetCounts(): void;
  close(): Promise<void>;
}

interface Bucket {
  name: string;
  project: string;
  public: boolean;
  created: Date;
  objects: Map<string, StoredObject>;
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  ifGenerationMatch: string | null;
  data: Buffer[];
  committed: number;
  done?: StoredObject;
  cancelled?: boolean;
}

interface RewriteState {
  source: StoredObject;
  bucket: string;
  name: string;
  copied: number;
  ifGenerationMatch: string | null;
}

interface FakeRequest {
  method: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  batched?: boolean;
}

interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send this many body bytes, then destroy the socket. */
  cutAfter?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
}

const CHUNK_UNIT = 256 * 1024;

// ---------------------------------------------------------------- hashes

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): string {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}

const md5 = (data: Uint8Array) => createHash("md5").update(data).digest("base64");
const etagOf = (o: StoredObject) => Buffer.from(`${o.generation}/${o.metageneration}`).toString("base64");

// ---------------------------------------------------------------- answers

function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return { status, headers: { "content-type": "application/json; charset=UTF-8", ...headers }, body: JSON.stringify(body) };
}

const REASONS: Record<number, string> = {
  400: "invalid",
  401: "required",
  403: "forbidden",
  404: "notFound",
  409: "conflict",
  412: "conditionNotMet",
  429: "rateLimitExceeded",
  500: "backendError",
  503: "backendError",
};

function apiError(status: number, message: string): FakeResponse {
  const headers: Record<string, string> = status === 401 ? { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' } : {};
  return json(status, { error: { code: status, message, errors: [{ message, domain: "global", reason: REASONS[status] ?? "error" }] } }, headers);
}

function oauthError(status: number, error: string, description: string): FakeResponse {
  return json(status, { error, error_description: description });
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Parts of a multipart body: each part's headers (lower-case names) and bytes. */
function multipartParts(body: Buffer, contentType: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return [];
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    if (body.subarray(start, start + 2).toString() === "\r\n") start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body.subarray(end - 2, end).toString() === "\r\n") end -= 2;
    const part = body.subarray(start, end);
    const split = part.indexOf("\r\n\r\n");
    const head = split < 0 ? "" : part.subarray(0, split).toString("latin1");
    const headers: Record<string, string> = {};
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: split < 0 ? part : part.subarray(split + 4) });
    at = next;
  }
  return parts;
}

/** An HTTP request written out as text (a batch part): request line, headers, body. */
function parseInnerRequest(text: Buffer): { method: string; target: string; headers: Record<string, string>; body: Buffer } {
  const split = text.indexOf("\r\n\r\n");
  const head = (split < 0 ? text : text.subarray(0, split)).toString("latin1").split("\r\n");
  const [method = "", target = ""] = head[0]!.split(" ");
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, target, headers, body: split < 0 ? Buffer.alloc(0) : text.subarray(split + 4) };
}

// ---------------------------------------------------------------- JWT

function base64url(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** The claims of an RS256 JWT signed by `key`, or a reason it is refused. */
function checkJwt(assertion: string, keys: Map<string, KeyObject>, audience: string): { claims: Record<string, unknown> } | { refused: string } {
  const parts = assertion.split(".");
  if (parts.length !== 3) return { refused: "not a JWT" };
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(base64url(parts[0]!).toString("utf8"));
    claims = JSON.parse(base64url(parts[1]!).toString("utf8"));
  } catch {
    return { refused: "malformed JWT" };
  }
  if (header.alg !== "RS256") return { refused: "alg must be RS256" };
  const key = keys.get(String(claims.iss));
  if (!key) return { refused: "unknown service account" };
  const ok = verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), key, base64url(parts[2]!));
  if (!ok) return { refused: "Invalid JWT Signature." };
  const now = Date.now() / 1000;
  if (claims.aud !== audience) return { refused: "Invalid JWT: aud" };
  if (typeof claims.exp !== "number" || claims.exp < now) return { refused: "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe" };
  if (typeof claims.iat !== "number" || claims.iat > now + 300) return { refused: "Invalid JWT: iat in the future" };
  if (typeof claims.scope !== "string" || !claims.scope.includes("devstorage")) return { refused: "no storage scope" };
  return { claims };
}

// ---------------------------------------------------------------- the server

export async function startGcsServer(options: GcsServerOptions = {}): Promise<TestGcsServer> {
  const buckets = new Map<string, Bucket>();
  const sessions = new Map<string, Session>();
  const rewrites = new Map<string, RewriteState>();
  const accessTokens = new Map<string, { expires: number }>();
  const serviceAccounts = new Map<string, KeyObject>();
  const authorizedUsers = new Map<string, { clientId: string; clientSecret: string }>();
  const issuedTokens: string[] = [];
  const requests: GcsRequest[] = [];
  const faults: Array<{ kind: GcsRequestKind; status: number; remaining: number }> = [];
  const cuts: Array<{ kind: "media" | "chunk"; bytes: number }> = [];
  const sockets = new Set<Socket>();
  let tokenLifetimeMs = options.tokenLifetimeMs ?? 3_600_000;
  let rewriteBytesPerCall = options.rewriteBytesPerCall;
  let generationCounter = 1_700_000_000_000_000;
  let base = "";

  const nextGeneration = () => String(++generationCounter);

  function store(bucket: Bucket, name: string, data: Uint8Array, contentType: string, metadata?: Record<string, string>): StoredObject {
    const now = new Date();
    const obj: StoredObject = {
      name,
      data: new Uint8Array(data),
      generation: nextGeneration(),
      metageneration: "1",
      contentType,
      created: now,
      updated: now,
      ...(metadata ? { metadata } : {}),
    };
    bucket.objects.set(name, obj);
    return obj;
  }

  function resource(bucket: Bucket, o: StoredObject): Record<string, unknown> {
    const encoded = encodeURIComponent(o.name);
    const out: Record<string, unknown> = {
      kind: "storage#object",
      id: `${bucket.name}/${o.name}/${o.generation}`,
      selfLink: `${base}/storage/v1/b/${bucket.name}/o/${encoded}`,
      mediaLink: `${base}/download/storage/v1/b/${bucket.name}/o/${encoded}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: bucket.name,
      generation: o.generation,
      metageneration: o.metageneration,
      contentType: o.contentType,
      storageClass: "STANDARD",
      size: String(o.data.byteLength),
      md5Hash: md5(o.data),
      crc32c: crc32c(o.data),
      etag: etagOf(o),
      timeCreated: o.created.toISOString(),
      updated: o.updated.toISOString(),
      timeStorageClassUpdated: o.created.toISOString(),
    };
    if (o.metadata) out.metadata = o.metadata;
    return out;
  }

  function bucketResource(b: Bucket): Record<string, unknown> {
    return {
      kind: "storage#bucket",
      id: b.name,
      name: b.name,
      projectNumber: "123456789",
      location: "US",
      storageClass: "STANDARD",
      timeCreated: b.created.toISOString(),
      updated: b.created.toISOString(),
      etag: "CAE=",
    };
  }

  /** Whether the request carries a live token; "none" when it carries no Authorization at all. */
  function credential(req: FakeRequest): "valid" | "invalid" | "none" {
    const auth = single(req.headers.authorization);
    if (!auth) return "none";
    const m = /^Bearer (.+)$/.exec(auth);
    const held = m ? accessTokens.get(m[1]!) : undefined;
    if (!held || held.expires < Date.now()) return "invalid";
    return "valid";
  }

  /** undefined: allowed; else the refusal. `read` operations of a public bucket need no token. */
  function refuse(req: FakeRequest, bucket: Bucket | undefined, read: boolean): FakeResponse | undefined {
    const c = credential(req);
    if (c === "valid") return undefined;
    if (c === "invalid") return apiError(401, "Invalid Credentials");
    if (read && bucket?.public) return undefined;
    return apiError(401, "Anonymous caller does not have storage access to the Google Cloud Storage resource.");
  }

  function issue(): FakeResponse {
    const token = `ya29.fake-${randomBytes(12).toString("hex")}`;
    accessTokens.set(token, { expires: Date.now() + tokenLifetimeMs });
    issuedTokens.push(token);
    return json(200, { access_token: token, expires_in: Math.round(tokenLifetimeMs / 1000), token_type: "Bearer" });
  }

  function tokenEndpoint(req: FakeRequest): FakeResponse {
    if (req.method !== "POST") return oauthError(405, "invalid_request", "POST only");
    const form = new URLSearchParams(req.body.toString("utf8"));
    const grant = form.get("grant_type");
    if (grant === "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      const checked = checkJwt(form.get("assertion") ?? "", serviceAccounts, `${base}/token`);
      if ("refused" in checked) return oauthError(400, "invalid_grant", checked.refused);
      return issue();
    }
    if (grant === "refresh_token") {
      const user = authorizedUsers.get(form.get("refresh_token") ?? "");
      if (!user) return oauthError(400, "invalid_grant", "Token has been expired or revoked.");
      if (user.clientId !== form.get("client_id") || user.clientSecret !== form.get("client_secret")) {
        return oauthError(401, "invalid_client", "The OAuth client was not found.");
      }
      return issue();
    }
    return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${grant ?? ""}`);
  }

  function metadataEndpoint(req: FakeRequest): FakeResponse {
    if (single(req.headers["metadata-flavor"]) !== "Google") return { status: 403, body: "Missing Metadata-Flavor header" };
    const path = req.url.pathname;
    const flavor = { "metadata-flavor": "Google" };
    if (path === "/computeMetadata/v1/instance/service-accounts/default/token") {
      const r = issue();
      return { ...r, headers: { ...r.headers, ...flavor } };
    }
    if (path === "/computeMetadata/v1/project/project-id") {
      return { status: 200, headers: { "content-type": "application/text", ...flavor }, body: options.metadataProject ?? "metadata-project" };
    }
    return { status: 404, headers: flavor, body: "not found" };
  }

  // ---------------------------------------------------------------- objects

  function listObjects(b: Bucket, q: URLSearchParams): FakeResponse {
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const start = q.get("startOffset");
    const end = q.get("endOffset");
    const trailing = q.get("includeTrailingDelimiter") === "true";
    const max = Math.min(1000, Number(q.get("maxResults") ?? 1000) || 1000);
    const after = q.get("pageToken") ? Buffer.from(q.get("pageToken")!, "base64url").toString("utf8") : undefined;
    // Entries in name order: objects and (with a delimiter) prefixes, each prefix once.
    const entries: Array<{ key: string; item?: StoredObject; prefix?: string }> = [];
    const seenPrefixes = new Set<string>();
    for (const name of [...b.objects.keys()].sort()) {
      if (!name.startsWith(prefix)) continue;
      if (start !== null && name < start) continue;
      if (end !== null && name >= end) continue;
      const rest = name.slice(prefix.length);
      const cut = delimiter === "" ? -1 : rest.indexOf(delimiter);
      if (cut >= 0) {
        const p = prefix + rest.slice(0, cut + delimiter.length);
        if (!seenPrefixes.has(p)) {
          seenPrefixes.add(p);
          entries.push({ key: p, prefix: p });
        }
        if (trailing && cut + delimiter.length === rest.length) entries.push({ key: name + "\u0000", item: b.objects.get(name)! });
        continue;
      }
      entries.push({ key: name, item: b.objects.get(name)! });
    }
    const from = after === undefined ? 0 : entries.findIndex((e) => e.key > after);
    const page = from < 0 ? [] : entries.slice(from, from + max);
    const out: Record<string, unknown> = { kind: "storage#objects" };
    const items = page.filter((e) => e.item).map((e) => resource(b, e.item!));
    const prefixes = page.filter((e) => e.prefix).map((e) => e.prefix!);
    if (items.length > 0) out.items = items;
    if (prefixes.length > 0) out.prefixes = prefixes;
    if (from >= 0 && from + max < entries.length) out.nextPageToken = Buffer.from(page[page.length - 1]!.key).toString("base64url");
    return json(200, out);
  }

  /** A precondition that fails for `current` (the live object, or undefined), as a 412; else undefined. */
  function preconditionFails(q: URLSearchParams, current: StoredObject | undefined, prefix = ""): FakeResponse | undefined {
    const match = q.get(`${prefix}ifGenerationMatch`);
    const notMatch = q.get(`${prefix}ifGenerationNotMatch`);
    const metaMatch = q.get(`${prefix}ifMetagenerationMatch`);
    const gen = current?.generation ?? "0";
    const failed = (match !== null && match !== gen) || (notMatch !== null && notMatch === gen) || (metaMatch !== null && current?.metageneration !== metaMatch);
    return failed ? apiError(412, "At least one of the pre-conditions you specified did not hold.") : undefined;
  }

  function media(o: StoredObject, req: FakeRequest): FakeResponse {
    const size = o.data.byteLength;
    const headers: Record<string, string> = {
      "content-type": o.contentType,
      "x-goog-generation": o.generation,
      "x-goog-metageneration": o.metageneration,
      "x-goog-hash": `crc32c=${crc32c(o.data)},md5=${md5(o.data)}`,
      "x-goog-stored-content-length": String(size),
      "x-goog-stored-content-encoding": "identity",
      etag: `"${etagOf(o)}"`,
      "last-modified": o.updated.toUTCString(),
      "accept-ranges": "bytes",
    };
    const range = single(req.headers.range);
    const cut = takeCut("media");
    let body = Buffer.from(o.data);
    let status = 200;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m && (m[1] !== "" || m[2] !== "")) {
        let first: number;
        let last: number;
        if (m[1] === "") {
          first = Math.max(0, size - Number(m[2]));
          last = size - 1;
        } else {
          first = Number(m[1]);
          last = m[2] === "" ? size - 1 : Math.min(size - 1, Number(m[2]));
        }
        if (first >= size && !(size === 0 && m[1] === "")) {
          return { status: 416, headers: { "content-range": `bytes */${size}`, "content-type": "text/html" }, body: "Request range not satisfiable" };
        }
        if (size > 0) {
          body = body.subarray(first, last + 1);
          status = 206;
          headers["content-range"] = `bytes ${first}-${last}/${size}`;
        }
      }
    }
    headers["content-length"] = String(body.byteLength);
    return { status, headers, body, ...(cut !== undefined ? { cutAfter: cut } : {}) };
  }

  function takeCut(kind: "media" | "chunk"): number | undefined {
    const i = cuts.findIndex((c) => c.kind === kind);
    if (i < 0) return undefined;
    const [c] = cuts.splice(i, 1);
    return c!.bytes;
  }

  function objectRoute(req: FakeRequest, b: Bucket, rest: string): FakeResponse {
    const q = req.url.searchParams;
    const rewrite = rest.split("/rewriteTo/b/");
    if (rewrite.length === 2) return rewriteObject(req, b, decodeURIComponent(rewrite[0]!), rewrite[1]!);
    const name = decodeURIComponent(rest);
    const live = b.objects.get(name);
    const wanted = q.get("generation");
    const o = wanted !== null ? (live?.generation === wanted ? live : undefined) : live;
    if (req.method === "GET") {
      const denied = refuse(req, b, true);
      if (denied) return denied;
      if (!o) return apiError(404, `No such object: ${b.name}/${name}`);
      const failed = preconditionFails(q, o);
      if (failed) return failed;
      if (q.get("alt") === "media") return media(o, req);
      return json(200, resource(b, o));
    }
    if (req.method === "DELETE") {
      const denied = refuse(req, b, false);
      if (denied) return denied;
      if (!o) return apiError(404, `No such object: ${b.name}/${name}`);
      const failed = preconditionFails(q, o);
      if (failed) return failed;
      b.objects.delete(name);
      return { status: 204 };
    }
    return apiError(405, "method not allowed");
  }

  function rewriteObject(req: FakeRequest, src: Bucket, srcName: string, destPart: string): FakeResponse {
    if (req.method !== "POST") return apiError(405, "POST only");
    const denied = refuse(req, undefined, false);
    if (denied) return denied;
    const q = req.url.searchParams;
    const slash = destPart.indexOf("/o/");
    const dest = buckets.get(destPart.slice(0, slash));
    if (!dest) return apiError(404, "The destination bucket does not exist.");
    const destName = decodeURIComponent(destPart.slice(slash + 3));
    const token = q.get("rewriteToken");
    let state: RewriteState | undefined;
    if (token) {
      state = rewrites.get(token);
      if (!state || state.bucket !== dest.name || state.name !== destName) return apiError(400, "Invalid rewrite token.");
      rewrites.delete(token);
    } else {
      const live = src.objects.get(srcName);
      const wanted = q.get("sourceGeneration");
      const source = wanted !== null ? (live?.generation === wanted ? live : undefined) : live;
      if (!source) return apiError(404, `No such object: ${src.name}/${srcName}`);
      const failed = preconditionFails(q, source, "ifSource") ?? preconditionFails(q, dest.objects.get(destName));
      if (failed) return failed;
      state = { source, bucket: dest.name, name: destName, copied: 0, ifGenerationMatch: q.get("ifGenerationMatch") };
    }
    const size = state.source.data.byteLength;
    const asked = Number(q.get("maxBytesRewrittenPerCall") ?? Infinity) || Infinity;
    const step = Math.min(asked, rewriteBytesPerCall ?? Infinity);
    state.copied = Math.min(size, state.copied + step);
    if (state.copied < size) {
      const next = randomBytes(12).toString("hex");
      rewrites.set(next, state);
      return json(200, { kind: "storage#rewriteResponse", totalBytesRewritten: String(state.copied), objectSize: String(size), done: false, rewriteToken: next });
    }
    const current = dest.objects.get(destName);
    if (state.ifGenerationMatch !== null && (current?.generation ?? "0") !== state.ifGenerationMatch) {
      return apiError(412, "At least one of the pre-conditions you specified did not hold.");
    }
    const made = store(dest, destName, state.source.data, state.source.contentType, state.source.metadata);
    return json(200, { kind: "storage#rewriteResponse", totalBytesRewritten: String(size), objectSize: String(size), done: true, resource: resource(dest, made) });
  }

  // ---------------------------------------------------------------- uploads

  function upload(req: FakeRequest, b: Bucket): FakeResponse {
    const q = req.url.searchParams;
    const denied = refuse(req, b, false);
    if (denied) return denied;
    const type = q.get("uploadType");
    const contentType = single(req.headers["content-type"]) ?? "application/octet-stream";
    if (type === "media") {
      const name = q.get("name");
      if (!name) return apiError(400, "Required parameter: name");
      return finishUpload(b, name, req.body, contentType, q.get("ifGenerationMatch"), undefined);
    }
    if (type === "multipart") {
      const parts = multipartParts(req.body, contentType);
      if (parts.length !== 2) return apiError(400, "multipart upload needs metadata and media parts");
      let meta: Record<string, unknown>;
      try {
        meta = JSON.parse(parts[0]!.body.toString("utf8"));
      } catch {
        return apiError(400, "metadata is not JSON");
      }
      const name = typeof meta.name === "string" ? meta.name : q.get("name");
      if (!name) return apiError(400, "Required parameter: name");
      if (typeof meta.md5Hash === "string" && meta.md5Hash !== md5(parts[1]!.body)) {
        return apiError(400, "Provided MD5 hash doesn't match calculated MD5 hash.");
      }
      const type2 = typeof meta.contentType === "string" ? meta.contentType : (parts[1]!.headers["content-type"] ?? "application/octet-stream");
      return finishUpload(b, name, parts[1]!.body, type2, q.get("ifGenerationMatch"), meta.metadata as Record<string, string> | undefined);
    }
    if (type === "resumable") {
      let meta: Record<string, unknown> = {};
      if (req.body.byteLength > 0) {
        try {
          meta = JSON.parse(req.body.toString("utf8"));
        } catch {
          return apiError(400, "metadata is not JSON");
        }
      }
      const name = typeof meta.name === "string" ? meta.name : q.get("name");
      if (!name) return apiError(400, "Required parameter: name");
      const failed = preconditionFails(q, b.objects.get(name));
      if (failed) return failed;
      const id = randomBytes(12).toString("hex");
      sessions.set(id, {
        bucket: b.name,
        name,
        contentType: typeof meta.contentType === "string" ? meta.contentType : (single(req.headers["x-upload-content-type"]) ?? "application/octet-stream"),
        ifGenerationMatch: q.get("ifGenerationMatch"),
        data: [],
        committed: 0,
      });
      const location = `${base}/upload/storage/v1/b/${b.name}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
      return { status: 200, headers: { location, "x-guploader-uploadid": id, "content-length": "0" }, body: "" };
    }
    return apiError(400, `Invalid uploadType: ${type ?? ""}`);
  }

  function finishUpload(b: Bucket, name: string, data: Uint8Array, contentType: string, ifGenerationMatch: string | null, metadata?: Record<string, string>): FakeResponse {
    if (ifGenerationMatch !== null && (b.objects.get(name)?.generation ?? "0") !== ifGenerationMatch) {
      return apiError(412, "At least one of the pre-conditions you specified did not hold.");
    }
    return json(200, resource(b, store(b, name, data, contentType, metadata)));
  }

  /** A PUT (or DELETE) on a resumable session URL. */
  function sessionRoute(req: FakeRequest, id: string): FakeResponse {
    const s = sessions.get(id);
    if (!s) return apiError(404, "No such upload session.");
    const b = buckets.get(s.bucket)!;
    if (req.method === "DELETE") {
      s.cancelled = true;
      sessions.delete(id);
      return { status: 499, body: "" };
    }
    if (req.method !== "PUT") return apiError(405, "PUT only");
    if (s.cancelled) return apiError(410, "The upload session was cancelled.");
    if (s.done) return json(200, resource(b, s.done));
    const incomplete = (): FakeResponse => ({
      status: 308,
      headers: { ...(s.committed > 0 ? { range: `bytes=0-${s.committed - 1}` } : {}), "x-guploader-uploadid": id, "content-length": "0" },
      body: "",
    });
    const rangeHeader = single(req.headers["content-range"]);
    let first = 0;
    let total: number | undefined;
    if (rangeHeader === undefined) {
      total = req.body.byteLength;
    } else {
      const status = /^bytes \*\/(\d+|\*)$/.exec(rangeHeader.trim());
      if (status) {
        if (req.body.byteLength > 0) return apiError(400, "a status query has no body");
        if (status[1] !== "*" && Number(status[1]) === s.committed) return complete(s, b, id);
        return incomplete();
      }
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(rangeHeader.trim());
      if (!m) return apiError(400, `Invalid Content-Range: ${rangeHeader}`);
      first = Number(m[1]);
      if (Number(m[2]) - first + 1 !== req.body.byteLength) return apiError(400, "Content-Range does not match the body length");
      total = m[3] === "*" ? undefined : Number(m[3]);
    }
    if (first > s.committed) return apiError(400, `Invalid request: bytes from ${s.committed} are missing`);
    const last = first + req.body.byteLength;
    const final = total !== undefined && last === total;
    if (!final && req.body.byteLength % CHUNK_UNIT !== 0) return apiError(400, "Invalid request. Chunks must be multiples of 256 KiB (262144 bytes), except the last.");
    const cut = takeCut("chunk");
    // Bytes already committed are ignored; the rest is appended.
    const fresh = req.body.subarray(Math.min(req.body.byteLength, s.committed - first), cut === undefined ? undefined : Math.min(req.body.byteLength, cut));
    if (cut !== undefined) {
      const kept = Math.max(0, Math.min(cut, req.body.byteLength) - (s.committed - first));
      const keptWhole = Math.floor((s.committed + kept) / CHUNK_UNIT) * CHUNK_UNIT - s.committed;
      if (keptWhole > 0) {
        s.data.push(Buffer.from(fresh.subarray(0, keptWhole)));
        s.committed += keptWhole;
      }
      return { status: 0, drop: true };
    }
    s.data.push(Buffer.from(fresh));
    s.committed += fresh.byteLength;
    if (!final) return incomplete();
    return complete(s, b, id);
  }

  function complete(s: Session, b: Bucket, id: string): FakeResponse {
    if (s.ifGenerationMatch !== null && (b.objects.get(s.name)?.generation ?? "0") !== s.ifGenerationMatch) {
      sessions.delete(id);
      return apiError(412, "At least one of the pre-conditions you specified did not hold.");
    }
    s.done = store(b, s.name, Buffer.concat(s.data), s.contentType);
    return json(200, resource(b, s.done));
  }

  // ---------------------------------------------------------------- buckets and batch

  function bucketsRoute(req: FakeRequest): FakeResponse {
    const denied = refuse(req, undefined, false);
    if (denied) return denied;
    const q = req.url.searchParams;
    const project = q.get("project");
    if (!project) return apiError(400, "Required parameter: project");
    if (req.method === "GET") {
      const names = [...buckets.values()].filter((b) => b.project === project).map((b) => b.name).sort();
      const max = Math.min(1000, Number(q.get("maxResults") ?? 1000) || 1000);
      const after = q.get("pageToken");
      const from = after === null ? 0 : names.findIndex((n) => n > after);
      const page = from < 0 ? [] : names.slice(from, from + max);
      const out: Record<string, unknown> = { kind: "storage#buckets", items: page.map((n) => bucketResource(buckets.get(n)!)) };
      if (from >= 0 && from + max < names.length) out.nextPageToken = page[page.length - 1];
      return json(200, out);
    }
    if (req.method === "POST") {
      let meta: Record<string, unknown>;
      try {
        meta = JSON.parse(req.body.toString("utf8"));
      } catch {
        return apiError(400, "bucket metadata is not JSON");
      }
      const name = String(meta.name ?? "");
      if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name)) return apiError(400, "Invalid bucket name");
      if (buckets.has(name)) return apiError(409, "Your previous request to create the named bucket succeeded and you already own it.");
      server.createBucket(name, { project });
      return json(200, bucketResource(buckets.get(name)!));
    }
    return apiError(405, "method not allowed");
  }

  function bucketRoute(req: FakeRequest, b: Bucket): FakeResponse {
    const denied = refuse(req, b, false);
    if (denied) return denied;
    if (req.method === "GET") return json(200, bucketResource(b));
    if (req.method === "DELETE") {
      if (b.objects.size > 0) return apiError(409, "The bucket you tried to delete is not empty.");
      buckets.delete(b.name);
      return { status: 204 };
    }
    return apiError(405, "method not allowed");
  }

  function batch(req: FakeRequest): FakeResponse {
    if (req.method !== "POST") return apiError(405, "POST only");
    const parts = multipartParts(req.body, single(req.headers["content-type"]) ?? "");
    if (parts.length === 0) return apiError(400, "a batch needs multipart/mixed parts");
    if (parts.length > 100) return apiError(400, "A batch request may hold at most 100 calls.");
    const boundary = `batch_${randomBytes(8).toString("hex")}`;
    const chunks: string[] = [];
    for (const part of parts) {
      const inner = parseInnerRequest(part.body);
      const headers = { ...inner.headers };
      if (headers.authorization === undefined && req.headers.authorization !== undefined) headers.authorization = single(req.headers.authorization)!;
      const sub: FakeRequest = { method: inner.method, url: new URL(inner.target, base), headers, body: inner.body, batched: true };
      const answer = handle(sub);
      const body = answer.body === undefined ? "" : answer.body.toString();
      const lines = [`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}`];
      for (const [k, v] of Object.entries(answer.headers ?? {})) lines.push(`${k}: ${v}`);
      lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      const id = part.headers["content-id"]?.replace(/^<?(.*?)>?$/, "$1") ?? "";
      chunks.push(`--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-${id}>\r\n\r\n${lines.join("\r\n")}\r\n\r\n${body}\r\n`);
    }
    chunks.push(`--${boundary}--\r\n`);
    return { status: 200, headers: { "content-type": `multipart/mixed; boundary=${boundary}` }, body: chunks.join("") };
  }

  // ---------------------------------------------------------------- routing

  function kindOf(req: FakeRequest): GcsRequestKind {
    const p = req.url.pathname;
    const q = req.url.searchParams;
    if (p === "/token") return "token";
    if (p.startsWith("/computeMetadata/")) return "metadata";
    if (p === "/batch/storage/v1") return "batch";
    if (p.startsWith("/upload/storage/v1/")) return q.has("upload_id") ? "chunk" : "upload";
    if (p.includes("/rewriteTo/")) return "rewrite";
    if (/^\/(download\/)?storage\/v1\/b\/[^/]+\/o\/./.test(p)) {
      if (req.method === "DELETE") return "delete";
      return q.get("alt") === "media" ? "media" : "get";
    }
    if (/^\/storage\/v1\/b\/[^/]+\/o\/?$/.test(p)) return "list";
    if (/^\/storage\/v1\/b(\/[^/]+)?\/?$/.test(p)) return "bucket";
    return "other";
  }

  function handle(req: FakeRequest): FakeResponse {
    const kind = kindOf(req);
    requests.push({ kind, method: req.method, path: req.url.pathname, query: req.url.searchParams, headers: req.headers, ...(req.batched ? { batched: true } : {}) });
    const fault = faults.find((f) => f.kind === kind && f.remaining > 0);
    if (fault) {
      fault.remaining--;
      return apiError(fault.status, `injected ${fault.status}`);
    }
    const p = req.url.pathname;
    if (kind === "token") return tokenEndpoint(req);
    if (kind === "metadata") return metadataEndpoint(req);
    if (kind === "batch") return batch(req);
    if (kind === "chunk") return sessionRoute(req, req.url.searchParams.get("upload_id")!);
    if (p === "/storage/v1/b" || p === "/storage/v1/b/") return bucketsRoute(req);
    const m = /^\/(?:upload\/|download\/)?storage\/v1\/b\/([^/]+)(?:\/o(?:\/(.*))?)?$/.exec(p);
    if (!m) return apiError(404, "Not Found");
    const b = buckets.get(decodeURIComponent(m[1]!));
    if (!b) return apiError(404, "The specified bucket does not exist.");
    if (kind === "upload") {
      if (req.method !== "POST") return apiError(405, "POST only");
      return upload(req, b);
    }
    if (m[2] !== undefined && m[2] !== "") return objectRoute(req, b, m[2]);
    if (p.includes("/o")) {
      if (req.method !== "GET") return apiError(405, "method not allowed");
      const denied = refuse(req, b, true);
      return denied ?? listObjects(b, req.url.searchParams);
    }
    return bucketRoute(req, b);
  }

  function send(res: ServerResponse, answer: FakeResponse): void {
    if (answer.drop) {
      res.socket?.destroy();
      return;
    }
    const body = answer.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body);
    const headers = { ...answer.headers };
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-length")) headers["content-length"] = String(body.byteLength);
    res.writeHead(answer.status, STATUS_CODES[answer.status] ?? "", headers);
    if (answer.cutAfter !== undefined) {
      res.write(body.subarray(0, answer.cutAfter), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let answer: FakeResponse;
      try {
        answer = handle({ method: req.method ?? "GET", url: new URL(req.url ?? "/", base), headers: req.headers, body: Buffer.concat(chunks) });
      } catch (err) {
        answer = apiError(500, `fake server failure: ${(err as Error).message}`);
      }
      send(res, answer);
    });
  });
  http.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  const server: TestGcsServer = {
    url: base,
    tokenUri: `${base}/token`,
    metadataHost: `127.0.0.1:${port}`,
    requests,
    issuedTokens,
    createBucket(name, o = {}) {
      buckets.set(name, { name, project: o.project ?? "test-project", public: o.public ?? false, created: new Date(), objects: new Map() });
    },
    putObject(bucket, name, data, o = {}) {
      const b = buckets.get(bucket);
      if (!b) throw new Error(`no bucket ${bucket}`);
      return store(b, name, typeof data === "string" ? Buffer.from(data) : data, o.contentType ?? "application/octet-stream");
    },
    getObject: (bucket, name) => buckets.get(bucket)?.objects.get(name),
    deleteObject: (bucket, name) => void buckets.get(bucket)?.objects.delete(name),
    objectNames: (bucket) => [...(buckets.get(bucket)?.objects.keys() ?? [])].sort(),
    addAccessToken: (token) => void accessTokens.set(token, { expires: Infinity }),
    addServiceAccount: (email, pem) => void serviceAccounts.set(email, createPublicKey(pem)),
    addAuthorizedUser: (clientId, clientSecret, refreshToken) => void authorizedUsers.set(refreshToken, { clientId, clientSecret }),
    revokeTokens: () => accessTokens.clear(),
    setTokenLifetimeMs: (ms) => void (tokenLifetimeMs = ms),
    setRewriteBytesPerCall: (n) => void (rewriteBytesPerCall = n),
    failNext: (kind, status, times = 1) => void faults.push({ kind, status, remaining: times }),
    cutNext: (kind, bytes) => void cuts.push({ kind, bytes }),
    openSessions: () => [...sessions.values()].filter((s) => !s.done && !s.cancelled).length,
    count: (kind) => (kind === undefined ? requests.length : requests.filter((r) => r.kind === kind).length),
    resetCounts: () => void (requests.length = 0),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
