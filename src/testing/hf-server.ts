/**
 * A small Hugging Face Hub on node:http (127.0.0.1, ephemeral port) speaking the real API's
 * shapes, for the `hf` backend's tests:
 *
 * - `GET /api/{models|datasets|spaces}/{ns}/{name}/revision/{rev}[?blobs=true]` -> `{id, sha, siblings}`
 *   (with `blobs`, each sibling's `size`, `blobId` and `lfs: {sha256, size, pointerSize}`)
 * - `GET /api/{...}/{ns}/{name}/tree/{rev}[/{dir}][?recursive=true]` -> `[{type, path, size, oid, lfs?}]`,
 *   paginated (`pageSize` entries, `Link: <...cursor=N>; rel="next"`)
 * - `GET|HEAD /[datasets/|spaces/]{ns}/{name}/resolve/{rev}/{path}`: `X-Repo-Commit` always;
 *   regular files answered in place (ranges, `ETag` = git blob id); LFS files redirected (302,
 *   with `X-Linked-Etag` = sha256 and `X-Linked-Size`) to `http://localhost:{port}/cdn/lfs/{sha256}?sig=...`:
 *   this same server under another host name, as the real CDN is another host (so clients that
 *   follow only same-host redirects, like huggingface_hub's HEAD, stop at the redirect). The CDN
 *   serves ranges with `ETag: "<sha256 of the bytes served>"`; it refuses a signature (403) after
 *   `expireCdnUrls()`, or past its `Expires` with `cdnExpiresIn`.
 * - 404 with `X-Error-Code: RepoNotFound | RevisionNotFound | EntryNotFound` (a missing file at a
 *   known commit also names the commit in `X-Repo-Commit`); gated repos answer 401 `GatedRepo`
 *   and private ones 401 `RepoNotFound` without a valid bearer token.
 *
 * Repos are snapshots per commit; branches (any name, `refs/pr/1` too) point at commits. Every
 * request is recorded; `breakNext` cuts bodies short, `tamper` serves other bytes for an object and
 * `hold` keeps a GET waiting until released.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A file of a test Hub commit: its content (strings as UTF-8), stored in LFS when given as `{data, lfs:
 * true}` or when at least `lfsThreshold` bytes.
 */
export type HfFileSpec = string | Uint8Array | { data: string | Uint8Array; lfs: boolean };

/** Options of `startHfServer`. */
export interface HfServerOptions {
  /** CDN URLs carry `Expires=<now + this many seconds>` (CloudFront's form) and are refused after it. */
  cdnExpiresIn?: number;
  /** Entries per tree page (default 2, so listings paginate). */
  pageSize?: number;
  /** Bearer tokens that open gated and private repos (default ["hf_test_token"]). */
  tokens?: string[];
  /** Files of at least this many bytes are stored in LFS (default: only those marked `lfs`). */
  lfsThreshold?: number;
  /** Origin written into next-page links (default: the Host asked for). */
  linkOrigin?: string;
}

/** One request the test Hub received. */
export interface HfRecordedRequest {
  /** The HTTP method. */
  method: string;
  /** Raw pathname (still percent-encoded). */
  path: string;
  /** The raw request target (path and query). */
  url: string;
  /**
   * What it asked for: the API (revisions, trees), a `resolve` URL, the CDN (LFS bytes) or anything
   * else.
   */
  kind: "api" | "resolve" | "cdn" | "other";
  /** The request headers. */
  headers: IncomingMessage["headers"];
}

/**
 * A running test Hub (`startHfServer`): its repos, commits and the requests it saw. Point
 * `HuggingFaceFileSystem` at it with `endpoint: server.url`.
 */
