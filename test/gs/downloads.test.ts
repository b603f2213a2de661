/**
 * Whole-object downloads on the local GCS server: one alt=media GET streamed to the file, or for a
 * large object parallel ranges pinned to the generation (a replaced object is ECHANGED, never
 * spliced). Each test checks the bytes on disk and the requests made.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { useGcsServer, makeFs, pattern, same } from "./helpers.js";

const MiB = 2 ** 20;
const SIZE = 24 * MiB;
const DATA = pattern(SIZE, 3);
let srv: TestGcsServer;
let dir: string;

useGcsServer(async (s) => {
  srv = s;
  srv.createBucket("dl");
});
beforeEach(async () => {
  srv.putObject("dl", "big.bin", DATA);
  srv.resetCounts();
  dir = await mkdtemp(join(tmpdir(), "fsspec-gs-dl-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const media = () => srv.requests.filter((r) => r.kind === "media");

describe("gs downloads", () => {
  it("below the threshold: one alt=media GET, pinned to the generation", async () => {
    const fs = makeFs(srv);
    await fs.getFile("gs://dl/big.bin", join(dir, "big.bin"));
    expect(same(await readFile(join(dir, "big.bin")), DATA)).toBe(true);
    expect(media().map((r) => [r.headers.range, r.query.get("ifGenerationMatch")])).toEqual([["bytes=0-", srv.getObject("dl", "big.bin")!.generation]]);
    await fs.close();
  });

  it("a large object: parallel ranges, each pinned to the generation; a cut part resumes; each byte counted once", async () => {
    const fs = makeFs(srv, { rangeConcurrency: 2, rangeThreshold: 0 });
    srv.cutNext("media", 3 * MiB);
    let counted = 0;
    await fs.getFile("gs://dl/big.bin", join(dir, "big.bin"), { callback: { relativeUpdate: (n) => void (counted += n) } });
    expect(same(await readFile(join(dir, "big.bin")), DATA)).toBe(true);
    const generation = srv.getObject("dl", "big.bin")!.generation;
    expect(media().every((r) => r.query.get("ifGenerationMatch") === generation)).toBe(true);
    expect(media().map((r) => r.headers.range).sort()).toEqual(
      [`bytes=0-${8 * MiB - 1}`, `bytes=${8 * MiB}-${16 * MiB - 1}`, `bytes=${16 * MiB}-${SIZE - 1}`, `bytes=${3 * MiB}-${8 * MiB - 1}`].sort(),
    );
    expect(counted).toBe(SIZE);
    await fs.close();
  });

  it("an object replaced between parts is ECHANGED and leaves no file", async () => {
    const fs = makeFs(srv, { rangeConcurrency: 2, rangeThreshold: 0 });
    let replaced = false;
    const replace = () => void (replaced || ((replaced = true), srv.putObject("dl", "big.bin", pattern(SIZE, 8))));
    const err = await errorOf(fs.getFile("gs://dl/big.bin", join(dir, "big.bin"), { callback: { relativeUpdate: replace } }));
    expect(err.code).toBe("ECHANGED");
    expect(await readdir(dir)).toEqual([]);
    await fs.close();
  });
});
