/**
 * The undici Dispatcher an HTTP-speaking backend sends through: the caller's own (`dispatcher`:
 * interceptors, a MockAgent; never closed here), else an Agent of ours, with requests routed
 * through the proxy the plan names for their URL (see proxy.ts). Proxied http:// requests are
 * forwarded (absolute URI, as curl does: proxies often refuse CONNECT to port 80); https:// ones
 * are tunnelled with CONNECT. Either way each origin keeps its own pool of `connections`; direct
 * ones are opened a few at a time per origin (connection-ramp.ts). undici itself is loaded when
 * the first dispatcher is made (see undici.ts), not on import.
 */
import type { Agent, Dispatcher, ProxyAgent } from "undici";
import { FsError } from "../../core/errors.js";
import { loadedOnFirstUse } from "../../core/first-use.js";
import { rampedConnector } from "./connection-ramp.js";
import { ProxyPlan, type ProxyOptions } from "./proxy.js";
import { undici } from "./undici.js";

/** Certificates (PEM) to trust besides Node's bundled ones. */
export type CertificateAuthorities = string | Buffer | ReadonlyArray<string | Buffer>;

export interface TransportOptions extends ProxyOptions {
  /**
   * Send every request through this undici Dispatcher instead (a ProxyAgent, a MockAgent, one
   * with interceptors). The caller owns it: closing the filesystem does not close it.
   */
  dispatcher?: Dispatcher;
  /** Extra certificate authorities (PEM) trusted for https:// servers and proxies, besides Node's. */
  ca?: CertificateAuthorities;
}

/** How our own pools behave. */
export interface PoolSettings {
  /** Most connections per origin. */
  connections: number;
  keepAliveTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  connectTimeout: number;
}

export interface Transport {
  dispatcher: Dispatcher;
  /** Whether the dispatcher is ours to close. */
  owned: boolean;
  /** The proxy a request to `url` goes through (never known for a caller's dispatcher). */
  proxyFor(url: URL): URL | undefined;
}

const noProxy = () => undefined;

function isDispatcher(value: unknown): value is Dispatcher {
  const d = value as Partial<Dispatcher> | null;
  return typeof d === "object" && d !== null && typeof d.dispatch === "function" && typeof d.close === "function";
}

/** Only a custom `ca` needs node:tls here. */
const tls = loadedOnFirstUse<typeof import("node:tls")>("node:tls");

/** The trusted certificates: Node's bundled ones and the extra ones (undefined: Node's default). */
export function trustedCertificates(ca: CertificateAuthorities | undefined): Array<string | Buffer> | undefined {
  if (ca === undefined) return undefined;
  const extra = (Array.isArray(ca) ? ca : [ca]) as Array<string | Buffer>;
  if (extra.some((c) => typeof c !== "string" && !Buffer.isBuffer(c))) throw FsError.einval("ca must be PEM text (a string or Buffer), or a list of them");
  return [...tls().rootCertificates, ...extra];
}

/**
 * Requests to each origin go to the dispatcher of the proxy the plan names for it, else straight
 * out. A class over undici's Dispatcher, so it is defined once undici is loaded.
 */
function defineProxyRouter(Base: typeof Dispatcher) {
  return class ProxyRouter extends Base {
    private readonly viaProxy = new Map<string, ProxyAgent>();
    private closed = false;

    constructor(
      private readonly plan: ProxyPlan,
      private readonly direct: Agent,
      private readonly makeProxyAgent: (proxy: URL) => ProxyAgent,
    ) {
      super();
    }

    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return this.route(options.origin).dispatch(options, handler);
    }

    private route(origin: Dispatcher.DispatchOptions["origin"]): Dispatcher {
      // After close every request goes to the closed direct agent, which refuses it as undici does.
      if (this.closed || origin === undefined) return this.direct;
      const proxy = this.plan.proxyFor(new URL(String(origin)));
      if (proxy === undefined) return this.direct;
      let agent = this.viaProxy.get(proxy.href);
      if (!agent) this.viaProxy.set(proxy.href, (agent = this.makeProxyAgent(proxy)));
      return agent;
    }

    private all(): Dispatcher[] {
      this.closed = true;
      return [this.direct, ...this.viaProxy.values()];
    }

    override close(): Promise<void>;
    override close(callback: () => void): void;
    override close(callback?: () => void): Promise<void> | void {
      const done = Promise.all(this.all().map((d) => d.close())).then(() => undefined);
      if (!callback) return done;
      done.then(callback, callback);
    }

    override destroy(): Promise<void>;
    override destroy(err: Error | null): Promise<void>;
    override destroy(callback: () => void): void;
    override destroy(err: Error | null, callback: () => void): void;
    override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
      const err = typeof first === "function" ? null : (first ?? null);
      const callback = typeof first === "function" ? first : second;
      const done = Promise.all(this.all().map((d) => d.destroy(err))).then(() => undefined);
      if (!callback) return done;
      done.then(callback, callback);
    }
  };
}

let ProxyRouter: ReturnType<typeof defineProxyRouter> | undefined;

/**
 * The dispatcher for a backend's transport options: `dispatcher` as given, else ours (an Agent
 * when no request can be proxied, a router over per-proxy ProxyAgents otherwise).
 */
export function dispatcherFor(options: TransportOptions, pool: PoolSettings): Transport {
  if (options.dispatcher !== undefined) {
    if (!isDispatcher(options.dispatcher)) throw FsError.einval("dispatcher must be an undici Dispatcher (with dispatch and close)");
    if (options.proxy !== undefined || options.ca !== undefined) {
      throw FsError.einval("give either a dispatcher or the proxy/ca options: a dispatcher of yours decides where requests go");
    }
    return { dispatcher: options.dispatcher, owned: false, proxyFor: noProxy };
  }
  const plan = ProxyPlan.of(options.proxy);
  const ca = trustedCertificates(options.ca);
  const tls = { timeout: pool.connectTimeout, ...(ca ? { ca } : {}) };
  const settings = {
    connections: pool.connections,
    keepAliveTimeout: pool.keepAliveTimeout,
    headersTimeout: pool.headersTimeout,
    bodyTimeout: pool.bodyTimeout,
  };
  const { Agent, Pool, ProxyAgent, buildConnector } = undici();
  // Direct connections open a few at a time per origin (see connection-ramp.ts).
  const direct = new Agent({ ...settings, connect: rampedConnector(buildConnector(tls)) });
  if (plan.direct) return { dispatcher: direct, owned: true, proxyFor: noProxy };
  const makeProxyAgent = (proxy: URL) =>
    new ProxyAgent({
      ...settings,
      uri: proxy.href,
      proxyTunnel: false,
      requestTls: tls,
      proxyTls: tls,
      // Each origin's pool (to the proxy, or tunnelled through it) with our limits and timers.
      factory: (origin, opts) => new Pool(origin, { ...settings, ...opts }),
    });
  ProxyRouter ??= defineProxyRouter(undici().Dispatcher);
  return { dispatcher: new ProxyRouter(plan, direct, makeProxyAgent), owned: true, proxyFor: (url) => plan.proxyFor(url) };
}
