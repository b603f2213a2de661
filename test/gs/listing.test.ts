/** Listings, metadata and the project's buckets on the local GCS server: pages, prefixes, flat finds. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32c, type TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { useGcsServer, makeFs } from "./helpers.js";

let srv: TestGcsServer;

useGcsServer(async (s) => {
  srv = s;
  srv.createBucket("lst");
  for (let i = 0; i < 2_500; i++) srv.putObject("lst", `many/f${String(i).padStart(4, "0")}`, "x");
  for (let i = 0; i < 7; i++) srv.putObject("lst", `many/sub${i}/inner`, "y");
  srv.putObject("lst", "tree/a.txt", "aaa", { contentType: "text/plain" });
  srv.putObject("lst", "tree/b/c.txt", "cc");
  srv.putObject("lst", "tree/b/d/e.txt", "e");
  srv.putObject("lst", "tree/marked/", "");
  srv.putObject("lst", "tree/marked/in.txt", "in");
});

describe("listings", () => {
  it("ls follows nextPageToken past 1,000 entries, and past tiny pages", async () => {
    const fs = makeFs(srv);
    const names = await fs.ls("gs://lst/many", { detail: false });
    expect(names).toHaveLength(2_507);
    expect(names.filter((n) => n.startsWith("lst/many/sub"))).toHaveLength(7);
    expect(srv.count("list")).toBe(3);
    expect(srv.requests.every((r) => r.kind !== "list" || r.query.get("delimiter") === "/")).toBe(true);

    srv.resetCounts();
    const small = makeFs(srv, { maxResults: 3 });
    const tree = await small.ls("gs://lst/tree");
    expect(tree.map((e) => [e.name, e.type]).sort()).toEqual([
      ["lst/tree/a.txt", "file"],
      ["lst/tree/b", "directory"],
      ["lst/tree/marked", "directory"],
    ]);
    // Three entries (a.txt, b/, marked/) fit one page of three.
    expect(srv.requests.filter((r) => r.kind === "list").map((r) => r.query.get("maxResults"))).toEqual(["3"]);
    const pages = makeFs(srv, { maxResults: 1 });
    expect((await pages.ls("gs://lst/tree", { detail: false })).sort()).toEqual(["lst/tree/a.txt", "lst/tree/b", "lst/tree/marked"]);
    await Promise.all([fs.close(), small.close(), pages.close()]);
  });

  it("find is one flat listing of the subtree (paged), glob too; markers are no files", async () => {
    const fs = makeFs(srv, { maxResults: 2 });
    expect(await fs.find("gs://lst/tree")).toEqual(["lst/tree/a.txt", "lst/tree/b/c.txt", "lst/tree/b/d/e.txt", "lst/tree/marked/in.txt"]);
    const lists = srv.requests.filter((r) => r.kind === "list");
    expect(lists.every((r) => !r.query.has("delimiter") && r.query.get("prefix") === "tree/")).toBe(true);
    expect(lists).toHaveLength(3);
    srv.resetCounts();
    expect(await fs.glob("gs://lst/tree/**/*.txt")).toEqual(["lst/tree/a.txt", "lst/tree/b/c.txt", "lst/tree/b/d/e.txt", "lst/tree/marked/in.txt"]);
    expect(srv.count("list")).toBe(3);
    const withDirs = await fs.find("gs://lst/tree", { withDirs: true });
    expect(withDirs).toEqual(["lst/tree", "lst/tree/a.txt", "lst/tree/b", "lst/tree/b/c.txt", "lst/tree/b/d", "lst/tree/b/d/e.txt", "lst/tree/marked", "lst/tree/marked/in.txt"]);
    await fs.close();
  });

  it("info carries the object's metadata: size, hashes, generation, dates, content type", async () => {
    const fs = makeFs(srv);
    const stored = srv.getObject("lst", "tree/a.txt")!;
    const info = await fs.info("gs://lst/tree/a.txt");
    expect(info).toMatchObject({
      name: "lst/tree/a.txt",
      size: 3,
      type: "file",
      generation: stored.generation,
      metageneration: "1",
      contentType: "text/plain",
      md5Hash: createHash("md5").update("aaa").digest("base64"),
      crc32c: crc32c(Buffer.from("aaa")),
    });
    expect(info.mtime).toEqual(stored.updated);
    expect(await fs.modified("gs://lst/tree/a.txt")).toEqual(stored.updated);
    expect(await fs.info("gs://lst/tree/b")).toEqual({ name: "lst/tree/b", size: 0, type: "directory" });
    expect(await fs.info("gs://lst")).toEqual({ name: "lst", size: 0, type: "directory" });
    const missing = await errorOf(fs.info("gs://lst/tree/nope"));
    expect(missing).toMatchObject({ code: "ENOENT", path: "lst/tree/nope", status: 404 });
    expect(await errorOf(fs.info("gs://no-such-bucket"))).toMatchObject({ code: "ENOENT", path: "no-such-bucket" });
    expect(await errorOf(fs.ls("gs://no-such-bucket/x"))).toMatchObject({ code: "ENOENT" });
    await fs.close();
  });

  it("the ukey moves with the generation, not with anything else", async () => {
    const fs = makeFs(srv);
    srv.putObject("lst", "uk/f", "same");
    const first = await fs.ukey("gs://lst/uk/f");
    fs.invalidateCache();
    expect(await fs.ukey("gs://lst/uk/f")).toBe(first);
    srv.putObject("lst", "uk/f", "same");
    fs.invalidateCache();
    expect(await fs.ukey("gs://lst/uk/f")).not.toBe(first);
    await fs.close();
  });

  it('ls("gs://") lists the project\'s buckets (paged); without a project it says how to name one', async () => {
    srv.createBucket("other-project-bucket", { project: "elsewhere" });
    const fs = makeFs(srv);
    expect((await fs.ls("gs://", { detail: false })).sort()).toEqual(["lst"]);
    expect(srv.requests.filter((r) => r.kind === "bucket").map((r) => r.query.get("project"))).toEqual(["test-project"]);
    const byEnv = makeFs(srv, { project: undefined });
    process.env.GOOGLE_CLOUD_PROJECT = "elsewhere";
    try {
      expect(await byEnv.ls("gs://", { detail: false })).toEqual(["other-project-bucket"]);
    } finally {
      delete process.env.GOOGLE_CLOUD_PROJECT;
    }
    const none = makeFs(srv, { project: undefined });
    const err = await errorOf(none.ls("gs://"));
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/GOOGLE_CLOUD_PROJECT/);
    await Promise.all([fs.close(), byEnv.close(), none.close()]);
  });

  it("userProject goes on every call (requester-pays buckets)", async () => {
    const fs = makeFs(srv, { userProject: "payer" });
    await fs.ls("gs://lst/tree");
    await fs.catFile("gs://lst/tree/a.txt");
    expect(srv.requests.length).toBeGreaterThan(1);
    expect(srv.requests.every((r) => r.query.get("userProject") === "payer")).toBe(true);
    await fs.close();
  });
});
