/**
 * S3 through a local proxy (moto's endpoint is http://127.0.0.1): the SDK's node agents open
 * CONNECT tunnels through the proxy HTTP_PROXY or the `proxy` option names, NO_PROXY bypasses,
 * a proxy demanding credentials gets them from the URL, and a request handler of the caller's
 * is left alone.
 */
import { get } from "node:https";
import { inspect } from "node:util";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProxyingHttpsAgent } from "../../src/implementations/http/node-proxy-agent.js";
import { ProxyPlan } from "../../src/implementations/http/proxy.js";
import type { S3FileSystem, S3FileSystemOptions } from "../../src/implementations/s3.js";
import { errorOf, text } from "../http/helpers.js";
import { bucketName, createBucket, endpoint, makeFs } from "../s3/helpers.js";
import { startHttpServer } from "../../src/testing/http-server.js";
import { startProxyServer, type TestProxyServer } from "../support/proxy-server.js";
import { selfSignedCertificate } from "../support/self-signed.js";
import { withProxyEnv } from "./helpers.js";

let proxy: TestProxyServer;
let locked: TestProxyServer;
const bucket = bucketName("proxy");
const open: S3FileSystem[] = [];
const motoAuthority = () => new URL(endpoint()).host;

beforeAll(async () => {
  [proxy, locked] = await Promise.all([startProxyServer(), startProxyServer({ credentials: { username: "s3-user", password: "s3-pr0xy-pw" } })]);
  await createBucket(bucket);
});
afterAll(async () => {
  await Promise.all([proxy?.close(), locked?.close()]);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fs) => fs.close()));
  proxy.resetCounts();
  locked.resetCounts();
});

function s3(options: S3FileSystemOptions = {}): S3FileSystem {
  const fs = makeFs({ skipInstanceCache: true, ...options });
  open.push(fs);
  return fs;
}

describe("S3 through a proxy", () => {
  it("tunnels every request through HTTP_PROXY, and the objects are moto's", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, () => s3());
    await fs.pipe(`${bucket}/via/a.txt`, "through the proxy");
    expect(text(await fs.catFile(`${bucket}/via/a.txt`))).toBe("through the proxy");
    expect(await fs.ls(`${bucket}/via`, { detail: false })).toEqual([`${bucket}/via/a.txt`]);
    expect(proxy.count(motoAuthority(), "connect")).toBeGreaterThanOrEqual(1);
    expect(proxy.requests.every((r) => r.kind === "connect" && r.target === motoAuthority())).toBe(true);
  });

  it("goes direct when NO_PROXY names the endpoint, with proxy: false, and when only HTTPS_PROXY is set", async () => {
    for (const [env, options] of [
      [{ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }, {}],
      [{ HTTP_PROXY: proxy.url }, { proxy: false as const }],
      [{ HTTPS_PROXY: proxy.url }, {}],
    ] as const) {
      const fs = withProxyEnv(env, () => s3(options));
      await fs.pipe(`${bucket}/direct/b.txt`, "direct");
      expect(text(await fs.catFile(`${bucket}/direct/b.txt`))).toBe("direct");
    }
    expect(proxy.requests).toEqual([]);
  });

  it("passes the proxy option's credentials; without them a 407 is EACCES naming the path, the password never shown", async () => {
    const good = s3({ proxy: locked.urlWithCredentials("s3-user", "s3-pr0xy-pw") });
    await good.pipe(`${bucket}/locked/c.txt`, "let in");
    expect(text(await good.catFile(`${bucket}/locked/c.txt`))).toBe("let in");
    expect(locked.requests.length).toBeGreaterThanOrEqual(1);
    expect(locked.requests.every((r) => r.withCredentials && !r.refused)).toBe(true);
    expect(`${inspect(good)} ${String(good)}`).not.toContain("s3-pr0xy-pw");

    const bad = s3({ proxy: locked.urlWithCredentials("s3-user", "wrong-s3-pr0xy-pw") });
    const err = await errorOf(bad.catFile(`${bucket}/locked/c.txt`), "EACCES");
    expect(err.message).toContain("407");
    expect(err.path).toBe(`${bucket}/locked/c.txt`);
    expect(`${err.message} ${inspect(err)}`).not.toContain("pr0xy-pw");
    const none = withProxyEnv({ HTTP_PROXY: locked.url }, () => s3());
    expect((await errorOf(none.info(`${bucket}/locked/c.txt`), "EACCES")).message).toContain("407");
  });

  it("leaves a request handler of the caller's alone", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, () => s3({ clientOptions: { requestHandler: new NodeHttpHandler() } }));
    await fs.pipe(`${bucket}/own/d.txt`, "own handler");
    expect(text(await fs.catFile(`${bucket}/own/d.txt`))).toBe("own handler");
    expect(proxy.requests).toEqual([]);
  });
});

describe("the https agent S3 endpoints go through (AWS is https://)", () => {
  /** One GET through `agent`: status and body. */
  const fetchThrough = (url: string, agent: ProxyingHttpsAgent) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      get(url, { agent }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c)).once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      }).once("error", reject);
    });

  it("speaks TLS to the server inside the tunnel, reuses the tunnel, and bypasses NO_PROXY hosts", async () => {
    const cert = await selfSignedCertificate();
    const secure = await startHttpServer({ tls: cert });
    secure.setFile("/k.txt", "tls inside");
    try {
      const agent = new ProxyingHttpsAgent(ProxyPlan.of(proxy.url, {}), { keepAlive: true, ca: cert.cert });
      expect(await fetchThrough(`${secure.url}/k.txt`, agent)).toEqual({ status: 200, body: "tls inside" });
      expect(await fetchThrough(`${secure.url}/k.txt`, agent)).toEqual({ status: 200, body: "tls inside" });
      expect(proxy.requests.map((r) => [r.kind, r.target])).toEqual([["connect", `127.0.0.1:${secure.port}`]]);
      agent.destroy();
      const bypass = new ProxyingHttpsAgent(ProxyPlan.of(proxy.url, { NO_PROXY: "127.0.0.1" }), { ca: cert.cert });
      expect(await fetchThrough(`${secure.url}/k.txt`, bypass)).toEqual({ status: 200, body: "tls inside" });
      expect(proxy.requests).toHaveLength(1);
      bypass.destroy();
    } finally {
      await secure.close();
    }
  });
});
