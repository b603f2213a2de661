/** GCS answers as FsError codes (the same as S3's), retries of 429 and 5xx, and names that need encoding. */
import { describe, expect, it } from "vitest";
import type { TestGcsServer } from "../support/gcs-server.js";
import { errorOf } from "../support/errors.js";
import { useGcsServer, makeFs } from "./helpers.js";

let srv: TestGcsServer;

useGcsServer(async (s) => {
  srv = s;
  srv.createBucket("er");
  srv.putObject("er", "f.txt", "hello");
});

describe("errors", () => {
  it("429 and 503 are retried with backoff; once the tries are spent, EIO with the status", async () => {
    const fs = makeFs(srv, { retries: 2 });
    srv.failNext("get", 429);
    srv.failNext("get", 503);
    expect((await fs.info("gs://er/f.txt")).size).toBe(5);
    expect(srv.count("get")).toBe(3);
    fs.invalidateCache();
    srv.resetCounts();
    srv.failNext("get", 503, 3);
    const err = await errorOf(fs.info("gs://er/f.txt"));
    expect(err).toMatchObject({ code: "EIO", status: 503, path: "er/f.txt" });
    expect(err.message).toMatch(/injected 503/);
    expect(srv.count("get")).toBe(3);
    await fs.close();
  });

  it("statuses map as on S3: 404 ENOENT, 401/403 EACCES, 412 ECHANGED or EEXIST, 409 EEXIST/ENOTEMPTY, 400 EINVAL", async () => {
    const fs = makeFs(srv);
    expect((await errorOf(fs.info("gs://er/none"))).code).toBe("ENOENT");
    srv.failNext("get", 403);
    const denied = await errorOf(fs.info("gs://er/f2"));
    expect(denied).toMatchObject({ code: "EACCES", status: 403 });
    expect(denied.message).toMatch(/lack the permission/);
    srv.failNext("upload", 400);
    expect(await errorOf(fs.pipe("gs://er/bad", "x"))).toMatchObject({ code: "EINVAL", status: 400 });
    srv.failNext("upload", 412);
    expect((await errorOf(fs.pipe("gs://er/new", "x", { mode: "create" }))).code).toBe("EEXIST");
    srv.createBucket("taken-bucket");
    expect((await errorOf(fs.mkdir("gs://taken-bucket"))).code).toBe("EEXIST");
    // The service's own words about a bad name come along.
    expect((await errorOf(fs.mkdir("gs://x"))).message).toMatch(/EINVAL.*Invalid bucket name/);
    expect((await errorOf(fs.rmdir("gs://er"))).code).toBe("ENOTEMPTY");
    await fs.close();
  });

  it("names with spaces, #, ?, %, + and non-ASCII letters round-trip", async () => {
    const fs = makeFs(srv);
    const name = "odd dir/a b#c?d%25e+f é.txt";
    await fs.pipe(`gs://er/${name}`, "odd");
    expect(srv.objectNames("er")).toContain(name);
    expect(await fs.readText(`gs://er/${name}`)).toBe("odd");
    expect(await fs.ls("gs://er/odd dir", { detail: false })).toEqual([`er/${name}`]);
    expect((await fs.info(`gs://er/${name}`)).size).toBe(3);
    await fs.rm(`gs://er/${name}`);
    expect(srv.objectNames("er")).not.toContain(name);
    await fs.close();
  });

  it("bad options are EINVAL", () => {
    expect(() => makeFs(srv, { chunkSize: 1000 })).toThrow(/chunkSize/);
    expect(() => makeFs(srv, { chunkSize: 256 * 1024 + 1 })).toThrow(/multiple of 256 KiB/);
    expect(() => makeFs(srv, { maxResults: 1001 })).toThrow(/maxResults/);
    expect(() => makeFs(srv, { deleteBatchSize: 101 })).toThrow(/deleteBatchSize/);
    expect(() => makeFs(srv, { access: "everything" as never })).toThrow(/access/);
    expect(() => makeFs(srv, { endpoint: "ftp://x" })).toThrow(/http/);
    // An unknown name is refused, naming the closest known one.
    expect(() => makeFs(srv, { chunksize: 1 } as never)).toThrow(/chunkSize/);
    expect(() => makeFs(srv, { checkDirectories: "yes" } as never)).toThrow(/checkDirectories/);
  });
});
