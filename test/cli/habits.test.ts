/**
 * The habits of the `fsspec-ts` binary, run as a shell runs it (test/cli/binary.ts): --version,
 * exit codes that tell failures apart, relative names in ls, one JSON shape for every listing,
 * cat over globs and past failures, `-` as stdin/stdout, a quiet end on a closed pipe, `-o`
 * names checked, and hints that name the flags.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { fsspec, REPO, sh, shell } from "./binary.js";

// Each test runs the binary several times: a process start takes seconds on a busy two-core machine.
vi.setConfig({ testTimeout: 90_000 });

let dir: string;
let server: TestHttpServer;
let locked: TestHttpServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-cli-habits-"));
  await mkdir(join(dir, "d/sub"), { recursive: true });
  await writeFile(join(dir, "d/a.txt"), "alpha\n");
  await writeFile(join(dir, "d/b.txt"), "bravo\n");
  await writeFile(join(dir, "d/c.bin"), "C");
  await writeFile(join(dir, "d/sub/s.txt"), "sub\n");
  server = await startHttpServer();
  server.setFile("/h/x.txt", "over http\n");
  server.setFile("/h/y.txt", "why\n");
  server.setFile("/big.bin", new Uint8Array(64 * 2 ** 20).fill(65));
  locked = await startHttpServer({ auth: { bearer: "sesame" } });
  locked.setFile("/secret.txt", "s");
});
afterAll(async () => {
  await server.close();
  await locked.close();
  await rm(dir, { recursive: true, force: true });
});

describe("version and usage", () => {
  it("--version and -V print the package's version; --help exits 0", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) expect(await fsspec([flag])).toMatchObject({ code: 0, out: `${version}\n`, err: "" });
    const help = await fsspec(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("sync");
    expect(help.out).toContain("--quiet");
  });
});

describe("exit codes: 1 failed, 2 usage, 3 not found, 4 access denied, 5 network", () => {
  it("a missing path is 3 for every command that names one", async () => {
    const missing = join(dir, "missing");
    const runs = await Promise.all(
      [["ls", missing], ["cat", missing], ["info", missing], ["find", missing], ["du", missing], ["head", missing], ["glob", `${missing}/*`, "--json"], ["cache", "ls", missing]].map(
        (args) => fsspec(args),
      ),
    );
    for (const [i, r] of runs.entries()) {
      if (i === 6) {
        expect(r).toMatchObject({ code: 0, out: "[]\n" }); // a glob matching nothing is an empty answer
        continue;
      }
      expect([i, r.code, r.out]).toEqual([i, 3, ""]);
      expect(r.err).toMatch(/^fsspec-ts: ENOENT: /);
    }
    expect((await fsspec(["ls", `${server.url}/nothing/`])).code).toBe(3);
  });

  it("usage errors are 2: unknown command or option, a bad value, an unknown protocol", async () => {
    const runs = await Promise.all([["bogus"], ["ls", "--bogus", dir], ["head", "-c", "-5", join(dir, "d/a.txt")], ["ls", "nosuchproto://x"], ["cp", join(dir, "d/a.txt")]].map((a) => fsspec(a)));
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
  });

  it("access denied is 4, an unreachable server and a failing one are 5", async () => {
    const denied = await fsspec(["cat", `${locked.url}/secret.txt`]);
    expect([denied.code, denied.err]).toEqual([4, expect.stringContaining("EACCES")]);
    const refused = await fsspec(["-o", "retries=0", "cat", "http://127.0.0.1:9/x"]);
    expect(refused.code).toBe(5);
    server.fault({ path: "/h/x.txt", status: 503, times: Infinity });
    try {
      const failing = await fsspec(["-o", "retries=0", "cat", `${server.url}/h/x.txt`]);
      expect([failing.code, failing.err]).toEqual([5, expect.stringContaining("503")]);
    } finally {
      server.clearFaults();
    }
  });
});

describe("ls, find, glob, du, info and cache ls", () => {
  it("ls prints names relative to the directory; --full prints URLs; -l keeps relative names", async () => {
    const [plain, full, long, http, file] = await Promise.all([
      fsspec(["ls", join(dir, "d")]),
      fsspec(["ls", "--full", join(dir, "d")]),
      fsspec(["ls", "-l", join(dir, "d")]),
      fsspec(["ls", `${server.url}/h/`]),
      fsspec(["ls", join(dir, "d/a.txt")]),
    ]);
    expect(plain).toMatchObject({ code: 0, out: "a.txt\nb.txt\nc.bin\nsub\n", err: "" });
    expect(full.out.trim().split("\n")).toEqual(["a.txt", "b.txt", "c.bin", "sub"].map((n) => `file://${dir}/d/${n}`));
    expect(long.out.trim().split("\n")[0]).toMatch(/^- +6 \S+ a\.txt$/);
    expect(long.out.trim().split("\n")[3]).toMatch(/^d +0 \S+ sub$/);
    expect(http.out).toBe("x.txt\ny.txt\n");
    expect(file.out).toBe("a.txt\n");
  });

  it("--json is one array of objects and --jsonl one object per line, for every listing", async () => {
    const d = join(dir, "d");
    const cases: Array<[string[], (o: Record<string, unknown>) => unknown]> = [
      [["ls", d], (o) => o.name],
      [["find", d], (o) => o.name],
      [["glob", `${d}/*.txt`], (o) => o.name],
      [["du", "-a", d], (o) => [o.name, o.size]],
      [["info", `${d}/a.txt`, `${d}/sub`], (o) => [o.name, o.type]],
    ];
    for (const [args, pick] of cases) {
      const [json, jsonl] = await Promise.all([fsspec([...args, "--json"]), fsspec([...args, "--jsonl"])]);
      expect([args.join(" "), json.code, jsonl.code]).toEqual([args.join(" "), 0, 0]);
      const array = JSON.parse(json.out) as Array<Record<string, unknown>>;
      expect(Array.isArray(array)).toBe(true);
      expect(array.length).toBeGreaterThan(0);
      const lines = jsonl.out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map(pick)).toEqual(array.map(pick));
    }
    expect(JSON.parse((await fsspec(["find", "--json", d])).out).map((o: { name: string }) => o.name)).toEqual(
      ["a.txt", "b.txt", "c.bin", "sub/s.txt"].map((n) => `${d}/${n}`),
    );
    expect(JSON.parse((await fsspec(["du", "--json", d])).out)).toEqual([{ name: d, size: 17 }]);
    expect(JSON.parse((await fsspec(["info", "--json", `${d}/a.txt`])).out)).toEqual([expect.objectContaining({ name: `${d}/a.txt`, size: 6, type: "file" })]);
    // Without a flag, info keeps printing one JSON object per path.
    expect(JSON.parse((await fsspec(["info", `${d}/a.txt`])).out)).toMatchObject({ name: `${d}/a.txt`, size: 6 });
    expect((await fsspec(["ls", "--json", "--jsonl", d])).code).toBe(2);
  });
});

describe("cat", () => {
  it("expands globs, goes on past a failure and exits non-zero at the end", async () => {
    const d = join(dir, "d");
    const r = await fsspec(["cat", `${d}/*.txt`, join(dir, "missing"), `${d}/c.bin`, `${d}/nomatch*`]);
    expect(r.out).toBe("alpha\nbravo\nC");
    expect(r.err.trim().split("\n")).toEqual([expect.stringMatching(/ENOENT.*missing/), expect.stringMatching(/ENOENT: no file matches the pattern.*nomatch\*/)]);
    expect(r.code).toBe(3);
    const mixed = await fsspec(["cat", join(d, "sub"), join(dir, "missing"), `${d}/a.txt`]);
    expect(mixed.out).toBe("alpha\n");
    expect(mixed.err).toContain("EISDIR");
    expect(mixed.code).toBe(1); // different failures: "some operation failed"
    expect(await fsspec(["cat", `${server.url}/h/*.txt`])).toMatchObject({ code: 0, out: "over http\nwhy\n" });
  });

  it("'-' is stdin for cat and cp, and stdout for cp", async () => {
    expect(await fsspec(["cat", join(dir, "d/a.txt"), "-", join(dir, "d/b.txt")], { input: "from stdin\n" })).toMatchObject({ code: 0, out: "alpha\nfrom stdin\nbravo\n" });
    const target = join(dir, "from-stdin.bin");
    const bytes = new Uint8Array([0, 255, 10, 13, 1]);
    expect(await fsspec(["cp", "-", target], { input: bytes })).toMatchObject({ code: 0, out: "", err: "" });
    expect(new Uint8Array(await readFile(target))).toEqual(bytes);
    expect((await fsspec(["cp", target, "-"])).bytes).toEqual(Buffer.from(bytes));
    expect((await fsspec(["cp", `${server.url}/h/x.txt`, "-"])).out).toBe("over http\n");
    const refused = await Promise.all([fsspec(["mv", "-", target]), fsspec(["cp", "-r", "-", target]), fsspec(["cp", join(dir, "d"), "-"])]);
    expect(refused.map((r) => r.code)).toEqual([2, 2, 1]);
  });

  it("a reader that closes the pipe early ends the command quietly, with exit 0", async () => {
    for (const source of [`${server.url}/big.bin`, join(dir, "d/a.txt")]) {
      const r = await shell(`fsspec cat ${sh(source)} 2>${sh(join(dir, "epipe.err"))} | head -c 3; echo " [\${PIPESTATUS[0]}]"`);
      expect(r.out).toMatch(source.endsWith("a.txt") ? /^alp \[0\]\n$/ : /^AAA \[0\]\n$/);
      expect(await readFile(join(dir, "epipe.err"), "utf8")).toBe("");
    }
    // A listing too (find of a tree piped into head -1).
    const tree = join(dir, "many");
    await mkdir(tree);
    await Promise.all(Array.from({ length: 3000 }, (_, i) => writeFile(join(tree, `f${i}`), "")));
    const r = await shell(`fsspec find ${sh(tree)} 2>${sh(join(dir, "epipe.err"))} | head -1; echo "[\${PIPESTATUS[0]}]"`);
    expect(r.out).toMatch(/^\S+\/many\/f\d+\n\[0\]\n$/);
    expect(await readFile(join(dir, "epipe.err"), "utf8")).toBe("");
  });
});

