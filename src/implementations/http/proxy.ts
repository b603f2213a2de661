/**
 * Which proxy a request goes through, decided the same way for every HTTP-speaking backend:
 * the `proxy` option (one proxy for http:// and https://; `false`: none), else the environment
 * as curl and Python read it: `https_proxy`/`HTTPS_PROXY` for https:// URLs,
 * `http_proxy`/`HTTP_PROXY` for http:// URLs (lower case first; an empty value is unset). Hosts
 * that `no_proxy`/`NO_PROXY` matches go direct, also with the `proxy` option (see no-proxy.ts),
 * and so do link-local addresses (169.254.0.0/16, fe80::/10): the clouds' metadata servers
 * (GCE credentials) answer only there, never through a proxy. The environment is read once,
 * when a filesystem is built.
 */
import { FsError } from "../../core/errors.js";
import { redactUrl } from "../../core/redact.js";
import { NoProxy } from "./no-proxy.js";

/** The options every HTTP-speaking backend takes for proxies. */
export interface ProxyOptions {
  /**
   * A proxy for every request, `http://[user:password@]host:port` (an `https://` proxy is
   * reached over TLS); `false`: no proxy whatever the environment says. Default: the
   * environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
   */
  proxy?: string | false;
}

type Environment = Record<string, string | undefined>;

function fromEnvironment(env: Environment, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/** Hosts no proxy can reach: link-local addresses (metadata servers). Made on first use: parsing an IPv6 block at import costs a cold start several ms. */
let linkLocal: NoProxy | undefined;
const linkLocalHosts = (): NoProxy => (linkLocal ??= new NoProxy("169.254.0.0/16, fe80::/10"));

/** A proxy URL as curl takes it: a missing scheme means http://. */
function proxyUrl(value: string, what: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw FsError.einval(`${what} is not a valid proxy URL: '${redactUrl(text)}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw FsError.einval(`${what} must be an http:// or https:// proxy, got '${redactUrl(text)}' (set the proxy option to false to ignore it)`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw FsError.einval(`${what} must be a proxy's address without a path or query, got '${redactUrl(text)}'`);
  }
  return url;
}

export class ProxyPlan {
  private constructor(
    private readonly http: URL | undefined,
    private readonly https: URL | undefined,
    private readonly bypass: NoProxy,
  ) {}

  /** The plan for a backend's `proxy` option, reading `env` (default: this process's) where the option leaves it open. */
  static of(proxy: string | false | undefined, env: Environment = process.env): ProxyPlan {
    const bypass = new NoProxy(fromEnvironment(env, "no_proxy", "NO_PROXY")?.value ?? "");
    if (proxy === false) return new ProxyPlan(undefined, undefined, bypass);
    if (proxy !== undefined) {
      if (typeof proxy !== "string" || proxy === "") throw FsError.einval("proxy must be a proxy URL or false");
      const url = proxyUrl(proxy, "the proxy option");
      return new ProxyPlan(url, url, bypass);
    }
    const read = (...names: string[]) => {
      const found = fromEnvironment(env, ...names);
      return found && proxyUrl(found.value, found.name);
    };
    return new ProxyPlan(read("http_proxy", "HTTP_PROXY"), read("https_proxy", "HTTPS_PROXY"), bypass);
  }

  /** True when no request can go through a proxy. */
  get direct(): boolean {
    return (this.http === undefined && this.https === undefined) || this.bypass.everyHost;
  }

  /** The proxy a request to `url` goes through, or undefined to go direct. */
  proxyFor(url: URL): URL | undefined {
    const proxy = url.protocol === "https:" ? this.https : url.protocol === "http:" ? this.http : undefined;
    return proxy === undefined || this.bypass.matches(url) || linkLocalHosts().matches(url) ? undefined : proxy;
  }
}
