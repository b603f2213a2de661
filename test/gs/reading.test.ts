/** Reads on the local GCS server: ranges, suffixes, resumed downloads, and reads pinned to one generation. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { CachingFileSystem } from "../../src/index.js";
import { catFilePinned, fileVersion } from "../../src/core/versions.js";
import type { TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { useGcsServer, makeFs, pattern, same } from "./helpers.js";

const DATA = pattern(300_000, 5);
let srv: TestGcsServer;

useGcsServer(async (s) => {
  srv = s;
  srv.createBucket("rd");
});
beforeEach(() => {
  srv.putObject("rd", "data.bin", DATA);
  srv.resetCounts();
});

const media = () => srv.requests.filter((r) => r.kind === "media");

describe("reading", () => {
  it("catFile: whole, ranged (one Range request each), negative offsets, past the end", async () => {
    const fs = makeFs(srv);
    expect(same(await fs.catFile("gs://rd/data.bin"), DATA)).toBe(true);
    expect(same(await fs.catFile("gs://rd/data.bin", 1000, 5000), DATA.subarray(1000, 5000))).toBe(true);
    expect(media().map((r) => r.headers.range)).toEqual(["bytes=0-", "bytes=1000-4999"]);
    srv.resetCounts();
    expect(same(await fs.catFile("gs://rd/data.bin", -100), DATA.subarray(-100))).toBe(true);
    // A suffix read is one request: no lookup of the size.
    expect(srv.requests.map((r) => [r.kind, r.headers.range])).toEqual([["media", "bytes=-100"]]);
    expect((await fs.catFile("gs://rd/data.bin", 400_000, 500_000)).byteLength).toBe(0);
    expect(same(await fs.catFile("gs://rd/data.bin", 299_990, 400_000), DATA.subarray(299_990))).toBe(true);
    expect(await errorOf(fs.catFile("gs://rd/missing.bin"))).toMatchObject({ code: "ENOENT", path: "rd/missing.bin" });
    srv.putObject("rd", "dir/inner", "x");
    expect(await errorOf(fs.catFile("gs://rd/dir"))).toMatchObject({ code: "EISDIR" });
    await fs.close();
  });

  it("a download that breaks off resumes from the byte it reached, within the same object", async () => {
    const fs = makeFs(srv);
    srv.cutNext("media", 100_000);
    expect(same(await fs.catFile("gs://rd/data.bin"), DATA)).toBe(true);
    expect(media().map((r) => r.headers.range)).toEqual(["bytes=0-", "bytes=100000-299999"]);
    await fs.close();
  });

  it("a 503 is retried; a 403 is EACCES and not retried", async () => {
    const fs = makeFs(srv);
    srv.failNext("media", 503, 2);
    expect(same(await fs.catFile("gs://rd/data.bin", 0, 10), DATA.subarray(0, 10))).toBe(true);
    expect(media()).toHaveLength(3);
    srv.resetCounts();
    srv.failNext("media", 403);
    const err = await errorOf(fs.catFile("gs://rd/data.bin", 0, 10));
    expect(err).toMatchObject({ code: "EACCES", status: 403, path: "rd/data.bin" });
    expect(err.message).toMatch(/token: "anon"/);
    expect(media()).toHaveLength(1);
    await fs.close();
  });

  it("an opened file reads the generation it was opened on: a replaced object is ECHANGED, never spliced", async () => {
    const fs = makeFs(srv);
    const f = await fs.open("gs://rd/data.bin", "rb", { blockSize: 65_536 });
    const generation = srv.getObject("rd", "data.bin")!.generation;
    expect(same(await f.read(1000), DATA.subarray(0, 1000))).toBe(true);
    expect(media().every((r) => r.query.get("ifGenerationMatch") === generation)).toBe(true);
    srv.putObject("rd", "data.bin", pattern(300_000, 9));
    f.seek(200_000);
    const err = await errorOf(f.read(1000));
    expect(err.code).toBe("ECHANGED");
    expect(err.path).toBe("rd/data.bin");
    await f.close();
    await fs.close();
  });

  it("a file opened with a size (no lookup, as transfers open) ties its later blocks to the first one's ETag", async () => {
    const fs = makeFs(srv);
    const f = await fs.open("gs://rd/data.bin", "rb", { size: DATA.byteLength, blockSize: 65_536, cacheType: "none" });
    expect(srv.count("get")).toBe(0);
    expect(same(await f.read(65_536), DATA.subarray(0, 65_536))).toBe(true);
    srv.putObject("rd", "data.bin", pattern(300_000, 13));
    expect((await errorOf(f.read(65_536))).code).toBe("ECHANGED");
    await f.close();
    await fs.close();
  });

  it("a resume after a break stays on the pinned generation", async () => {
    const fs = makeFs(srv);
    const f = await fs.open("gs://rd/data.bin", "rb", { blockSize: 300_000, cacheType: "none" });
    srv.cutNext("media", 50_000);
    expect(same(await f.read(), DATA)).toBe(true);
    const generation = srv.getObject("rd", "data.bin")!.generation;
    expect(media().map((r) => [r.headers.range, r.query.get("ifGenerationMatch")])).toEqual([
      ["bytes=0-299999", generation],
      ["bytes=50000-299999", generation],
    ]);
    await f.close();
    await fs.close();
  });

  it("pinned reads (the version hook): the generation is the version; another one is ECHANGED", async () => {
    const fs = makeFs(srv);
    const version = await fileVersion(fs, "gs://rd/data.bin");
    expect(version).toEqual({ size: DATA.byteLength, key: srv.getObject("rd", "data.bin")!.generation });
    expect(same(await catFilePinned(fs, "gs://rd/data.bin", 10, 20, version), DATA.subarray(10, 20))).toBe(true);
    srv.putObject("rd", "data.bin", DATA);
    expect(await errorOf(catFilePinned(fs, "gs://rd/data.bin", 10, 20, version))).toMatchObject({ code: "ECHANGED", status: 412 });
    await fs.close();
  });

  it("blockcache over gs reads its blocks pinned to one generation, never joined to another's", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-gs-blocks-"));
    try {
      const fs = makeFs(srv);
      const cache = () => new CachingFileSystem({ fs, cacheStorage: dir, blockSize: 65_536, skipInstanceCache: true });
      expect(same(await cache().catFile("gs://rd/data.bin", 0, 100), DATA.subarray(0, 100))).toBe(true);
      const generation = srv.getObject("rd", "data.bin")!.generation;
      expect(media().length).toBeGreaterThan(0);
      expect(media().every((r) => r.query.get("ifGenerationMatch") === generation)).toBe(true);
      const replaced = pattern(300_000, 11);
      srv.putObject("rd", "data.bin", replaced);
      fs.invalidateCache();
      // A later instance over the same cache directory: all of the new version, none of block 0 of the old.
      expect(same(await cache().catFile("gs://rd/data.bin"), replaced)).toBe(true);
      await fs.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("progress of an opened file counts the bytes read", async () => {
    const fs = makeFs(srv);
    let size = 0;
    let done = 0;
    const f = await fs.open("gs://rd/data.bin", "rb", { callback: { setSize: (n) => (size = n), relativeUpdate: (n) => (done += n) } });
    await f.read();
    await f.close();
    expect(size).toBe(DATA.byteLength);
    expect(done).toBe(DATA.byteLength);
    await fs.close();
  });
});
