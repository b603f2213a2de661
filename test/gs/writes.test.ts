/** Writes on the local GCS server: simple and resumable uploads (and their resumes), create, append, batch rm, rewrite loops, buckets. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { useGcsServer, makeFs, pattern, same, TOKEN } from "./helpers.js";

const KIB256 = 256 * 1024;
let srv: TestGcsServer;

useGcsServer(async (s) => {
  srv = s;
  srv.createBucket("wr");
});

const stored = (name: string) => srv.getObject("wr", name)?.data;
const kinds = () => srv.requests.map((r) => r.kind);

describe("uploads", () => {
  it("a small file is one multipart upload carrying its MD5; the upload metadata goes along", async () => {
    const fs = makeFs(srv, { checkDirectories: false, uploadMetadata: { contentType: "text/csv", metadata: { origin: "test" } } });
    await fs.pipe("gs://wr/small.csv", "a,b\n1,2\n");
    expect(kinds()).toEqual(["upload"]);
    expect(srv.requests[0]!.query.get("uploadType")).toBe("multipart");
    const o = srv.getObject("wr", "small.csv")!;
    expect(Buffer.from(o.data).toString()).toBe("a,b\n1,2\n");
    expect(o.contentType).toBe("text/csv");
    expect(o.metadata).toEqual({ origin: "test" });
    await fs.close();
  });

  it("a large file goes in 256 KiB-multiple chunks of a resumable session, published by the last", async () => {
    const fs = makeFs(srv, { chunkSize: KIB256 });
    const data = pattern(3 * KIB256 + 1000, 2);
    await fs.pipe("gs://wr/big.bin", data);
    expect(kinds().filter((k) => k !== "list")).toEqual(["upload", "chunk", "chunk", "chunk", "chunk"]);
    const ranges = srv.requests.filter((r) => r.kind === "chunk").map((r) => r.headers["content-range"]);
    expect(ranges).toEqual([`bytes 0-${KIB256 - 1}/*`, `bytes ${KIB256}-${2 * KIB256 - 1}/*`, `bytes ${2 * KIB256}-${3 * KIB256 - 1}/*`, `bytes ${3 * KIB256}-${data.byteLength - 1}/${data.byteLength}`]);
    expect(same(stored("big.bin")!, data)).toBe(true);
    expect(srv.openSessions()).toBe(0);
    await fs.close();
  });

  it("an opened writer sends chunks while it is written; a size that ends on a chunk finishes with an empty last chunk", async () => {
    const fs = makeFs(srv, { chunkSize: KIB256 });
    const data = pattern(2 * KIB256, 3);
    const f = await fs.open("gs://wr/streamed.bin", "wb");
    await f.write(data.subarray(0, KIB256 + 10));
    expect(srv.count("chunk")).toBe(1);
    expect(stored("streamed.bin")).toBeUndefined();
    await f.write(data.subarray(KIB256 + 10));
    await f.close();
    expect(same(stored("streamed.bin")!, data)).toBe(true);
    expect(srv.requests.filter((r) => r.kind === "chunk").map((r) => r.headers["content-range"]).at(-1)).toBe(`bytes */${data.byteLength}`);
    await fs.close();
  });

  it("a chunk that breaks off is resumed from the offset the session committed, not resent whole", async () => {
    const fs = makeFs(srv, { chunkSize: 2 * KIB256 });
    const data = pattern(5 * KIB256 + 77, 4);
    // Of the first chunk the session keeps 256 KiB (what it had whole when the connection dropped).
    srv.cutNext("chunk", KIB256 + 1000);
    await fs.pipe("gs://wr/resumed.bin", data);
    expect(same(stored("resumed.bin")!, data)).toBe(true);
    const chunks = srv.requests.filter((r) => r.kind === "chunk").map((r) => r.headers["content-range"]);
    expect(chunks).toEqual([
      `bytes 0-${2 * KIB256 - 1}/*`,
      "bytes */*",
      `bytes ${KIB256}-${2 * KIB256 - 1}/*`,
      `bytes ${2 * KIB256}-${4 * KIB256 - 1}/*`,
      `bytes ${4 * KIB256}-${data.byteLength - 1}/${data.byteLength}`,
    ]);
    await fs.close();
  });

  it("a 503 on a chunk: the session is asked where it stands, then the rest goes", async () => {
    const fs = makeFs(srv, { chunkSize: KIB256 });
    const data = pattern(2 * KIB256 + 5, 5);
    srv.failNext("chunk", 503);
    await fs.pipe("gs://wr/retried.bin", data);
    expect(same(stored("retried.bin")!, data)).toBe(true);
    expect(srv.requests.filter((r) => r.kind === "chunk").map((r) => r.headers["content-range"]).slice(0, 3)).toEqual([`bytes 0-${KIB256 - 1}/*`, "bytes */*", `bytes 0-${KIB256 - 1}/*`]);
    await fs.close();
  });

  it("a discarded writer cancels its session and publishes nothing", async () => {
    const fs = makeFs(srv, { chunkSize: KIB256 });
    const f = await fs.open("gs://wr/dropped.bin", "wb");
    await f.write(pattern(KIB256 + 1, 6));
    expect(srv.openSessions()).toBe(1);
    await f.discard();
    expect(srv.openSessions()).toBe(0);
    expect(stored("dropped.bin")).toBeUndefined();
    await fs.close();
  });

  it("create mode (pipe mode create, open xb) is conditional: ifGenerationMatch=0, EEXIST when something is there", async () => {
    const fs = makeFs(srv, { chunkSize: KIB256 });
    srv.putObject("wr", "taken.txt", "old");
    expect(await errorOf(fs.pipe("gs://wr/taken.txt", "new", { mode: "create" }))).toMatchObject({ code: "EEXIST", path: "wr/taken.txt" });
    expect(srv.requests.filter((r) => r.kind === "upload").map((r) => r.query.get("ifGenerationMatch"))).toEqual(["0"]);
    expect(Buffer.from(stored("taken.txt")!).toString()).toBe("old");
    await fs.pipe("gs://wr/fresh.txt", "new", { mode: "create" });
    expect(Buffer.from(stored("fresh.txt")!).toString()).toBe("new");
    // Another writer creates the object while ours is open: the large upload's session refuses at the end.
    const f = await fs.open("gs://wr/raced.bin", "xb");
    await f.write(pattern(KIB256 + 3, 7));
    srv.putObject("wr", "raced.bin", "theirs");
    expect((await errorOf(f.close())).code).toBe("EEXIST");
    expect(Buffer.from(stored("raced.bin")!).toString()).toBe("theirs");
    await fs.close();
  });

  it("append rewrites the object with the new bytes after the old, only if it is still the generation read", async () => {
    const fs = makeFs(srv);
    srv.putObject("wr", "log.txt", "one\n");
    const f = await fs.open("gs://wr/log.txt", "ab");
    await f.write("two\n");
    await f.close();
    expect(Buffer.from(stored("log.txt")!).toString()).toBe("one\ntwo\n");
    const g = await fs.open("gs://wr/log.txt", "ab");
    await g.write("three\n");
    srv.putObject("wr", "log.txt", "replaced\n");
    expect((await errorOf(g.close())).code).toBe("ECHANGED");
    expect(Buffer.from(stored("log.txt")!).toString()).toBe("replaced\n");
    const h = await fs.open("gs://wr/new-log.txt", "ab");
    await h.write("first\n");
    await h.close();
    expect(Buffer.from(stored("new-log.txt")!).toString()).toBe("first\n");
    await fs.close();
  });

  it("a write over a directory is EISDIR; a write to a missing bucket ENOENT", async () => {
    const fs = makeFs(srv);
    srv.putObject("wr", "adir/inside", "x");
    expect((await errorOf(fs.pipe("gs://wr/adir", "y"))).code).toBe("EISDIR");
    expect((await errorOf(fs.pipe("gs://no-bucket-here/f", "y"))).code).toBe("ENOENT");
    await fs.close();
  });
});

