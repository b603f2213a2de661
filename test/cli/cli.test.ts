import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { parseStorageOptions } from "../../src/cli/options.js";
import { formatAge, parseDuration } from "../../src/cli/duration.js";
import { MemoryFileSystem, urlToFs } from "../../src/index.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string; bytes: Buffer }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on("data", (c: Buffer) => outChunks.push(c));
  stderr.on("data", (c: Buffer) => errChunks.push(c));
  const code = await runCli(args, { stdout, stderr, progress: false });
  const bytes = Buffer.concat(outChunks);
  return { code, out: bytes.toString(), err: Buffer.concat(errChunks).toString(), bytes };
}

const mem = new MemoryFileSystem();
let dir: string;
let server: TestHttpServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-cli-"));
  server = await startHttpServer();
  await mem.pipe({ "/cli/a.txt": "alpha\n", "/cli/b.bin": new Uint8Array([0, 1, 2, 255]), "/cli/sub/c.txt": "charlie\n" });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("fsspec-ts CLI", () => {
  it("ls, ls -l and ls --json", async () => {
    // Names relative to the listed directory (--full: URLs).
    expect((await cli("ls", "memory://cli")).out.trim().split("\n")).toEqual(["a.txt", "b.bin", "sub"]);
    expect((await cli("ls", "--full", "memory://cli")).out.trim().split("\n")).toEqual(["memory:///cli/a.txt", "memory:///cli/b.bin", "memory:///cli/sub"]);
    const long = (await cli("ls", "-l", "memory://cli")).out.trim().split("\n");
    expect(long[0]).toMatch(/^- +6 \S+ a\.txt$/);
    expect(long[2]).toMatch(/^d +0 .* sub$/);
    const json = JSON.parse((await cli("ls", "--json", "memory://cli")).out);
    expect(json.map((e: { name: string; type: string }) => [e.name, e.type])).toEqual([["/cli/a.txt", "file"], ["/cli/b.bin", "file"], ["/cli/sub", "directory"]]);
  });

  it("cat writes exact bytes; head and tail take -c", async () => {
    expect((await cli("cat", "memory://cli/b.bin")).bytes).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((await cli("cat", "memory://cli/a.txt", "memory://cli/sub/c.txt")).out).toBe("alpha\ncharlie\n");
    expect((await cli("head", "-c", "3", "memory://cli/a.txt")).out).toBe("alp");
    expect((await cli("tail", "-c", "3", "memory://cli/a.txt")).out).toBe("ha\n");
  });

  it("find, glob, du and info", async () => {
    expect((await cli("find", "memory://cli")).out.trim().split("\n")).toEqual(["/cli/a.txt", "/cli/b.bin", "/cli/sub/c.txt"]);
    expect((await cli("find", "-d", "1", "memory://cli")).out.trim().split("\n")).toEqual(["/cli/a.txt", "/cli/b.bin"]);
    expect((await cli("glob", "memory://cli/**/*.txt")).out.trim().split("\n")).toEqual(["/cli/a.txt", "/cli/sub/c.txt"]);
    expect((await cli("du", "memory://cli")).out).toBe("18\t/cli\n");
    expect((await cli("du", "-a", "memory://cli")).out.trim().split("\n")).toContain("8\t/cli/sub/c.txt");
    expect(JSON.parse((await cli("info", "memory://cli/a.txt")).out)).toMatchObject({ name: "/cli/a.txt", size: 6, type: "file" });
  });

  it("cp follows fsspec's rules across filesystems, and mv removes the source", async () => {
    expect((await cli("cp", "-r", "memory://cli/sub", `${dir}/out`)).code).toBe(0);
    expect(await readFile(join(dir, "out/c.txt"), "utf8")).toBe("charlie\n");
    expect((await cli("cp", "-r", "memory://cli/", `${dir}/all`)).code).toBe(0);
    expect(await readFile(join(dir, "all/sub/c.txt"), "utf8")).toBe("charlie\n");
    await mkdir(join(dir, "many"));
    expect((await cli("cp", "memory://cli/a.txt", "memory://cli/b.bin", `${dir}/many`)).code).toBe(0);
    expect((await readFile(join(dir, "many/b.bin"))).equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    await writeFile(join(dir, "up.txt"), "upload");
    expect((await cli("mv", join(dir, "up.txt"), "memory://cli-moved/up.txt")).code).toBe(0);
    expect(await mem.readText("/cli-moved/up.txt")).toBe("upload");
    expect((await cli("ls", join(dir, "up.txt"))).code).toBe(3);
  });

  it("mv across filesystems removes only the sources it copied (--max-depth leaves the rest)", async () => {
    await mkdir(join(dir, "deep/sub"), { recursive: true });
    await writeFile(join(dir, "deep/top.txt"), "top");
    await writeFile(join(dir, "deep/sub/low.txt"), "low");
    expect((await cli("mv", "-r", "-d", "1", join(dir, "deep"), "memory://cli-deep/")).code).toBe(0);
    expect(await mem.find("/cli-deep")).toEqual(["/cli-deep/top.txt"]);
    expect(await readFile(join(dir, "deep/sub/low.txt"), "utf8")).toBe("low");
    expect((await cli("ls", join(dir, "deep/top.txt"))).code).toBe(3); // not found
  });

  it("reads over HTTP and through a cache chain, then shows the cache", async () => {
    server.setFile("/remote/data.bin", "over http");
    const cacheDir = join(dir, "cache");
    const url = `filecache::${server.url}/remote/data.bin`;
    const first = await cli("-o", `filecache.cacheStorage=${cacheDir}`, "cat", url);
    expect(first.out).toBe("over http");
    server.resetCounts();
    const second = await cli("-o", `filecache.cacheStorage=${cacheDir}`, "cat", url);
    expect(second.out).toBe("over http");
    expect(server.requestCount("/remote/data.bin", "GET")).toBe(0);
    const listed = await cli("cache", "ls", cacheDir);
    expect(listed.out).toContain(`${server.url}/remote/data.bin`);
    expect(Number((await cli("cache", "size", cacheDir)).out)).toBeGreaterThanOrEqual(9);
    // Durations in human units (a bare number is seconds): a copy seconds old survives an hour's limit.
    expect(listed.out).toMatch(/^ +\S+ +\d+s /m);
    expect((await cli("cache", "prune", "--yes", cacheDir, "--older-than", "1h")).out).toBe("");
    expect((await cli("cache", "prune", "--yes", cacheDir, "--older-than", "3600")).out).toBe("");
    const bad = await cli("cache", "prune", "--yes", cacheDir, "--older-than", "an hour");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--older-than must be a duration such as");
    expect((await cli("cache", "ls", cacheDir)).out).toContain(`${server.url}/remote/data.bin`);
    expect((await cli("cache", "prune", cacheDir, "--older-than", "0")).code).toBe(2); // no terminal to ask, no --yes
    expect((await cli("cache", "prune", "--yes", cacheDir, "--older-than", "0ms")).out).toContain("removed");
    expect((await cli("cache", "ls", cacheDir)).out).toBe("");
  });

  it("mkdir, touch and rm", async () => {
    expect((await cli("mkdir", `${dir}/made/deep`)).code).toBe(3); // the parent is missing
    expect((await cli("mkdir", "-p", `${dir}/made/deep`)).code).toBe(0);
    expect((await cli("touch", `${dir}/made/deep/f`)).code).toBe(0);
    expect((await cli("rm", `${dir}/made`)).err).toContain("EISDIR");
    expect((await cli("rm", "-r", `${dir}/made`)).code).toBe(0);
    expect((await cli("ls", `${dir}/made`)).code).toBe(3);
  });

  it("errors: typed message and exit 3 for a missing path; usage errors exit 2", async () => {
    const missing = await cli("cat", "memory://cli/nope");
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^fsspec-ts: ENOENT: .*\/cli\/nope/);
    expect((await cli("bogus")).code).toBe(2);
    expect((await cli("ls", "nosuchproto://x")).code).toBe(2);
    expect((await cli("head", "-c", "-5", "memory://cli/a.txt")).code).toBe(2);
    expect((await cli("cp", "memory://cli/a.txt")).code).toBe(2);
  });

  it("durations: units ms s m h d w, a bare number in seconds; ages shown in the largest readable unit", () => {
    expect([parseDuration("--x", "500ms"), parseDuration("--x", "90s"), parseDuration("--x", "90"), parseDuration("--x", "1.5m")]).toEqual([500, 90_000, 90_000, 90_000]);
    expect([parseDuration("--x", "12h"), parseDuration("--x", "7d"), parseDuration("--x", "2W")]).toEqual([43_200_000, 604_800_000, 1_209_600_000]);
    for (const wrong of ["", "-1s", "7 days", "1e3", "s", "10y"]) expect(() => parseDuration("--x", wrong)).toThrow(/--x must be a duration/);
    expect([formatAge(undefined), formatAge(45_000), formatAge(600_000), formatAge(3 * 3_600_000), formatAge(9 * 86_400_000)]).toEqual(["?", "45s", "10m", "3h", "9d"]);
  });

  it("-o and --storage-options build per-layer options", async () => {
    expect(parseStorageOptions(["s3.anon=true", "concurrency=4", "filecache.cacheStorage=/tmp/c", "name=plain text"])).toEqual({
      s3: { anon: true },
      concurrency: 4,
      filecache: { cacheStorage: "/tmp/c" },
      name: "plain text",
    });
    expect(parseStorageOptions([], '{"memory": {"x": 1}}')).toEqual({ memory: { x: 1 } });
    expect(() => parseStorageOptions(["novalue"])).toThrow(/key=value/);
    const { fs } = await urlToFs("dir::memory://cli", parseStorageOptions(["dir.concurrency=3"]));
    expect(fs.options.concurrency).toBe(3);
  });

  it("the binary runs from a shell with exit codes", () => {
    const ok = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "ls", dir], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout.split("\n")).toContain("all");
    const bad = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "info", `${dir}/missing`], { encoding: "utf8" });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain("ENOENT");
  });
});
