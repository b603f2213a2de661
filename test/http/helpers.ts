/** Shared bits of the HTTP filesystem tests. */
import { expect } from "vitest";
import { FsError } from "../../src/index.js";
import { HTTPFileSystem, type HTTPFileSystemOptions } from "../../src/implementations/http.js";

/** Deterministic bytes that differ at every offset a test might slice at. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return out;
}

/** Byte equality without vitest's slow deep diff of large arrays. */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(0);
}

/** The FsError a promise rejects with; fails the test if it resolves or throws something else. */
export async function errorOf(promise: Promise<unknown>, code: string): Promise<FsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected an FsError ${code}`).toBeInstanceOf(FsError);
  expect((err as FsError).code).toBe(code);
  return err as FsError;
}

export const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * How a filesystem has come to ask `info` on an origin: "new" (nothing learned: the next info
 * is a HEAD) or "learned" (a HEAD announced `Accept-Ranges: bytes`: infos are `bytes=0-0` GETs).
 */
export type OriginState = "new" | "learned";
export const ORIGIN_STATES: readonly OriginState[] = ["new", "learned"];

export { isInfoRequest } from "../support/http-requests.js";

/**
 * Filesystems of a test's own, each new in a known state on the origin of `rangedUrl()` (a
 * file the server serves with ranges), with the requests that took forgotten: a test counts
 * only its own. `closeAll()` after each test.
 */
export function ownFilesystems(server: () => { resetCounts(): void }, rangedUrl: () => string, options: HTTPFileSystemOptions = {}) {
  const owned: HTTPFileSystem[] = [];
  return {
    async make(state: OriginState, extra: HTTPFileSystemOptions = {}): Promise<HTTPFileSystem> {
      const fs = new HTTPFileSystem({ ...options, ...extra });
      owned.push(fs);
      if (state === "learned") await fs.info(rangedUrl());
      fs.invalidateCache();
      server().resetCounts();
      return fs;
    },
    closeAll: () => Promise.all(owned.splice(0).map((f) => f.close())),
  };
}