export interface TestHfServer {
  /** `http://127.0.0.1:<port>`, the `endpoint` to give the hf backend. */
  url: string;
  /** Where the CDN is: this server under another host name (another origin). */
  cdnUrl: string;
  /** Every CDN URL handed out so far is refused (403) from now on. */
  expireCdnUrls(): void;
  /** `org/name`, `datasets/org/name` or `spaces/org/name`, with one empty commit on `main`. */
  createRepo(key: string, access?: { gated?: boolean; private?: boolean }): string;
  /** A new commit on `branch` (default main; a new branch starts from main): files set, `null` deletes. Returns its sha. */
  commit(key: string, files: Record<string, HfFileSpec | null>, branch?: string): string;
  /** Where a branch points now. */
  head(key: string, branch?: string): string;
  /** From now on, other bytes for an object: the LFS object `oid` (a sha256) at the CDN, or the regular file whose git blob id is `oid`. */
  tamper(oid: string, data: Uint8Array): void;
  /** The next `times` GETs whose path contains `match` send `afterBytes` bytes of their body, then hang up. */
  breakNext(match: string, afterBytes: number, times?: number): void;
  /** File bodies (CDN and resolve) go at about this many bytes a second each from now on; undefined: at once. */
  throttle(bytesPerSec: number | undefined): void;
  /** The next GET whose path contains `match` is answered only once the returned function is called. */
  hold(match: string): () => void;
  /** Every request received since the last `resetCounts`, in order. */
  requests: HfRecordedRequest[];
  /** How many requests (of `kind`, when given) since the last `resetCounts`. */
  count(kind?: HfRecordedRequest["kind"]): number;
  /** Forget the recorded requests. */
  resetCounts(): void;
  /** Stop the server and drop its connections. */
  close(): Promise<void>;
}

interface Blob {
  data: Uint8Array;
  oid: string;
  /** sha256 of the content, for LFS files. */
  lfs?: string;
}

interface Repo {
  gated: boolean;
  private: boolean;
  commits: Map<string, Map<string, Blob>>;
  branches: Map<string, string>;
}

const PLURAL: Record<string, string> = { models: "model", datasets: "dataset", spaces: "space" };
const sha1 = (data: Uint8Array | string) => createHash("sha1").update(data).digest("hex");
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const bytes = (v: string | Uint8Array) => (typeof v === "string" ? new TextEncoder().encode(v) : v);