describe("rm, copy and buckets", () => {
  it("rm of 250 objects is three batch requests of at most 100 deletes", async () => {
    for (let i = 0; i < 250; i++) srv.putObject("wr", `bulk/f${i}`, "x");
    srv.putObject("wr", "bulk/marker/", "");
    srv.putObject("wr", "bulk/marker/in", "x");
    const fs = makeFs(srv);
    srv.resetCounts();
    await fs.rm("gs://wr/bulk", { recursive: true });
    expect(srv.objectNames("wr").filter((n) => n.startsWith("bulk/"))).toEqual([]);
    expect(srv.count("batch")).toBe(3);
    const inner = srv.requests.filter((r) => r.batched);
    // 252 objects, and the name `bulk/` (a directory's marker, deleted whether or not it exists).
    expect(inner).toHaveLength(253);
    expect(inner.every((r) => r.kind === "delete" && r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    await fs.close();
  });

  it("a delete the batch answers with 503 goes again; a 403 fails naming the object", async () => {
    for (let i = 0; i < 3; i++) srv.putObject("wr", `flaky/f${i}`, "x");
    const fs = makeFs(srv);
    srv.resetCounts();
    srv.failNext("delete", 503);
    await fs.rm(["gs://wr/flaky/f0", "gs://wr/flaky/f1", "gs://wr/flaky/f2"]);
    expect(srv.objectNames("wr").filter((n) => n.startsWith("flaky/"))).toEqual([]);
    expect(srv.count("batch")).toBe(2);
    expect(srv.requests.filter((r) => r.batched)).toHaveLength(4);
    srv.putObject("wr", "flaky/g", "x");
    srv.failNext("delete", 403);
    const err = await errorOf(fs.rm("gs://wr/flaky/g"));
    expect(err).toMatchObject({ code: "EACCES", path: "wr/flaky/g", status: 403 });
    expect(srv.getObject("wr", "flaky/g")).toBeDefined();
    await fs.close();
  });

  it("rmFile: ENOENT for a missing object, EISDIR for a prefix", async () => {
    const fs = makeFs(srv);
    srv.putObject("wr", "rmf/sub/x", "x");
    expect((await errorOf(fs.rmFile("gs://wr/rmf/none"))).code).toBe("ENOENT");
    expect((await errorOf(fs.rmFile("gs://wr/rmf/sub"))).code).toBe("EISDIR");
    await fs.close();
  });

  it("copy is a server-side rewrite that loops on its rewriteToken", async () => {
    const data = pattern(3 * 2 ** 20 + 10, 8);
    srv.putObject("wr", "cp/src.bin", data);
    srv.setRewriteBytesPerCall(2 ** 20);
    try {
      const fs = makeFs(srv);
      srv.resetCounts();
      await fs.copy("gs://wr/cp/src.bin", "gs://wr/cp/dst.bin");
      const rewrites = srv.requests.filter((r) => r.kind === "rewrite");
      expect(rewrites).toHaveLength(4);
      expect(rewrites.map((r) => r.query.has("rewriteToken"))).toEqual([false, true, true, true]);
      expect(kinds().filter((k) => k === "media" || k === "upload")).toEqual([]);
      expect(same(stored("cp/dst.bin")!, data)).toBe(true);
      const paced = makeFs(srv, { rewriteBytesPerCall: 2 * 2 ** 20 });
      srv.setRewriteBytesPerCall(undefined);
      srv.resetCounts();
      await paced.cpFile("gs://wr/cp/src.bin", "gs://wr/cp/dst2.bin");
      expect(srv.requests.filter((r) => r.kind === "rewrite").map((r) => r.query.get("maxBytesRewrittenPerCall"))).toEqual(["2097152", "2097152"]);
      expect(same(stored("cp/dst2.bin")!, data)).toBe(true);
      expect((await errorOf(fs.cpFile("gs://wr/cp/none", "gs://wr/cp/x"))).code).toBe("ENOENT");
      expect(await errorOf(fs.cpFile("gs://wr/cp/src.bin", "gs://no-such-bucket/x"))).toMatchObject({ code: "ENOENT", path: "no-such-bucket/x" });
      await Promise.all([fs.close(), paced.close()]);
    } finally {
      srv.setRewriteBytesPerCall(undefined);
    }
  });

  it("mkdir of a bucket creates it in the project (EEXIST when taken); rmdir of a bucket with objects is ENOTEMPTY", async () => {
    const fs = makeFs(srv);
    await fs.mkdir("gs://made-here");
    expect(srv.requests.filter((r) => r.kind === "bucket" && r.method === "POST").map((r) => r.query.get("project"))).toEqual(["test-project"]);
    expect(await fs.exists("gs://made-here")).toBe(true);
    expect((await errorOf(fs.mkdir("gs://made-here"))).code).toBe("EEXIST");
    await fs.mkdir("gs://made-here/a/prefix");
    await fs.mkdir("gs://auto-made/some/dir", { createParents: true });
    expect(await fs.exists("gs://auto-made")).toBe(true);
    expect((await errorOf(fs.mkdir("gs://not-made/x", { createParents: false }))).code).toBe("ENOENT");
    await fs.pipe("gs://made-here/f", "x");
    expect((await errorOf(fs.rmdir("gs://made-here"))).code).toBe("ENOTEMPTY");
    await fs.rm("gs://made-here", { recursive: true });
    expect(await fs.exists("gs://made-here")).toBe(false);
    expect((await errorOf(fs.rm("gs://", { recursive: true }))).code).toBe("EACCES");
    await fs.close();
  });

  it("the MD5 of a simple upload is the service's check: what arrives is what was sent", async () => {
    const fs = makeFs(srv, { checkDirectories: false });
    const data = pattern(10_000, 9);
    await fs.pipe("gs://wr/md5.bin", data);
    const info = await fs.info("gs://wr/md5.bin");
    expect(info.md5Hash).toBe(createHash("md5").update(data).digest("base64"));
    await fs.close();
  });
});
