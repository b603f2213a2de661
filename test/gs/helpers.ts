/**
 * Shared pieces of the gs tests: one local GCS server per test file, filesystems pointed at it
 * with a token it accepts, and the environment kept hermetic (no credentials file, gcloud
 * directory or metadata server of this machine is ever looked at).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GCSFileSystem, type GCSFileSystemOptions } from "../../src/implementations/gs.js";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startGcsServer, type GcsServerOptions, type TestGcsServer } from "../support/gcs-server.js";

export const TOKEN = "ya29.test-token-for-the-local-server";

/** Variables the backend reads; tests set the ones they need. */
export const GCS_ENV = [
  "STORAGE_EMULATOR_HOST",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "CLOUDSDK_CONFIG",
  "GCE_METADATA_HOST",
  "GCE_METADATA_IP",
  "METADATA_SERVER_DETECTION",
  "NO_GCE_CHECK",
  "GOOGLE_CLOUD_PROJECT",
  "GCLOUD_PROJECT",
  "CLOUDSDK_CORE_PROJECT",
] as const;

/**
 * Clear the variables, point gcloud's directory at an empty temp dir and switch the metadata
 * server lookup off; returns the function that puts the environment back.
 */
export function hermeticEnv(): () => void {
  const saved = Object.fromEntries(GCS_ENV.map((k) => [k, process.env[k]]));
  for (const k of GCS_ENV) delete process.env[k];
  const gcloudDir = mkdtempSync(join(tmpdir(), "fsspec-ts-gcloud-"));
  process.env.CLOUDSDK_CONFIG = gcloudDir;
  process.env.METADATA_SERVER_DETECTION = "none";
  return () => {
    rmSync(gcloudDir, { recursive: true, force: true });
    for (const k of GCS_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}

export function makeFs(srv: TestGcsServer, options: GCSFileSystemOptions = {}): GCSFileSystem {
  return new GCSFileSystem({ endpoint: srv.url, accessToken: TOKEN, project: "test-project", retryDelay: 1, skipInstanceCache: true, ...options });
}

/** Deterministic bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

export const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/**
 * A local GCS server for the test file: started (in a hermetic environment, accepting TOKEN)
 * before its tests and handed to `setup` (which keeps it and seeds it), closed after them;
 * its request log is cleared before each test.
 */
export function useGcsServer(setup: (srv: TestGcsServer) => void | Promise<void>, options: GcsServerOptions = {}): void {
  let srv: TestGcsServer | undefined;
  let restore: (() => void) | undefined;
  beforeAll(async () => {
    restore = hermeticEnv();
    srv = await startGcsServer(options);
    srv.addAccessToken(TOKEN);
    await setup(srv);
  });
  afterAll(async () => {
    await srv?.close();
    restore?.();
  });
  beforeEach(() => srv?.resetCounts());
}
