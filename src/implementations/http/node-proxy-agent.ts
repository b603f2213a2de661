/**
 * node:http(s) Agents that reach each host through the proxy a ProxyPlan names for it, else
 * directly: for clients that take a node Agent rather than an undici dispatcher (the AWS SDK's
 * NodeHttpHandler). Through a proxy every connection is a CONNECT tunnel, http:// ones too (the
 * request line then stays as the server expects it; S3 endpoints are https:// in practice).
 * Tunnels are connections like any other: kept alive and capped by `maxSockets` per host.
 */
import type { ClientRequestArgs } from "node:http";
import { Agent as HttpAgent, type AgentOptions } from "node:http";
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from "node:https";
import { connect as netConnect, isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { proxyRefused } from "./errors.js";
import type { ProxyPlan } from "./proxy.js";

type Created = (err: Error | null, stream: Duplex) => void;

/** Longest wait for a proxy to open a tunnel. */
const TUNNEL_TIMEOUT_MS = 30_000;
/** A proxy's answer to CONNECT longer than this is no answer. */
const MAX_ANSWER = 64 * 1024;

const bare = (host: string) => host.replace(/^\[|\]$/g, "");
const authority = (host: string, port: number) => (isIP(bare(host)) === 6 ? `[${bare(host)}]:${port}` : `${host}:${port}`);

function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** Open a CONNECT tunnel to `host:port` through `proxy`; `done` gets the socket that carries it. */
function openTunnel(proxy: URL, host: string, port: number, ca: ConnectionOptions["ca"], done: (err: Error | null, socket?: Socket) => void): void {
  const proxyPort = Number(proxy.port) || (proxy.protocol === "https:" ? 443 : 80);
  const proxyHost = bare(proxy.hostname);
  const socket: Socket =
    proxy.protocol === "https:"
      ? tlsConnect({ host: proxyHost, port: proxyPort, servername: isIP(proxyHost) ? undefined : proxyHost, ...(ca ? { ca } : {}) })
      : netConnect({ host: proxyHost, port: proxyPort });
  let answer = Buffer.alloc(0);
  let finished = false;
  const finish = (err: Error | null) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off("data", onData).off("error", onError).off("close", onClose);
    if (err) {
      socket.destroy();
      done(err);
    } else done(null, socket);
  };
  const timer = setTimeout(
    () => finish(Object.assign(new Error(`the proxy ${proxy.origin} did not open a tunnel within ${TUNNEL_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" })),
    TUNNEL_TIMEOUT_MS,
  );
  const onError = (err: Error) => finish(err);
  const onClose = () => finish(Object.assign(new Error(`the proxy ${proxy.origin} closed the connection before opening a tunnel`), { code: "ECONNRESET" }));
  const onData = (chunk: Buffer) => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf("\r\n\r\n");
    if (end < 0) {
      if (answer.byteLength > MAX_ANSWER) finish(proxyRefused(502, proxy));
      return;
    }
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer.subarray(0, end).toString("latin1"))?.[1] ?? 502);
    if (status !== 200) return finish(proxyRefused(status, proxy));
    // Bytes after the answer already belong to the tunnel (a server speaking first).
    const rest = answer.subarray(end + 4);
    if (rest.byteLength > 0) socket.unshift(rest);
    finish(null);
  };
  socket.on("data", onData).once("error", onError).once("close", onClose);
  socket.once(proxy.protocol === "https:" ? "secureConnect" : "connect", () => {
    const target = authority(host, port);
    const auth = proxyAuthorization(proxy);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ""}\r\n`);
  });
}

/** The connection an agent asks for: direct (the agent's own way) or a tunnel, through the proxy the plan names. */
function connection(
  plan: ProxyPlan, secure: boolean, request: ClientRequestArgs, created: Created, direct: () => Duplex | null | undefined,
): Duplex | null | undefined {
  // The agent's own options (ca, servername...) are merged into what it passes here.
  const options = request as ClientRequestArgs & ConnectionOptions;
  const host = options.host ?? options.hostname ?? "localhost";
  const port = Number(options.port) || (secure ? 443 : 80);
  const proxy = plan.proxyFor(new URL(`${secure ? "https" : "http"}://${authority(host, port)}/`));
  if (!proxy) return direct();
  openTunnel(proxy, host, port, options.ca, (err, socket) => {
    if (err || !socket) return created(err ?? new Error("no tunnel"), undefined as never);
    if (!secure) return created(null, socket);
    const tls = tlsConnect({ ...options, path: undefined, socket, servername: options.servername ?? (isIP(bare(host)) ? undefined : bare(host)) });
    const failed = (e: Error) => created(e, undefined as never);
    tls.once("secureConnect", () => {
      tls.off("error", failed);
      created(null, tls);
    }).once("error", failed);
  });
  return undefined;
}

/** An http.Agent whose connections go through the plan's proxies. */
export class ProxyingHttpAgent extends HttpAgent {
  constructor(private readonly plan: ProxyPlan, options: AgentOptions = {}) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs, created: Created): Duplex | null | undefined {
    return connection(this.plan, false, options, created, () => super.createConnection(options, created));
  }
}

/** An https.Agent whose connections go through the plan's proxies (TLS to the server inside the tunnel). */
export class ProxyingHttpsAgent extends HttpsAgent {
  constructor(private readonly plan: ProxyPlan, options: HttpsAgentOptions = {}) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs, created: Created): Duplex | null | undefined {
    return connection(this.plan, true, options, created, () => super.createConnection(options, created));
  }
}
