/**
 * A forward proxy on node:http (127.0.0.1, ephemeral port) for the proxy tests, counting what
 * passes through:
 *
 * - requests in absolute form (`GET http://host:port/path`), as clients send http:// URLs to a
 *   proxy, are forwarded and their answers passed back;
 * - `CONNECT host:port` opens a tunnel (https://, or any URL a client tunnels), bytes passed
 *   both ways unseen.
 *
 * With `credentials`, every request and CONNECT must carry `Proxy-Authorization: Basic ...` for
 * them, else it is answered 407. Targets are only ever on this machine (the tests' servers).
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface ProxiedRequest {
  kind: "forward" | "connect";
  method: string;
  /** The absolute URL forwarded, or the `host:port` tunnelled to. */
  target: string;
  /** Whether a Proxy-Authorization header came with it (never its value). */
  withCredentials: boolean;
  /** Answered 407. */
  refused: boolean;
}

export interface ProxyServerOptions {
  /** Demand Basic credentials. */
  credentials?: { username: string; password: string };
}

export interface TestProxyServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The URL with the credentials in it (for the `proxy` option or HTTPS_PROXY). */
  urlWithCredentials(username: string, password: string): string;
  requests: ProxiedRequest[];
  /** Requests (forwarded or tunnels opened) whose target contains `match`, answered or refused. */
  count(match?: string, kind?: ProxiedRequest["kind"]): number;
  /** Most forwarded requests to one origin, or tunnels to one host:port, open at once since the last reset. */
  peakOpen(target: string): number;
  resetCounts(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];

export async function startProxyServer(options: ProxyServerOptions = {}): Promise<TestProxyServer> {
  const requests: ProxiedRequest[] = [];
  const open = new Map<string, number>();
  const peaks = new Map<string, number>();
  const sockets = new Set<Socket>();
  const upstream = new Agent({ keepAlive: true });
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString("base64")}`
    : undefined;

  /** Count one more open request or tunnel to `key`; the returned function counts it closed (once). */
  function opened(key: string): () => void {
    const n = (open.get(key) ?? 0) + 1;
    open.set(key, n);
    peaks.set(key, Math.max(peaks.get(key) ?? 0, n));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      open.set(key, (open.get(key) ?? 1) - 1);
    };
  }

  function admitted(kind: ProxiedRequest["kind"], method: string, target: string, auth: string | undefined): boolean {
    const refused = expected !== undefined && auth !== expected;
    requests.push({ kind, method, target, withCredentials: auth !== undefined, refused });
    return !refused;
  }

  function forward(req: IncomingMessage, res: ServerResponse): void {
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("absolute URLs only\n");
      return;
    }
    if (!admitted("forward", req.method ?? "GET", target.href, req.headers["proxy-authorization"])) {
      res.writeHead(407, { "Proxy-Authenticate": 'Basic realm="test proxy"', "Content-Length": "0" }).end();
      return;
    }
    const closed = opened(target.origin);
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers, agent: upstream }, (ures) => {
      const back = { ...ures.headers };
      for (const h of HOP_BY_HOP) delete back[h];
      res.writeHead(ures.statusCode ?? 502, back);
      ures.pipe(res);
      ures.once("close", () => {
        if (!ures.complete) res.destroy();
      });
    });
    up.once("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end("upstream failed\n")));
    res.once("close", () => {
      closed();
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  function tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const authority = req.url ?? "";
    if (!admitted("connect", "CONNECT", authority, req.headers["proxy-authorization"])) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const m = /^([^:]+|\[[^\]]+\]):(\d+)$/.exec(authority);
    if (!m) {
      client.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const closed = opened(authority);
    const server = connect(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ""), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.byteLength > 0) server.write(head);
      server.pipe(client);
      client.pipe(server);
    });
    sockets.add(server);
    const end = () => {
      sockets.delete(server);
      closed();
      server.destroy();
      client.destroy();
    };
    server.once("error", () => {
      if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      end();
    });
    server.once("close", end);
    client.once("error", end);
    client.once("close", end);
  }

  const proxy = createServer(forward);
  proxy.on("connect", tunnel);
  proxy.on("connection", (sock) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    urlWithCredentials: (username, password) => `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    requests,
    count: (match = "", kind) => requests.filter((r) => r.target.includes(match) && (kind === undefined || r.kind === kind)).length,
    peakOpen: (target) => peaks.get(target) ?? 0,
    resetCounts() {
      requests.length = 0;
      peaks.clear();
      for (const [k, n] of open) peaks.set(k, n);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const s of sockets) s.destroy();
        upstream.destroy();
      });
      return closing;
    },
  };
}
