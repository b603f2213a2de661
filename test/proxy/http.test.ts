/**
 * The HTTP backend through a local forward proxy: http:// forwarded, https:// tunnelled
 * (CONNECT) to a TLS server with a throwaway certificate, as HTTP_PROXY / HTTPS_PROXY /
 * NO_PROXY or the `proxy` option say; a proxy that demands Basic credentials; the connection
 * limit per origin through the proxy; a dispatcher of the caller's.
 */
import { inspect } from "node:util";
import { MockAgent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HTTPFileSystem, type HTTPFileSystemOptions } from "../../src/implementations/http.js";
import { errorOf, expectBytes, pattern, text } from "../http/helpers.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { guardProcess } from "../support/process-guard.js";
import { startProxyServer, type TestProxyServer } from "../support/proxy-server.js";
import { selfSignedCertificate, type SelfSigned } from "../support/self-signed.js";
import { withProxyEnv } from "./helpers.js";

guardProcess();

const DATA = pattern(300_000, 3);
let plain: TestHttpServer;
let secure: TestHttpServer;
let proxy: TestProxyServer;
let locked: TestProxyServer;
let cert: SelfSigned;
const open: HTTPFileSystem[] = [];

beforeAll(async () => {
  cert = await selfSignedCertificate();
  [plain, secure, proxy, locked] = await Promise.all([
    startHttpServer(),
    startHttpServer({ tls: cert }),
    startProxyServer(),
    startProxyServer({ credentials: { username: "proxy-user", password: "pr0xy-s3cret" } }),
  ]);
  for (const s of [plain, secure]) {
    s.setFile("/d/a.bin", DATA);
    s.setFile("/d/b.txt", "bee");
  }
});
afterAll(async () => {
  await Promise.all([plain, secure, proxy, locked].map((s) => s?.close()));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fs) => fs.close()));
  for (const s of [plain, secure, proxy, locked]) s.resetCounts();
});

function httpFs(options: HTTPFileSystemOptions = {}): HTTPFileSystem {
  const fs = new HTTPFileSystem({ skipInstanceCache: true, retries: 1, retryDelay: 1, timeout: 5_000, ca: cert.cert, ...options });
  open.push(fs);
  return fs;
}

describe("http:// through HTTP_PROXY", () => {
  it("forwards every request (absolute URI) when HTTP_PROXY is set, and the bytes are the server's", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, () => httpFs());
    expectBytes(await fs.catFile(`${plain.url}/d/a.bin`), DATA);
    expect(text(await fs.catFile(`${plain.url}/d/b.txt`))).toBe("bee");
    expect(proxy.count(plain.url, "forward")).toBe(plain.requests.length);
    expect(proxy.count(plain.url, "forward")).toBeGreaterThanOrEqual(2);
    expect(proxy.count("", "connect")).toBe(0);
  });

  it("goes direct for hosts NO_PROXY names (127.0.0.1 here), and with proxy: false", async () => {
    for (const [env, options] of [
      [{ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }, {}],
      [{ http_proxy: proxy.url, no_proxy: "localhost,127.0.0.0/8" }, {}],
      [{ HTTP_PROXY: proxy.url }, { proxy: false as const }],
    ] as const) {
      const fs = withProxyEnv(env, () => httpFs(options));
      expectBytes(await fs.catFile(`${plain.url}/d/a.bin`), DATA);
    }
    expect(proxy.requests).toEqual([]);
    expect(plain.requestCount("/d/a.bin")).toBeGreaterThanOrEqual(3);
  });

  it("takes the proxy option over the environment's, and HTTPS_PROXY alone leaves http:// direct", async () => {
    const other = await startProxyServer();
    try {
      const fs = withProxyEnv({ HTTP_PROXY: other.url }, () => httpFs({ proxy: proxy.url }));
      expect(text(await fs.catFile(`${plain.url}/d/b.txt`))).toBe("bee");
      expect([proxy.count(plain.url), other.count()]).toEqual([1, 0]);
      const onlyHttps = withProxyEnv({ HTTPS_PROXY: other.url }, () => httpFs());
      expect(text(await onlyHttps.catFile(`${plain.url}/d/b.txt`))).toBe("bee");
      expect(other.count()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("keeps the connection limit per origin through the proxy", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, () => httpFs({ connections: 2 }));
    plain.fault({ path: "/d/a.bin", stallMs: 50, times: 12 });
    const reads = await Promise.all(Array.from({ length: 12 }, () => fs.catFile(`${plain.url}/d/a.bin`)));
    for (const r of reads) expectBytes(r, DATA);
    expect(proxy.peakOpen(plain.url)).toBe(2);
    expect(plain.peakInFlight()).toBeLessThanOrEqual(2);
  });
});

