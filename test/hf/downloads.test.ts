/**
 * A large file from the Hub downloaded into a local file: the GET through resolve streams it;
 * where each connection is capped, parts of its tail go as ranges of the CDN URL it redirected
 * to, each pinned to the first answer's ETag; the token never goes to the CDN. The bytes on disk are checked.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { tailCut } from "../support/http-requests.js";
import { expectBytes, pattern } from "../http/helpers.js";
import { startHfServer, type TestHfServer } from "../../src/testing/hf-server.js";

const MiB = 2 ** 20;
const SIZE = 24 * MiB;
const DATA = pattern(SIZE, 4);
let hub: TestHfServer;
let dir: string;

beforeAll(async () => {
  hub = await startHfServer({ cdnExpiresIn: 3600, lfsThreshold: MiB });
  hub.createRepo("org/big", { private: true });
  hub.commit("org/big", { "w.bin": { data: DATA, lfs: true } });
  dir = await mkdtemp(join(tmpdir(), "fsspec-ts-hf-dl-"));
});
afterAll(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("hf downloads", () => {
  it("a large LFS file: resolve's GET streams it; where each connection is capped, parts of its tail go as CDN ranges without the token", async () => {
    const fs = new HuggingFaceFileSystem({ endpoint: hub.url, token: "hf_test_token", skipInstanceCache: true, rangeConcurrency: 3, rangeThreshold: 0 });
    let counted = 0;
    hub.throttle(16 * MiB);
    try {
      await fs.getFile("hf://org/big/w.bin", join(dir, "w.bin"), { callback: { relativeUpdate: (n) => void (counted += n) } });
    } finally {
      hub.throttle(undefined);
    }
    expectBytes(await readFile(join(dir, "w.bin")), DATA);
    expect(counted).toBe(SIZE);
    const cdn = hub.requests.filter((r) => r.kind === "cdn");
    expect(cdn[0]!.headers.range).toBe("bytes=0-");
    expect(tailCut(cdn.map((r) => r.headers.range), SIZE)).toBeLessThan(SIZE);
    expect(cdn.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(cdn.slice(1).every((r) => r.headers["if-range"] !== undefined)).toBe(true);
    expect(hub.count("resolve")).toBe(1);
    await fs.close();
  });
});
