/**
 * gs:// through a local proxy: the JSON API, media downloads and uploads go through the proxy
 * HTTP_PROXY names, none when NO_PROXY names the server's host; a Package over gs passes its
 * proxy option on.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Package } from "../../src/index.js";
import type { GCSFileSystem } from "../../src/implementations/gs.js";
import { makeFs, pattern, TOKEN, useGcsServer } from "../gs/helpers.js";
import { expectBytes, text } from "../http/helpers.js";
import type { TestGcsServer } from "../support/gcs-server.js";
import { startProxyServer, type TestProxyServer } from "../support/proxy-server.js";
import { withProxyEnv } from "./helpers.js";

const WEIGHTS = pattern(300_000, 5);
let srv: TestGcsServer;
let proxy: TestProxyServer;
let dir: string;
const open: GCSFileSystem[] = [];

useGcsServer((s) => {
  srv = s;
  s.createBucket("zoo");
  s.putObject("zoo", "pkg/model.bin", WEIGHTS);
  s.putObject("zoo", "pkg/config.json", '{"a": 1}');
});
beforeAll(async () => {
  proxy = await startProxyServer();
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-gs-proxy-"));
});
afterAll(async () => {
  await proxy?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((fs) => fs.close()));
  proxy.resetCounts();
});

const gsFs = () => {
  const fs = makeFs(srv);
  open.push(fs);
  return fs;
};

describe("gs:// through a proxy", () => {
  it("sends listings, reads and uploads through HTTP_PROXY", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url }, gsFs);
    expect(await fs.ls("zoo/pkg", { detail: false })).toEqual(["zoo/pkg/config.json", "zoo/pkg/model.bin"]);
    expectBytes(await fs.catFile("zoo/pkg/model.bin"), WEIGHTS);
    await fs.pipe("zoo/up/new.txt", "through the proxy");
    expect(text(await fs.catFile("zoo/up/new.txt"))).toBe("through the proxy");
    expect(srv.requests.length).toBeGreaterThanOrEqual(4);
    expect(proxy.count(srv.url, "forward")).toBe(srv.requests.length);
  });

  it("goes direct when NO_PROXY names the server's host", async () => {
    const fs = withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }, gsFs);
    expect(text(await fs.catFile("zoo/pkg/config.json"))).toBe('{"a": 1}');
    expect(srv.requests.length).toBeGreaterThan(0);
    expect(proxy.requests).toEqual([]);
  });

  it("a Package over gs passes the proxy option on", async () => {
    const pkg = new Package("gs://zoo/pkg", {
      cacheOptions: { cacheStorage: join(dir, "gs") },
      progress: false,
      fsOptions: { gs: { endpoint: srv.url, accessToken: TOKEN, project: "test-project", skipInstanceCache: true, proxy: proxy.url } },
    });
    expectBytes(await readFile(await pkg.resolve("model.bin")), WEIGHTS);
    expect(proxy.count(srv.url)).toBe(srv.requests.length);
    expect(srv.requests.length).toBeGreaterThan(0);
  });
});