describe("-o options and hints", () => {
  it("an unknown -o name is a usage error naming the closest known one", async () => {
    const typo = await fsspec(["-o", "retires=2", "cat", `${server.url}/h/x.txt`]);
    expect([typo.code, typo.out]).toEqual([2, ""]);
    expect(typo.err).toContain("unknown option 'retires'");
    expect(typo.err).toContain("did you mean 'retries'?");
    const layer = await fsspec(["-o", "http.retires=2", "cat", `${server.url}/h/x.txt`]);
    expect([layer.code, layer.err]).toEqual([2, expect.stringContaining("the 'http' layer: unknown option 'retires'; did you mean 'retries'?")]);
    const inner = await fsspec(["-o", "retries=2", "-o", `filecache.cacheStorage=${join(dir, "oc")}`, "cat", `filecache::${server.url}/h/x.txt`]);
    expect([inner.code, inner.err]).toEqual([2, expect.stringContaining("write -o http.retries=")]);
    const absent = await fsspec(["-o", "s3.anon=true", "cat", `${server.url}/h/x.txt`]);
    expect([absent.code, absent.err]).toEqual([2, expect.stringContaining("no URL of this command has a 's3' layer")]);
    const json = await fsspec(["--storage-options", '{"http": {"retriess": 1}}', "cat", `${server.url}/h/x.txt`]);
    expect([json.code, json.err]).toEqual([2, expect.stringContaining("did you mean 'retries'?")]);
    // Known names work, on the layer they belong to, and a plain name reaches every URL that takes it.
    const ok = await fsspec(["-o", "retries=1", "-o", "http.timeout=20000", "-o", `filecache.cacheStorage=${join(dir, "oc")}`, "-o", "concurrency=2", "cp", `filecache::${server.url}/h/x.txt`, join(dir, "o.txt")]);
    expect(ok.err).toContain("write -o http.retries="); // retries is not filecache's
    const good = await fsspec(["-o", "http.retries=1", "-o", `filecache.cacheStorage=${join(dir, "oc")}`, "-o", "concurrency=2", "cp", `filecache::${server.url}/h/x.txt`, join(dir, "o.txt")]);
    expect(good).toMatchObject({ code: 0, err: "" });
    expect(await readFile(join(dir, "o.txt"), "utf8")).toBe("over http\n");
  });

  it("rm of a directory says to use -r", async () => {
    await mkdir(join(dir, "rmme/x"), { recursive: true });
    const r = await fsspec(["rm", join(dir, "rmme")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("use rm -r");
    expect(r.err).not.toContain("recursive: true");
    expect(await fsspec(["rm", "-r", join(dir, "rmme")])).toMatchObject({ code: 0 });
    expect((await fsspec(["ls", join(dir, "rmme")])).code).toBe(3);
  });
});