/** `datasets/org/name` -> `dataset:org/name`; `org/name` -> `model:org/name`. */
function repoKey(key: string): string {
  const parts = key.split("/");
  const type = parts.length === 3 ? PLURAL[parts[0]!] : "model";
  if (!type || parts.length < 2 || parts.length > 3) throw new Error(`bad repo key ${key}`);
  return `${type}:${parts.slice(-2).join("/")}`;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Start a test Hugging Face Hub on 127.0.0.1 (a free port), speaking the API subset the hf backend
 * uses: revisions, paginated trees, `resolve` URLs with LFS redirects to its own CDN path, gated and
 * private repos.
 */
export async function startHfServer(options: HfServerOptions = {}): Promise<TestHfServer> {
  const pageSize = options.pageSize ?? 2;
  const tokens = new Set((options.tokens ?? ["hf_test_token"]).map((t) => `Bearer ${t}`));
  const repos = new Map<string, Repo>();
  const lfsStore = new Map<string, Uint8Array>();
  const tampered = new Map<string, Uint8Array>();
  const breaks: Array<{ match: string; afterBytes: number; times: number }> = [];
  let rate: number | undefined;
  const holds: Array<{ match: string; released: Promise<void> }> = [];
  let signatures = 0;
  let expiredUpTo = 0;
  const requests: HfRecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let commits = 0;

  function repoOf(key: string): Repo {
    const repo = repos.get(repoKey(key));
    if (!repo) throw new Error(`no repo ${key}`);
    return repo;
  }

  function commit(key: string, files: Record<string, HfFileSpec | null>, branch = "main"): string {
    const repo = repoOf(key);
    const base = repo.commits.get(repo.branches.get(branch) ?? repo.branches.get("main")!)!;
    const tree = new Map(base);
    for (const [path, spec] of Object.entries(files)) {
      if (spec === null) {
        tree.delete(path);
        continue;
      }
      const data = bytes(typeof spec === "object" && "lfs" in spec ? spec.data : spec);
      const lfs = (typeof spec === "object" && "lfs" in spec && spec.lfs) || data.byteLength >= (options.lfsThreshold ?? Infinity);
      const blob: Blob = { data, oid: sha1(Buffer.concat([Buffer.from(`blob ${data.byteLength}\0`), data])) };
      if (lfs) lfsStore.set((blob.lfs = sha256(data)), data);
      tree.set(path, blob);
    }
    const sha = sha1(`${key}\0${branch}\0${++commits}`);
    repo.commits.set(sha, tree);
    repo.branches.set(branch, sha);
    return sha;
  }

  // ------------------------------------------------------------ responses

  function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Uint8Array | string = ""): void {
    const data = bytes(body);
    res.writeHead(status, { "Content-Length": String(data.byteLength), ...headers });
    res.end(res.req.method === "HEAD" ? undefined : data);
  }

  function json(res: ServerResponse, value: unknown, headers: OutgoingHttpHeaders = {}): void {
    send(res, 200, { "Content-Type": "application/json", ...headers }, JSON.stringify(value));
  }

  function hubError(res: ServerResponse, status: number, code: string, message: string, headers: OutgoingHttpHeaders = {}): void {
    send(res, status, { ...headers, "Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": message }, JSON.stringify({ error: message }));
  }

  /** `body` in slices, each after its share of time at `bytesPerSec`; stops when the client goes. */
  async function writePaced(res: ServerResponse, body: Uint8Array, bytesPerSec: number): Promise<void> {
    const step = Math.max(1, Math.floor(bytesPerSec / 20));
    for (let off = 0; off < body.byteLength && !res.destroyed; off += step) {
      if (!res.write(body.subarray(off, off + step))) await new Promise((resolve) => (res.once("drain", resolve), res.once("close", resolve)));
      await new Promise((resolve) => setTimeout(resolve, (1000 * step) / bytesPerSec).unref());
    }
    res.end();
  }

  /** File bytes with single ranges, If-Range, and the injected breaks. */
  function serveBytes(req: IncomingMessage, res: ServerResponse, data: Uint8Array, etag: string, headers: OutgoingHttpHeaders): void {
    const all = { ...headers, ETag: etag, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream" };
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    const ifRange = req.headers["if-range"];
    let start = 0;
    let end = data.byteLength;
    let status = 200;
    if (m && (m[1] !== "" || m[2] !== "") && (ifRange === undefined || ifRange === etag)) {
      start = m[1] === "" ? Math.max(0, data.byteLength - Number(m[2])) : Number(m[1]);
      end = m[1] === "" || m[2] === "" ? data.byteLength : Math.min(data.byteLength, Number(m[2]) + 1);
      if (start >= data.byteLength) return send(res, 416, { ...all, "Content-Range": `bytes */${data.byteLength}` });
      status = 206;
      Object.assign(all, { "Content-Range": `bytes ${start}-${end - 1}/${data.byteLength}` });
    }
    const body = data.subarray(start, end);
    const cut = req.method === "GET" ? breaks.find((b) => req.url!.includes(b.match)) : undefined;
    if (!cut && rate !== undefined && req.method === "GET") {
      res.writeHead(status, { ...all, "Content-Length": String(body.byteLength) });
      void writePaced(res, body, rate);
      return;
    }
    if (!cut) return send(res, status, all, body);
    if (--cut.times <= 0) breaks.splice(breaks.indexOf(cut), 1);
    res.writeHead(status, { ...all, "Content-Length": String(body.byteLength) });
    res.write(body.subarray(0, cut.afterBytes));
    const sock = res.socket;
    sock?.end(() => sock.destroy());
  }

  // ------------------------------------------------------------ routes

  /** The repo, after its access check; undefined when the answer was sent already. */
  function access(req: IncomingMessage, res: ServerResponse, type: string, id: string): Repo | undefined {
    const repo = repos.get(`${type}:${id}`);
    if (!repo) return void hubError(res, 404, "RepoNotFound", "Repository not found");
    if ((repo.gated || repo.private) && !tokens.has(String(req.headers.authorization))) {
      if (repo.private) return void hubError(res, 401, "RepoNotFound", "Repository not found");
      return void hubError(res, 401, "GatedRepo", `Access to ${type} ${id} is restricted. You must be authenticated to access it.`);
    }
    return repo;
  }

  function snapshot(res: ServerResponse, repo: Repo, revision: string): [string, Map<string, Blob>] | undefined {
    const sha = repo.branches.get(revision) ?? (repo.commits.has(revision) ? revision : undefined);
    if (sha === undefined) return void hubError(res, 404, "RevisionNotFound", `Invalid rev id: ${revision}`);
    return [sha, repo.commits.get(sha)!];
  }

  function tree(req: IncomingMessage, res: ServerResponse, files: Map<string, Blob>, dir: string, url: URL): void {
    const prefix = dir === "" ? "" : `${dir}/`;
    const recursive = url.searchParams.get("recursive") === "true";
    const entries = new Map<string, unknown>();
    for (const [path, blob] of files) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      // Directories on the way (only the first level unless recursive), then the file itself.
      for (let slash = rest.indexOf("/"); slash >= 0; slash = recursive ? rest.indexOf("/", slash + 1) : -1) {
        const sub = prefix + rest.slice(0, slash);
        entries.set(sub, { type: "directory", oid: sha1(sub), size: 0, path: sub });
      }
      if (!recursive && rest.includes("/")) continue;
      const lfs = blob.lfs ? { lfs: { oid: blob.lfs, size: blob.data.byteLength, pointerSize: 134 } } : {};
      entries.set(path, { type: "file", oid: blob.oid, size: blob.data.byteLength, path, ...lfs });
    }
    // Like the Hub: the tree of a file, or of nothing, is "not found".
    if (dir !== "" && entries.size === 0) return hubError(res, 404, "EntryNotFound", `${dir} does not exist on the revision`);
    const sorted = [...entries.keys()].sort().map((k) => entries.get(k));
    const cursor = Number(url.searchParams.get("cursor") ?? 0);
    const page = sorted.slice(cursor, cursor + pageSize);
    const more = cursor + pageSize < sorted.length;
    url.searchParams.set("cursor", String(cursor + pageSize));
    json(res, page, more ? { Link: `<${options.linkOrigin ?? `http://${req.headers.host}`}${url.pathname}${url.search}>; rel="next"` } : {});
  }

  function api(req: IncomingMessage, res: ServerResponse, seg: string[], url: URL): void {
    const [, plural, ns, name, op, rawRev, ...rest] = seg;
    const type = PLURAL[plural ?? ""];
    if (!type || !ns || !name || (op !== "revision" && op !== "tree") || rawRev === undefined) return send(res, 404, {}, "Not Found");
    const repo = access(req, res, type, `${ns}/${name}`);
    const snap = repo && snapshot(res, repo, decode(rawRev));
    if (!snap) return;
    if (op === "revision") {
      // `blobs=true`: each sibling with its size, blob id and LFS metadata (huggingface_hub's files_metadata).
      const blobs = url.searchParams.get("blobs") === "true";
      const siblings = [...snap[1].entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([rfilename, blob]) =>
        !blobs ? { rfilename }
        : { rfilename, size: blob.data.byteLength, blobId: blob.oid, ...(blob.lfs ? { lfs: { sha256: blob.lfs, size: blob.data.byteLength, pointerSize: 134 } } : {}) },
      );
      return json(res, { id: `${ns}/${name}`, sha: snap[0], siblings });
    }
    return tree(req, res, snap[1], rest.map(decode).filter((s) => s !== "").join("/"), url);
  }

  function resolve(req: IncomingMessage, res: ServerResponse, seg: string[]): void {
    const type = PLURAL[seg[0]!] ?? "model";
    const [ns, name, op, rawRev, ...rest] = type === "model" ? seg : seg.slice(1);
    if (!ns || !name || op !== "resolve" || rawRev === undefined) return send(res, 404, {}, "Not Found");
    const repo = access(req, res, type, `${ns}/${name}`);
    const snap = repo && snapshot(res, repo, decode(rawRev));
    if (!snap) return;
    const path = rest.map(decode).join("/");
    const blob = snap[1].get(path);
    const common = { "X-Repo-Commit": snap[0] };
    if (!blob) return hubError(res, 404, "EntryNotFound", `${path} does not exist on the revision`, common);
    if (!blob.lfs) return serveBytes(req, res, tampered.get(blob.oid) ?? blob.data, `"${blob.oid}"`, common);
    const expires = options.cdnExpiresIn === undefined ? "" : `&Expires=${Math.floor(Date.now() / 1000) + options.cdnExpiresIn}`;
    send(res, 302, {
      ...common,
      Location: `http://localhost:${port}/cdn/lfs/${blob.lfs}?sig=cdn-${++signatures}${expires}`,
      ETag: `"${blob.lfs}"`,
      "X-Linked-Etag": `"${blob.lfs}"`,
      "X-Linked-Size": String(blob.data.byteLength),
    });
  }

  function cdn(req: IncomingMessage, res: ServerResponse, oid: string, url: URL): void {
    const serial = Number(/^cdn-(\d+)$/.exec(url.searchParams.get("sig") ?? "")?.[1] ?? 0);
    const expires = url.searchParams.get("Expires");
    if (serial === 0 || serial <= expiredUpTo || (expires !== null && Date.now() / 1000 > Number(expires))) {
      return send(res, 403, { "Content-Type": "application/xml" }, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
    }
    const data = tampered.get(oid) ?? lfsStore.get(oid);
    if (!data) return send(res, 404, {}, "NoSuchKey");
    serveBytes(req, res, data, `"${sha256(data)}"`, {});
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const seg = url.pathname.split("/").slice(1);
    const kind: HfRecordedRequest["kind"] = seg[0] === "api" ? "api" : seg[0] === "cdn" ? "cdn" : seg.includes("resolve") ? "resolve" : "other";
    requests.push({ method: req.method ?? "GET", path: url.pathname, url: req.url ?? "/", kind, headers: req.headers });
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { Allow: "GET, HEAD" });
    const held = req.method === "GET" ? holds.findIndex((h) => req.url!.includes(h.match)) : -1;
    if (held >= 0) {
      const { released } = holds.splice(held, 1)[0]!;
      void released.then(() => route(req, res, seg, url, kind));
      return;
    }
    route(req, res, seg, url, kind);
  }

  function route(req: IncomingMessage, res: ServerResponse, seg: string[], url: URL, kind: HfRecordedRequest["kind"]): void {
    if (kind === "api") return api(req, res, seg, url);
    if (kind === "cdn") return cdn(req, res, seg[2] ?? "", url);
    return resolve(req, res, seg);
  }

  const server = createServer(handle);
  server.on("connection", (sock) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    cdnUrl: `http://localhost:${port}`,
    expireCdnUrls: () => void (expiredUpTo = signatures),
    createRepo(key, access = {}) {
      const k = repoKey(key);
      if (repos.has(k)) throw new Error(`repo ${key} exists`);
      repos.set(k, { gated: access.gated ?? false, private: access.private ?? false, commits: new Map(), branches: new Map() });
      const sha = sha1(`${key}\0initial`);
      repos.get(k)!.commits.set(sha, new Map());
      repos.get(k)!.branches.set("main", sha);
      return sha;
    },
    commit,
    head: (key, branch = "main") => repoOf(key).branches.get(branch)!,
    tamper: (oid, data) => void tampered.set(oid, data),
    breakNext: (match, afterBytes, times = 1) => void breaks.push({ match, afterBytes, times }),
    throttle: (bytesPerSec) => void (rate = bytesPerSec),
    hold(match) {
      let release!: () => void;
      holds.push({ match, released: new Promise<void>((ok) => (release = ok)) });
      return () => release();
    },
    requests,
    count: (kind) => requests.filter((r) => kind === undefined || r.kind === kind).length,
    resetCounts: () => void (requests.length = 0),
    close() {
      closing ??= new Promise<void>((ok, fail) => {
        server.close((err) => (err ? fail(err) : ok()));
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
