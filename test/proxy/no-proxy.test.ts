/** NO_PROXY entries as curl reads them, and which proxy the environment or the option names for a URL. */
import { describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import { NoProxy } from "../../src/implementations/http/no-proxy.js";
import { ProxyPlan } from "../../src/implementations/http/proxy.js";

const direct = (list: string, url: string) => new NoProxy(list).matches(new URL(url));

describe("NoProxy", () => {
  it.each([
    // names: the host itself and every host below it, however the entry is written
    ["example.com", "http://example.com/x", true],
    ["example.com", "https://a.b.example.com/x", true],
    [".example.com", "http://example.com/", true],
    [".example.com", "http://www.example.com/", true],
    ["*.example.com", "http://www.example.com/", true],
    ["example.com", "http://notexample.com/", false],
    ["example.com", "http://example.com.org/", false],
    ["EXAMPLE.com", "http://Example.COM./", true],
    // ports
    ["example.com:8080", "http://example.com:8080/", true],
    ["example.com:8080", "http://example.com/", false],
    ["example.com:443", "https://example.com/", true],
    // addresses and CIDR blocks; names are never resolved
    ["127.0.0.1", "http://127.0.0.1:9000/", true],
    ["127.0.0.1", "http://127.0.0.2/", false],
    ["10.0.0.0/8", "http://10.20.30.40/", true],
    ["10.0.0.0/8", "http://11.0.0.1/", false],
    ["192.168.1.0/24", "http://192.168.1.255/", true],
    ["127.0.0.1", "http://localhost/", false],
    ["localhost", "http://127.0.0.1/", false],
    ["2.3.4", "http://1.2.3.4/", false],
    // IPv6, with or without brackets, with a block
    ["::1", "http://[::1]:8080/", true],
    ["[::1]", "http://[::1]/", true],
    ["[::1]:8080", "http://[::1]:8080/", true],
    ["[::1]:8080", "http://[::1]:8081/", false],
    ["fd00::/8", "http://[fd12:3456::1]/", true],
    ["fd00::/8", "http://[fe80::1]/", false],
    // lists, separators, the wildcard
    ["a.com, b.com  c.com", "http://c.com/", true],
    ["a.com,,b.com", "http://b.com/", true],
    ["*", "http://anything.at.all/", true],
    ["*", "http://[::1]/", true],
    ["", "http://example.com/", false],
    // malformed entries are ignored
    ["10.0.0.0/33, 1.2.3.4/x", "http://10.0.0.1/", false],
  ])("%j and %s: direct=%s", (list, url, expected) => {
    expect(direct(list, url)).toBe(expected);
  });
});

describe("ProxyPlan", () => {
  const plan = (env: Record<string, string>, proxy?: string | false) => ProxyPlan.of(proxy, env);
  const via = (p: ProxyPlan, url: string) => p.proxyFor(new URL(url))?.href;

  it("takes HTTPS_PROXY for https:// and HTTP_PROXY for http://, lower case first, empty values unset", () => {
    const p = plan({ HTTP_PROXY: "http://upper:1", http_proxy: "http://lower:2", HTTPS_PROXY: "http://secure:3", https_proxy: "" });
    expect(via(p, "http://example.com/")).toBe("http://lower:2/");
    expect(via(p, "https://example.com/")).toBe("http://secure:3/");
  });

  it("never sends https:// through HTTP_PROXY (as curl and Python do), nor http:// through HTTPS_PROXY", () => {
    expect(via(plan({ HTTP_PROXY: "http://p:1" }), "https://example.com/")).toBeUndefined();
    expect(via(plan({ HTTPS_PROXY: "http://p:1" }), "http://example.com/")).toBeUndefined();
  });

  it("reads a proxy without a scheme as http://, and keeps its credentials", () => {
    const p = plan({ HTTPS_PROXY: "user:pw@proxy.corp:3128" });
    const url = p.proxyFor(new URL("https://example.com/"))!;
    expect([url.protocol, url.host, url.username, url.password]).toEqual(["http:", "proxy.corp:3128", "user", "pw"]);
  });

  it("applies NO_PROXY to the environment's proxies and to the proxy option", () => {
    const env = { HTTPS_PROXY: "http://p:1", NO_PROXY: ".internal, 10.0.0.0/8" };
    expect(via(plan(env), "https://hub.internal/")).toBeUndefined();
    expect(via(plan(env), "https://10.1.2.3/")).toBeUndefined();
    expect(via(plan(env), "https://example.com/")).toBe("http://p:1/");
    expect(via(plan({ no_proxy: "example.com" }, "http://opt:9"), "https://example.com/")).toBeUndefined();
    expect(via(plan({ no_proxy: "example.com" }, "http://opt:9"), "http://other.org/")).toBe("http://opt:9/");
  });

  it("always reaches link-local addresses (the clouds' metadata servers) directly", () => {
    const p = plan({ HTTP_PROXY: "http://p:1", HTTPS_PROXY: "http://p:1" });
    expect(via(p, "http://169.254.169.254/computeMetadata/v1/")).toBeUndefined();
    expect(via(p, "http://[fe80::1]/")).toBeUndefined();
    expect(via(p, "http://169.253.1.1/")).toBe("http://p:1/");
  });

  it("is direct with proxy: false whatever the environment says, and with NO_PROXY=*", () => {
    expect(plan({ HTTPS_PROXY: "http://p:1", HTTP_PROXY: "http://p:1" }, false).direct).toBe(true);
    expect(plan({ HTTPS_PROXY: "http://p:1", NO_PROXY: "*" }).direct).toBe(true);
    expect(plan({}).direct).toBe(true);
    expect(plan({ HTTP_PROXY: "http://p:1" }).direct).toBe(false);
  });

  it.each([
    [{ HTTPS_PROXY: "socks5://user:secret@p:1080" }, undefined, "HTTPS_PROXY"],
    [{}, "ftp://user:secret@p:21", "the proxy option"],
    [{}, "http://user:secret@p:1/some/path", "the proxy option"],
    [{ http_proxy: "http://user:secret@[bad" }, undefined, "http_proxy"],
  ])("refuses %j / %s with EINVAL naming where it came from, credentials hidden", (env, proxy, where) => {
    let err: unknown;
    try {
      plan(env as Record<string, string>, proxy);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).code).toBe("EINVAL");
    expect((err as FsError).message).toContain(where);
    expect((err as FsError).message).not.toContain("secret");
  });
});
