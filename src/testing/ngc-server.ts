/**
 * A local stand-in for the NGC model registry on 127.0.0.1, speaking its API shapes:
 *
 * - `GET /authn/token?service=ngc&scope=group/ngc:<org>[&scope=group/ngc:<org>/<team>]` with Basic
 *   `$oauthtoken:<key>` -> `{token, expires_in}` (authUrl = `${url}authn/`);
 * - public lookup `GET /v2/models/[org/<org>/][team/<team>/]<name>/<version>/files?path=<p>` and
 *   authenticated lookup `GET /v2/[org/<org>/][team/<team>/]models/<name>/<version>/files?path=<p>`
 *   -> `{urls: [presigned]}`;
 * - the older listing `GET /v2/models/[<org>/][<team>/]<name>/versions/<version>/files/[?page-number=N]`
 *   -> `{modelFiles: [{path, sizeInBytes}], paginationInfo}`;
 * - presigned downloads `GET /dl/<blob>?X-Amz-Expires=..&n=..&X-Amz-Signature=..`: the signature
 *   is checked (stale or forged: 403), then the request is passed to `storage`, a TestHttpServer
 *   holding the bytes (ranges, ETags, and its injectable faults).
 *
 * Private models need a valid token whose scope names their org. Tokens stay valid until
 * `revokeTokens()`, presigned URLs until `expireUrls()` (or `urlTtlMs`): nothing here depends
 * on timing. Every request is recorded with its kind.
 */
import { createHmac, randomBytes } from "node:crypto";
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { startHttpServer, type TestHttpServer } from "./http-server.js";

/** What a request to the test NGC registry asked for. */
export type NgcRequestKind = "token" | "lookup" | "listing" | "download" | "other";

/** One request the test NGC registry received. */
export interface NgcRequest {
  /** What it asked for. */
  kind: NgcRequestKind;
  /** The HTTP method. */
  method: string;
  /** Decoded pathname. */
  path: string;
  /** Raw target (path and query). */
  url: string;
  /** The request headers. */
  headers: Record<string, string | string[] | undefined>;
  /** For lookups: which endpoint answered. */
  endpoint?: "public" | "authenticated";
}

/** How one model version of the test registry behaves (`addFiles`). */
export interface NgcVersionOptions {
  /** Needs a token whose scope names the model's org. */
  private?: boolean;
  /** false: the listing endpoint answers 404 for this version. */
  listing?: boolean;
  /** false: the listing gives paths without sizes. */
  sizes?: boolean;
}

/** Options of `startNgcServer`. */
export interface NgcServerOptions {
  /** API keys the token endpoint accepts. */
  apiKeys?: string[];
  /** Milliseconds tokens live (default one hour); the token endpoint reports it as `expires_in`, in whole seconds. */
  tokenLifetimeMs?: number;
  /** Presigned URLs also expire after this long (default one hour). */
  urlTtlMs?: number;
  /** Files per listing page (default 1000). */
  pageSize?: number;
  /** false: no version has a listing (the endpoint answers 404). */
  listing?: boolean;
}

/**
 * A running test NGC registry (`startNgcServer`): its models, tokens, presigned downloads and the
 * requests it saw. Point `NGCFileSystem` at it with `baseUrl: server.url, authUrl: server.authUrl`.
 */
export interface TestNgcServer {
  /** Base URL of the API, with a trailing slash (`baseUrl`). */
  url: string;
  /** Base URL of the token service (`authUrl`). */
  authUrl: string;
  /** Where the bytes are: inject download faults here (paths from `blobPath`). */
  storage: TestHttpServer;
  /** Every request received since the last `resetCounts`, in order. */
  requests: NgcRequest[];
  /** Add files to a version (`models/[org/[team/]]name@version`), creating it if needed. */
  addFiles(root: string, files: Record<string, Uint8Array | string>, options?: NgcVersionOptions): void;
  /** Remove one file from a version. */
  removeFile(root: string, path: string): void;
  /** The storage path that holds a file's bytes. */
  blobPath(root: string, path: string): string;
  /** Every token issued so far is refused from now on (401). */
  revokeTokens(): void;
  /** Every presigned URL handed out so far is refused from now on (403). */
  expireUrls(): void;
  /** The next `times` requests of `kind` are answered with `status`. */
  failNext(kind: NgcRequestKind, status: number, times?: number): void;
  /** Milliseconds the tokens issued from now on live (reported as `expires_in`, whole seconds). */
  setTokenLifetimeMs(ms: number): void;
  /** How many requests (of `kind`, when given) since the last `resetCounts`. */
  count(kind?: NgcRequestKind): number;
  /** Forget the recorded requests. */
  resetCounts(): void;
  /** Stop the registry and its storage server. */
  close(): Promise<void>;
}

interface Version {
  private: boolean;
  listing: boolean;
  sizes: boolean;
  org: string | undefined;
  files: Map<string, Uint8Array>;
}

interface Token {
  scopes: string[];
  revoked: boolean;
}

const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");

