/**
 * `fsspec-ts cache ...` of the real binary: a missing folder fails, clear and prune delete only
 * in a folder that is a cache, and only after a yes (typed in a terminal, or --yes); without a
 * terminal to ask they refuse.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { fsspec, inTerminal } from "./binary.js";

// Each test runs the binary several times: a process start takes seconds on a busy two-core machine.
vi.setConfig({ testTimeout: 90_000 });

let dir: string;
let server: TestHttpServer;

/** A filecache directory holding the given files of the server. */
async function filledCache(name: string, files = ["/a.txt", "/b.txt"]): Promise<string> {
  const cache = join(dir, name);
  for (const f of files) {
    const r = await fsspec(["-o", `filecache.cacheStorage=${cache}`, "cat", `filecache::${server.url}${f}`]);
    expect(r).toMatchObject({ code: 0, err: "" });
  }
  return cache;
}

const dataFiles = async (cache: string) => (await readdir(cache)).filter((f) => f !== "cache" && !f.startsWith(".fsspec-"));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-cli-cache-"));
  server = await startHttpServer();
  server.setFile("/a.txt", "alpha");
  server.setFile("/b.txt", "bravo!");
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("cache ls and size", () => {
  it("list entries (text, --json, --jsonl); a missing folder exits 3", async () => {
    const cache = await filledCache("listed");
    const [text, json, jsonl] = await Promise.all([fsspec(["cache", "ls", cache]), fsspec(["cache", "ls", "--json", cache]), fsspec(["cache", "ls", "--jsonl", cache])]);
    expect(text.out.trim().split("\n")).toHaveLength(2);
    expect(text.out).toContain(`<- ${server.url}/a.txt`);
    const entries = JSON.parse(json.out) as Array<{ path: string; size: number }>;
    expect(entries.map((e) => [e.path, e.size]).sort()).toEqual([[`${server.url}/a.txt`, 5], [`${server.url}/b.txt`, 6]]);
    expect(jsonl.out.trim().split("\n").map((l) => (JSON.parse(l) as { path: string }).path).sort()).toEqual(entries.map((e) => e.path).sort());
    for (const args of [["cache", "ls", join(dir, "nope")], ["cache", "size", join(dir, "nope")], ["cache", "clear", "--yes", join(dir, "nope")]]) {
      const r = await fsspec(args);
      expect([args[1], r.code, r.out]).toEqual([args[1], 3, ""]);
      expect(r.err).toContain("ENOENT");
    }
    expect(Number((await fsspec(["cache", "size", cache])).out)).toBeGreaterThanOrEqual(11);
  });
});

describe("cache clear and prune", () => {
  it("refuse a folder that is not a cache, and touch nothing in it", async () => {
    const plain = join(dir, "documents");
    await mkdir(join(plain, "notes"), { recursive: true });
    await writeFile(join(plain, "thesis.txt"), "years of work");
    await writeFile(join(plain, "notes/n.txt"), "n");
    for (const args of [["clear", "--yes"], ["prune", "--yes", "--older-than", "0"]]) {
      const r = await fsspec(["cache", ...args, plain]);
      expect([args[0], r.code]).toEqual([args[0], 2]);
      expect(r.err).toContain("does not look like a cache directory");
    }
    expect((await readdir(plain)).sort()).toEqual(["notes", "thesis.txt"]);
    // Flat files with ordinary names and no metadata are no cache either.
    const flat = join(dir, "flat");
    await mkdir(flat);
    await writeFile(join(flat, "photo.jpg"), "jpg");
    expect((await fsspec(["cache", "clear", "--yes", flat])).code).toBe(2);
    expect(await readdir(flat)).toEqual(["photo.jpg"]);
  });

  it("without a terminal to ask, refuse unless --yes; with --yes, remove", async () => {
    const cache = await filledCache("noninteractive");
    const refused = await fsspec(["cache", "clear", cache]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("pass --yes");
    expect(await dataFiles(cache)).toHaveLength(2);
    const cleared = await fsspec(["cache", "clear", "--yes", cache]);
    expect(cleared).toMatchObject({ code: 0, err: "removed 2 cached file(s) (11B)\n" });
    expect(await dataFiles(cache)).toEqual([]);
    expect(await fsspec(["cache", "clear", cache])).toMatchObject({ code: 0, err: "nothing to remove\n" });
  });

  it("in a terminal, ask: no keeps everything, yes removes", async () => {
    const cache = await filledCache("interactive");
    const no = await inTerminal(["cache", "clear", cache], [{ waitFor: /Remove 2 cached file\(s\) \(11B\) from .*\? \[y\/N\] $/, keys: "n\r" }]);
    expect(no.code).toBe(0);
    expect(no.screen).toContain("nothing removed");
    expect(await dataFiles(cache)).toHaveLength(2);
    const yes = await inTerminal(["cache", "clear", cache], [{ waitFor: /\[y\/N\] $/, keys: "y\r" }]);
    expect(yes.code).toBe(0);
    expect(await dataFiles(cache)).toEqual([]);
  });

  it("prune asks too, and removes only what is older than the limit", async () => {
    const cache = await filledCache("pruned");
    const [first] = await dataFiles(cache);
    // The metadata's fetch times decide: age one entry by two hours.
    const md = JSON.parse(await readFile(join(cache, "cache"), "utf8")) as Record<string, { fn: string; time: number }>;
    const aged = Object.keys(md).find((k) => md[k]!.fn === first)!;
    md[aged]!.time -= 7200;
    await writeFile(join(cache, "cache"), JSON.stringify(md));
    expect((await fsspec(["cache", "prune", "--older-than", "3600", cache])).code).toBe(2);
    expect(await dataFiles(cache)).toHaveLength(2);
    const pruned = await fsspec(["cache", "prune", "--yes", "--older-than", "3600", cache]);
    expect(pruned).toMatchObject({ code: 0, out: `removed ${aged}\n` });
    expect(await dataFiles(cache)).toHaveLength(1);
    expect(await fsspec(["cache", "prune", "--older-than", "3600", cache])).toMatchObject({ code: 0, err: "nothing to remove\n" });
  });
});
