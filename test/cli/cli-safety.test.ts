/**
 * The CLI never prints URL credentials (user info, tokens in queries) on stdout or stderr, a
 * missing path named by `du` or `find` fails like `ls` does, and `cp`/`mv` refuse source names
 * that would steer a download outside the destination, as `get` does.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryFileSystem, planTransfer } from "../../src/index.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { bucketName, createBucket, CREDENTIALS, endpoint, makeFs, rawClient } from "../s3/helpers.js";
import { cliRun } from "./support/run-cli.js";

const cli = (...args: string[]) => cliRun(args, { progress: false });

const PASSWORD = "pa55-SECRET";
let server: TestHttpServer;
let tmp: string;
let base: string;

beforeAll(async () => {
  server = await startHttpServer({ auth: { basic: { user: "alice", password: PASSWORD } } });
  server.setFile("/d/a.txt", "alpha");
  server.setFile("/d/sub/b.txt", "bravo");
  base = server.url.replace("http://", `http://alice:${PASSWORD}@`);
  tmp = await mkdtemp(join(tmpdir(), "fsspec-cli-safe-"));
});
afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("fsspec-ts prints no URL credentials", () => {
  it("du of a missing URL fails (exit 3, ENOENT) without echoing the password", async () => {
    const r = await cli("du", `${base}/404`);
    expect(r.code).toBe(3);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^fsspec-ts: ENOENT: .*'http:\/\/\*\*\*@127\.0\.0\.1:\d+\/404'\n$/);
    expect(r.err + r.out).not.toContain(PASSWORD);
  });

  it("find and du of a missing path fail like ls does; an empty directory is not missing", async () => {
    for (const url of [`${base}/404`, "memory://cli-safety-nothing"]) {
      const ls = await cli("ls", url);
      for (const args of [["find", url], ["du", url], ["du", "-a", url], ["find", "--json", url]]) {
        const r = await cli(...args);
        expect([args.join(" "), r.code, r.out]).toEqual([args.join(" "), ls.code, ""]);
        expect(r.err).toContain("ENOENT");
      }
    }
    expect(await cli("mkdir", "memory://cli-safety-empty")).toMatchObject({ code: 0 });
    expect(await cli("find", "memory://cli-safety-empty")).toEqual({ code: 0, out: "", err: "" });
    expect(await cli("du", "memory://cli-safety-empty")).toEqual({ code: 0, out: "0\t/cli-safety-empty\n", err: "" });
  });

  it("listings, sizes and infos of a user:pass URL show *** instead of the password", async () => {
    const runs = [
      await cli("ls", "--full", `${base}/d/`),
      await cli("ls", "-l", "--full", `${base}/d/`),
      await cli("ls", "--json", `${base}/d/`),
      await cli("find", `${base}/d/`),
      await cli("find", "--json", `${base}/d/`),
      await cli("du", `${base}/d/`),
      await cli("du", "-a", `${base}/d/`),
      await cli("info", `${base}/d/a.txt`),
      await cli("glob", `${base}/d/*.txt`),
    ];
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.out + r.err).not.toContain(PASSWORD);
      expect(r.out).toContain("http://***@127.0.0.1:");
    }
    expect(runs[0]!.out).toContain("/d/a.txt");
    expect(await cli("ls", `${base}/d/`)).toEqual({ code: 0, out: "a.txt\nsub\n", err: "" }); // relative names: no URL at all
    expect(runs[5]!.out).toMatch(/^10\thttp:\/\/\*\*\*@127\.0\.0\.1:\d+\/d\n$/);
    expect((await cli("cat", `${base}/d/a.txt`)).out).toBe("alpha");
  });

  it("tokens in queries, usage errors and failed commands are redacted too", async () => {
    const results = [
      await cli("cat", `${server.url}/404?access_token=SECRET1&X-Amz-Signature=SECRET2`),
      await cli("du", `${server.url}/404?sig=SECRET3`),
      await cli(`${base}/d/a.txt`),
      await cli("cat", `${base}/d/a.txt`, "--bogus", `http://bob:SECRET4@127.0.0.1:9/x`),
      await cli("head", "-c", "x", `${base}/d/a.txt`),
    ];
    for (const r of results) {
      expect(r.code).not.toBe(0);
      expect(r.out + r.err).not.toMatch(/SECRET\d|pa55/);
    }
    expect(results[0]!.err).toContain("access_token=***&X-Amz-Signature=***");
  });

  it("a filecache of signed URLs lists them without their signatures", async () => {
    server.setFile("/signed.bin", "signed");
    const cacheDir = join(tmp, "signed-cache");
    const url = `filecache::${base}/signed.bin?X-Amz-Credential=SECRET5&X-Amz-Signature=SECRET6`;
    expect((await cli("-o", `filecache.cacheStorage=${cacheDir}`, "cat", url)).out).toBe("signed");
    const listed = await cli("cache", "ls", cacheDir);
    const json = await cli("cache", "ls", "--json", cacheDir);
    for (const r of [listed, json]) {
      expect(r.code).toBe(0);
      expect(r.out).toContain("signed.bin?X-Amz-Credential=***&X-Amz-Signature=***");
      expect(r.out).not.toMatch(/SECRET\d|pa55/);
    }
  });
});

describe("fsspec-ts cp/mv keep remote names inside the destination", () => {
  let bucket: string;
  const s3Options = () => [
    "-o",
    `s3.endpoint=${endpoint()}`,
    "-o",
    `s3.key=${CREDENTIALS.key}`,
    "-o",
    `s3.secret=${CREDENTIALS.secret}`,
    "-o",
    "s3.region=us-east-1",
    "-o",
    "s3.skipInstanceCache=true",
  ];

  beforeAll(async () => {
    bucket = bucketName("cli-safe");
    await createBucket(bucket);
    const client = rawClient();
    for (const [key, body] of [
      ["tree/ok.txt", "ok"],
      ["tree/../../evil", "evil"],
    ] as const) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
    client.destroy();
  });

  it("the tree really holds a key that climbs, and get() refuses it", async () => {
    const fs = makeFs();
    expect(await fs.find(`${bucket}/tree`)).toEqual([`${bucket}/tree/../../evil`, `${bucket}/tree/ok.txt`]);
    const dest = join(tmp, "get/a/dl");
    await mkdir(dest, { recursive: true });
    await expect(fs.get(`s3://${bucket}/tree`, `${dest}/`, { recursive: true })).rejects.toMatchObject({ code: "EACCES" });
    expect(await readdir(join(tmp, "get/a"))).toEqual(["dl"]);
    await fs.close();
  });

  it("copy within s3 and transfers to any other filesystem are refused the same way", async () => {
    const fs = makeFs();
    await expect(fs.copy(`${bucket}/tree`, `${bucket}/dl/`, { recursive: true })).rejects.toMatchObject({ code: "EACCES" });
    expect(await fs.exists(`${bucket}/dl/ok.txt`)).toBe(false);
    const mem = new MemoryFileSystem({ store: "private" });
    await expect(planTransfer(fs, `${bucket}/tree`, mem, "/dl/", { recursive: true })).rejects.toMatchObject({ code: "EACCES" });
    expect(await planTransfer(fs, `${bucket}/tree/ok.txt`, mem, "/dl/")).toEqual([expect.objectContaining({ dst: "/dl/ok.txt" })]);
    await fs.close();
  });

  for (const command of ["cp", "mv"]) {
    it(`${command} -r refuses it too: non-zero exit, EACCES, nothing written, nothing removed`, async () => {
      const dest = join(tmp, `${command}/a/dl`);
      await mkdir(dest, { recursive: true });
      const r = await cli(...s3Options(), command, "-r", `s3://${bucket}/tree`, `${dest}/`);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("EACCES");
      expect(await readdir(join(tmp, command))).toEqual(["a"]);
      expect(await readdir(join(tmp, `${command}/a`))).toEqual(["dl"]);
      expect(await readdir(dest)).toEqual([]);
      const fs = makeFs();
      expect(await fs.find(`${bucket}/tree`)).toHaveLength(2);
      await fs.close();
    });
  }

  it("a tree without such names still copies", async () => {
    const dest = join(tmp, "plain");
    const r = await cli(...s3Options(), "cp", "-r", `s3://${bucket}/tree/ok.txt`, `${dest}/`);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(await readdir(dest)).toEqual(["ok.txt"]);
  });
});
