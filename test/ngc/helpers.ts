/** Shared bits of the NGC backend tests: a server per file and filesystems pointed at it. */
import { NGCFileSystem, type NGCFileSystemOptions } from "../../src/implementations/ngc.js";
import type { TestNgcServer } from "../../src/testing/ngc-server.js";

export const API_KEY = "nvapi-test-key-0123456789abcdef";

/** A fresh instance against `srv` (anonymous unless `apiKey` is given; the environment is never read). */
export function ngcFs(srv: TestNgcServer, more: NGCFileSystemOptions = {}): NGCFileSystem {
  return new NGCFileSystem({
    baseUrl: srv.url,
    authUrl: srv.authUrl,
    apiKey: null,
    org: "",
    team: "",
    retries: 2,
    retryDelay: 1,
    timeout: 5_000,
    skipInstanceCache: true,
    ...more,
  });
}

/** Deterministic bytes that differ at every offset a test might slice at. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return out;
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);
