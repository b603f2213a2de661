/**
 * The Hub and NGC backends through a local proxy: every request (API, resolve, CDN; token,
 * lookup, listing, presigned download) goes through it when HTTP_PROXY says so, none when
 * NO_PROXY names the host, and a Package over them does the same (its fsOptions reach the
 * backend's transport).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { ProxyAgent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package } from "../../src/index.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { expectBytes, pattern, text } from "../http/helpers.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";
import { startNgcServer, type TestNgcServer } from "../../src/testing/ngc-server.js";
import { startProxyServer, type TestProxyServer } from "../support/proxy-server.js";
import { withProxyEnv } from "./helpers.js";

const WEIGHTS = pattern(200_000, 11);
const API_KEY = "nvapi-proxy-test-key";
let hub: TestHfServer;
let ngc: TestNgcServer;
let proxy: TestProxyServer;
let cacheDir: string;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  [hub, ngc, proxy] = await Promise.all([startHfServer({ pageSize: 100 }), startNgcServer({ apiKeys: [API_KEY] }), startProxyServer()]);
  hub.createRepo("org/zoo");
  hub.commit("org/zoo", { "config.json": '{"a": 1}', "model.bin": { data: WEIGHTS, lfs: true } });
  ngc.addFiles("models/org/zoo@1.0", { "config.json": '{"a": 1}', "model.bin": WEIGHTS }, { private: true });
  cacheDir = await mkdtemp(join(tmpdir(), "fsspec-ts-proxy-"));
});
afterAll(async () => {
  await Promise.all([hub?.close(), ngc?.close(), proxy?.close()]);
  await rm(cacheDir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fs) => fs.close()));
  proxy.resetCounts();
  hub.resetCounts();
  ngc.resetCounts();
});

const hubFs = () => new HuggingFaceFileSystem({ endpoint: hub.url, token: "hf_test_token", skipInstanceCache: true, retryDelay: 1 });
const ngcFs = () => new NGCFileSystem({ baseUrl: ngc.url, authUrl: ngc.authUrl, apiKey: API_KEY, org: "", team: "", skipInstanceCache: true, retryDelay: 1 });

describe("hf:// through a proxy", () => {
  it("sends the API, resolve and CDN requests through HTTP_PROXY", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, hubFs);
    open.push(fs);
    expect(await fs.ls("org/zoo", { detail: false })).toEqual(["org/zoo/config.json", "org/zoo/model.bin"]);
    expectBytes(await fs.catFile("org/zoo/model.bin"), WEIGHTS);
    expect(new Set(hub.requests.map((r) => r.kind))).toEqual(new Set(["api", "resolve", "cdn"]));
    expect(proxy.count(hub.url, "forward") + proxy.count(hub.cdnUrl, "forward")).toBe(hub.requests.length);
    expect(proxy.count(hub.cdnUrl, "forward")).toBe(hub.count("cdn"));
  });

  it("goes direct when NO_PROXY names the Hub's and the CDN's hosts, and only for those", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }, hubFs);
    open.push(fs);
    expectBytes(await fs.catFile("org/zoo/model.bin"), WEIGHTS);
    expect(proxy.requests.map((r) => new URL(r.target).origin)).toEqual([hub.cdnUrl]);
    proxy.resetCounts();
    hub.resetCounts();
    const direct = withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1,localhost" }, hubFs);
    open.push(direct);
    expect(text(await direct.catFile("org/zoo/config.json"))).toBe('{"a": 1}');
    expectBytes(await direct.catFile("org/zoo/model.bin"), WEIGHTS);
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(proxy.requests).toEqual([]);
  });

  it("a Package passes the proxy option to its backend (printed as ***)", async () => {
    const pkg = new Package("hf://org/zoo", {
      hfCache: { cacheDir: join(cacheDir, "hf") },
      progress: false,
      fsOptions: { hf: { endpoint: hub.url, token: false, proxy: proxy.url.replace("//", "//user:pk-secret@") } },
    });
    const local = await pkg.resolve("model.bin");
    expect(local.startsWith(join(cacheDir, "hf"))).toBe(true);
    expect(proxy.count(hub.url) + proxy.count(hub.cdnUrl)).toBe(hub.requests.length);
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(`${inspect(pkg)} ${String(pkg)}`).not.toContain("pk-secret");
  });

  it("a Package never prints a dispatcher in its fsOptions (a ProxyAgent holds its Proxy-Authorization)", async () => {
    const agent = new ProxyAgent(proxy.url.replace("//", "//user:pk-secret@"));
    const pkg = new Package("hf://org/zoo", { progress: false, fsOptions: { hf: { endpoint: hub.url, dispatcher: agent } } });
    const shown = `${inspect(pkg, { depth: 10 })} ${String(pkg)}`;
    expect(shown).not.toContain(Buffer.from("user:pk-secret").toString("base64"));
    expect(shown).not.toContain("pk-secret");
    await agent.close();
  });
});

describe("ngc:// through a proxy", () => {
  it("sends the token, listing, lookup and download requests through HTTP_PROXY", async () => {
    const fs = withProxyEnv({ http_proxy: proxy.url }, ngcFs);
    open.push(fs);
    expect(await fs.ls("models/org/zoo@1.0", { detail: false })).toEqual(["models/org/zoo@1.0/config.json", "models/org/zoo@1.0/model.bin"]);
    expectBytes(await fs.catFile("models/org/zoo@1.0/model.bin"), WEIGHTS);
    expect(new Set(ngc.requests.map((r) => r.kind))).toEqual(new Set(["token", "listing", "lookup", "download"]));
    expect(proxy.count(ngc.url.replace(/\/$/, ""), "forward")).toBe(ngc.requests.length);
  });

  it("goes direct when no_proxy names the registry's host and port", async () => {
    const port = new URL(ngc.url).port;
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url, no_proxy: `127.0.0.1:${port}` }, ngcFs);
    open.push(fs);
    expect(text(await fs.catFile("models/org/zoo@1.0/config.json"))).toBe('{"a": 1}');
    expect(ngc.requests.length).toBeGreaterThan(0);
    expect(proxy.requests).toEqual([]);
  });
});