function rootOf(org: string | undefined, team: string | undefined, name: string, version: string): string {
  return ["models", org, team, `${name}@${version}`].filter((s) => s !== undefined).join("/");
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function notFound(res: ServerResponse, what: string): void {
  json(res, 404, { requestStatus: { statusCode: "NOT_FOUND", statusDescription: `${what} could not be found` } });
}

/**
 * Start a test NGC registry on 127.0.0.1 (free ports): the token service, file lookups with presigned
 * URLs, version listings and a storage server for the bytes.
 */
export async function startNgcServer(options: NgcServerOptions = {}): Promise<TestNgcServer> {
  const storage = await startHttpServer();
  const secret = randomBytes(16).toString("hex");
  const versions = new Map<string, Version>();
  const tokens = new Map<string, Token>();
  const requests: NgcRequest[] = [];
  const faults: Array<{ kind: NgcRequestKind; status: number; remaining: number }> = [];
  const sockets = new Set<Socket>();
  const agent = new Agent({ keepAlive: true });
  const apiKeys = new Set(options.apiKeys ?? []);
  const pageSize = options.pageSize ?? 1000;
  const urlTtlMs = options.urlTtlMs ?? 3_600_000;
  let tokenLifetimeMs = options.tokenLifetimeMs ?? 3_600_000;
  let serial = 0;
  let expiredUpTo = 0;
  let base = "";

  const blobPath = (root: string, path: string) => `/blobs/${root}/${path}`;
  const sign = (blob: string, expires: number, n: number) => createHmac("sha256", secret).update(`${blob}\n${expires}\n${n}`).digest("hex");

  function presign(blob: string): string {
    const n = ++serial;
    const expires = Date.now() + urlTtlMs;
    return `${base}dl${encodePath(blob)}?X-Amz-Expires=${expires}&n=${n}&X-Amz-Signature=${sign(blob, expires, n)}`;
  }

  /** undefined: allowed; else the status to refuse with. */
  function refusal(req: IncomingMessage, v: Version, needToken: boolean): number | undefined {
    if (!v.private && !needToken) return undefined;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    const token = m ? tokens.get(m[1]!) : undefined;
    if (!token || token.revoked) return 401;
    if (v.org !== undefined && !token.scopes.includes(`group/ngc:${v.org}`)) return 403;
    return undefined;
  }

  function issueToken(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
    const decoded = basic ? Buffer.from(basic[1]!, "base64").toString("utf8") : "";
    const key = decoded.startsWith("$oauthtoken:") ? decoded.slice("$oauthtoken:".length) : undefined;
    if (key === undefined || !apiKeys.has(key)) return json(res, 401, { requestStatus: { statusCode: "UNAUTHORIZED" } });
    if (query.get("service") !== "ngc") return json(res, 400, { requestStatus: { statusCode: "BAD_REQUEST" } });
    const token = `tok-${randomBytes(12).toString("hex")}`;
    tokens.set(token, { scopes: query.getAll("scope"), revoked: false });
    json(res, 200, { token, expires_in: Math.round(tokenLifetimeMs / 1000) });
  }

  function lookup(req: IncomingMessage, res: ServerResponse, root: string, path: string, authenticated: boolean): void {
    const v = versions.get(root);
    if (!v) return notFound(res, `Model version '${root}'`);
    const refused = refusal(req, v, authenticated);
    if (refused) return json(res, refused, { requestStatus: { statusCode: refused === 401 ? "UNAUTHORIZED" : "FORBIDDEN" } });
    if (!v.files.has(path)) return notFound(res, `File '${path}'`);
    json(res, 200, { urls: [presign(blobPath(root, path))], requestStatus: { statusCode: "SUCCESS" } });
  }

  function listing(req: IncomingMessage, res: ServerResponse, root: string, query: URLSearchParams): void {
    const v = versions.get(root);
    if (!v || !v.listing || options.listing === false) return notFound(res, `Model version '${root}'`);
    const refused = refusal(req, v, false);
    if (refused) return json(res, refused, { requestStatus: { statusCode: "UNAUTHORIZED" } });
    const all = [...v.files].sort(([a], [b]) => (a < b ? -1 : 1));
    const page = Number(query.get("page-number") ?? 0);
    const modelFiles = all.slice(page * pageSize, (page + 1) * pageSize).map(([path, data]) => (v.sizes ? { path, sizeInBytes: data.byteLength } : { path }));
    const totalPages = Math.max(1, Math.ceil(all.length / pageSize));
    json(res, 200, { modelFiles, paginationInfo: { index: page, size: pageSize, totalPages }, requestStatus: { statusCode: "SUCCESS" } });
  }

  /** Check the signature, then hand the request to the storage server. */
  function download(req: IncomingMessage, res: ServerResponse, blob: string, query: URLSearchParams): void {
    const expires = Number(query.get("X-Amz-Expires"));
    const n = Number(query.get("n"));
    const sig = query.get("X-Amz-Signature") ?? "";
    if (sig !== sign(blob, expires, n) || n <= expiredUpTo || Date.now() >= expires) {
      const body = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
      res.writeHead(403, { "Content-Type": "application/xml", "Content-Length": body.length });
      res.end(body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ["range", "if-range"]) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
    const up = httpRequest({ host: "127.0.0.1", port: storage.port, method: req.method, path: encodePath(blob), headers, agent }, (ures) => {
      const out = { ...ures.headers };
      delete out.connection;
      delete out["keep-alive"];
      res.writeHead(ures.statusCode ?? 502, out);
      ures.pipe(res);
      // Storage broke off (an injected reset): so does this answer.
      ures.once("close", () => {
        if (!ures.complete) res.destroy();
      });
    });
    up.once("error", () => res.destroy());
    res.once("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end();
  }

  function classify(path: string): { kind: NgcRequestKind; endpoint?: "public" | "authenticated"; root?: string; blob?: string } {
    if (path === "/authn/token") return { kind: "token" };
    if (path.startsWith("/dl/")) return { kind: "download", blob: path.slice(3) };
    const segs = path.split("/").slice(1);
    if (segs[0] !== "v2") return { kind: "other" };
    // Listing: v2/models/[org/][team/]name/versions/version/files/
    const li = segs.lastIndexOf("versions");
    if (segs[1] === "models" && li >= 3 && segs[li + 2] === "files" && segs.length <= li + 4) {
      const owners = segs.slice(2, li - 1);
      if (owners.length <= 2) return { kind: "listing", root: rootOf(owners[0], owners[1], segs[li - 1]!, segs[li + 1]!) };
    }
    if (segs[segs.length - 1] !== "files" || segs.length < 5) return { kind: "other" };
    const [name, version] = [segs[segs.length - 3]!, segs[segs.length - 2]!];
    const between = segs.slice(1, segs.length - 3);
    // Authenticated: v2/[org/o/][team/t/]models/name/version/files; public: v2/models/[org/o/][team/t/]name/version/files.
    const authed = between[between.length - 1] === "models" && between[0] !== "models";
    const owners = authed ? between.slice(0, -1) : between.slice(1);
    const org = owners[0] === "org" ? owners[1] : undefined;
    const team = owners[2] === "team" ? owners[3] : undefined;
    const expected = (org ? 2 : 0) + (team ? 2 : 0);
    if (owners.length !== expected || (!authed && between[0] !== "models")) return { kind: "other" };
    return { kind: "lookup", endpoint: authed ? "authenticated" : "public", root: rootOf(org, team, name, version) };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.url ?? "/";
    const url = new URL(`http://127.0.0.1${raw.startsWith("/") ? raw : `/${raw}`}`);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    const c = classify(path);
    requests.push({ kind: c.kind, method: req.method ?? "GET", path, url: raw, headers: req.headers, ...(c.endpoint ? { endpoint: c.endpoint } : {}) });
    const f = faults.findIndex((x) => x.kind === c.kind);
    if (f >= 0) {
      const fault = faults[f]!;
      if (--fault.remaining <= 0) faults.splice(f, 1);
      return json(res, fault.status, { requestStatus: { statusCode: "INJECTED", statusDescription: `injected ${fault.status}` } });
    }
    if (req.method !== "GET" && !(req.method === "HEAD" && c.kind === "download")) return json(res, 405, {});
    switch (c.kind) {
      case "token":
        return issueToken(req, res, url.searchParams);
      case "lookup":
        return lookup(req, res, c.root!, url.searchParams.get("path") ?? "", c.endpoint === "authenticated");
      case "listing":
        return listing(req, res, c.root!, url.searchParams);
      case "download":
        return download(req, res, c.blob!, url.searchParams);
      default:
        return notFound(res, path);
    }
  }

  const server = createServer(handle);
  server.on("connection", (sock) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let closing: Promise<void> | undefined;

  return {
    url: base,
    authUrl: `${base}authn/`,
    storage,
    requests,
    addFiles(root, files, opts = {}) {
      const m = /^models\/(?:([\w-]+)\/)?(?:([\w-]+)\/)?([\w-]+)@([A-Za-z0-9.]+)$/.exec(root);
      if (!m) throw new Error(`not a model version root: ${root}`);
      let v = versions.get(root);
      if (!v) versions.set(root, (v = { private: false, listing: true, sizes: true, org: m[1], files: new Map() }));
      if (opts.private !== undefined) v.private = opts.private;
      if (opts.listing !== undefined) v.listing = opts.listing;
      if (opts.sizes !== undefined) v.sizes = opts.sizes;
      for (const [path, data] of Object.entries(files)) {
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        v.files.set(path, bytes);
        storage.setFile(blobPath(root, path), bytes);
      }
    },
    removeFile(root, path) {
      versions.get(root)?.files.delete(path);
      storage.deleteFile(blobPath(root, path));
    },
    blobPath,
    revokeTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    expireUrls() {
      expiredUpTo = serial;
    },
    failNext(kind, status, times = 1) {
      faults.push({ kind, status, remaining: times });
    },
    setTokenLifetimeMs(ms) {
      tokenLifetimeMs = ms;
    },
    count(kind) {
      return requests.filter((r) => kind === undefined || r.kind === kind).length;
    },
    resetCounts() {
      requests.length = 0;
      storage.resetCounts();
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        agent.destroy();
        await storage.close();
      })();
      return closing;
    },
  };
}