describe("https:// through HTTPS_PROXY (CONNECT)", () => {
  it("tunnels to the TLS server, trusting the extra CA, and NO_PROXY still bypasses", async () => {
    const fs = withProxyEnv({ HTTPS_PROXY: proxy.url }, () => httpFs());
    expectBytes(await fs.catFile(`${secure.url}/d/a.bin`), DATA);
    expect(proxy.count(`127.0.0.1:${secure.port}`, "connect")).toBeGreaterThanOrEqual(1);
    expect(proxy.count("", "forward")).toBe(0);
    proxy.resetCounts();
    const bypass = withProxyEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: `127.0.0.1:${secure.port}` }, () => httpFs());
    expect(text(await bypass.catFile(`${secure.url}/d/b.txt`))).toBe("bee");
    expect(proxy.requests).toEqual([]);
  });

  it("refuses a certificate no authority vouches for (without ca), through the proxy too", async () => {
    const fs = withProxyEnv({ HTTPS_PROXY: proxy.url }, () => httpFs({ ca: undefined }));
    const err = await errorOf(fs.catFile(`${secure.url}/d/b.txt`), "EIO");
    expect(err.message).toMatch(/certificate/i);
  });

  it("opens at most `connections` tunnels to one origin", async () => {
    const fs = withProxyEnv({ HTTPS_PROXY: proxy.url }, () => httpFs({ connections: 2 }));
    secure.fault({ path: "/d/a.bin", stallMs: 50, times: 10 });
    const reads = await Promise.all(Array.from({ length: 10 }, () => fs.catFile(`${secure.url}/d/a.bin`)));
    for (const r of reads) expectBytes(r, DATA);
    expect(proxy.peakOpen(`127.0.0.1:${secure.port}`)).toBe(2);
  });
});

describe("a proxy that demands credentials", () => {
  it("is passed with user:password in the proxy URL, for forwarded and tunnelled requests", async () => {
    const withCreds = locked.urlWithCredentials("proxy-user", "pr0xy-s3cret");
    const fs = withProxyEnv({ HTTP_PROXY: withCreds, HTTPS_PROXY: withCreds }, () => httpFs());
    expect(text(await fs.catFile(`${plain.url}/d/b.txt`))).toBe("bee");
    expect(text(await fs.catFile(`${secure.url}/d/b.txt`))).toBe("bee");
    expect(locked.requests.map((r) => [r.kind, r.withCredentials, r.refused])).toEqual([
      ["forward", true, false],
      ["connect", true, false],
    ]);
  });

  it("answers 407 as EACCES, for missing or wrong credentials, and never shows them", async () => {
    const wrong = locked.urlWithCredentials("proxy-user", "not-the-pr0xy-s3cret");
    for (const [env, target] of [
      [{ HTTP_PROXY: locked.url }, `${plain.url}/d/b.txt`],
      [{ HTTPS_PROXY: locked.url }, `${secure.url}/d/b.txt`],
      [{ HTTP_PROXY: wrong }, `${plain.url}/d/b.txt`],
      [{ HTTPS_PROXY: wrong }, `${secure.url}/d/b.txt`],
    ] as const) {
      const fs = withProxyEnv(env, () => httpFs());
      const err = await errorOf(fs.catFile(target), "EACCES");
      expect(err.message).toContain("407");
      const shown = `${err.message} ${inspect(err)} ${inspect(fs)} ${String(fs)}`;
      expect(shown).not.toContain("s3cret");
      expect(shown).not.toContain(Buffer.from("proxy-user:not-the-pr0xy-s3cret").toString("base64"));
    }
    expect(locked.requests.every((r) => r.refused)).toBe(true);
  });

  it("prints the proxy option as ***", () => {
    const fs = httpFs({ proxy: locked.urlWithCredentials("proxy-user", "pr0xy-s3cret") });
    expect(inspect(fs)).not.toContain("s3cret");
    expect(String(fs)).not.toContain("s3cret");
    expect(inspect(fs.client)).not.toContain("s3cret");
  });
});

describe("the dispatcher option", () => {
  it("sends every request through the caller's dispatcher and leaves it open on close", async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    const pool = mock.get("http://files.example");
    pool.intercept({ path: "/x.txt", method: "GET" }).reply(200, "mocked", { headers: { "content-length": "6" } }).persist();
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, () => httpFs({ dispatcher: mock, ca: undefined }));
    expect(text(await fs.catFile("http://files.example/x.txt"))).toBe("mocked");
    await fs.close();
    // Still usable by its owner.
    const again = httpFs({ dispatcher: mock, ca: undefined });
    expect(text(await again.catFile("http://files.example/x.txt"))).toBe("mocked");
    expect(proxy.requests).toEqual([]);
    await mock.close();
  });

  it("refuses a dispatcher together with proxy or ca, and anything that is no dispatcher", () => {
    const mock = new MockAgent();
    expect(() => httpFs({ dispatcher: mock, proxy: proxy.url, ca: undefined })).toThrow(/either a dispatcher/);
    expect(() => httpFs({ dispatcher: mock })).toThrow(/either a dispatcher/);
    expect(() => httpFs({ dispatcher: {} as never, ca: undefined })).toThrow(/undici Dispatcher/);
    void mock.close();
  });
});
