/**
 * cp, mv and sync of the real binary: a directory without -r is an error with a hint, the
 * aws/rclone switches (--dry-run, --include/--exclude, --concurrency, --no-clobber), sync's
 * rule for what it skips, progress counted once and naming the file, and an interrupted copy
 * (SIGINT, SIGTERM, Ctrl+C in a terminal) that leaves no temporary file and a restored terminal.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { bucketName, createBucket, CREDENTIALS, endpoint, makeFs } from "../s3/helpers.js";
import { finished, fsspec, inTerminal, start } from "./binary.js";

// Each test runs the binary several times: a process start takes seconds on a busy two-core machine.
vi.setConfig({ testTimeout: 90_000 });

const MiB = 2 ** 20;
let dir: string;
let server: TestHttpServer;

/** Every file below `root`, relative, sorted. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  await walk(root, "");
  return out.sort();
}

async function makeSource(root: string): Promise<void> {
  await mkdir(join(root, "sub/deep"), { recursive: true });
  await mkdir(join(root, "tmp"), { recursive: true });
  await writeFile(join(root, "a.txt"), "a");
  await writeFile(join(root, "b.log"), "bb");
  await writeFile(join(root, ".hidden.txt"), "h");
  await writeFile(join(root, "sub/c.txt"), "ccc");
  await writeFile(join(root, "sub/deep/d.csv"), "dddd");
  await writeFile(join(root, "tmp/e.txt"), "eeeee");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-cli-transfers-"));
  await makeSource(join(dir, "src"));
  server = await startHttpServer();
  server.setFile("/two/a.bin", new Uint8Array(3 * MiB).fill(1));
  server.setFile("/two/b.bin", new Uint8Array(2 * MiB).fill(2));
  for (let i = 0; i < 6; i++) server.setFile(`/six/f${i}.txt`, `file ${i}\n`);
  server.setFile("/slow.bin", new Uint8Array(16 * MiB).fill(7));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("cp and mv of a directory", () => {
  it("without -r is EISDIR with a hint and copies or moves nothing; with -r it works", async () => {
    for (const verb of ["cp", "mv"]) {
      const dst = join(dir, `${verb}-nor`);
      for (const source of [join(dir, "src"), `${join(dir, "src")}/`]) {
        const r = await fsspec([verb, source, dst]);
        expect([verb, r.code, r.out]).toEqual([verb, 1, ""]);
        expect(r.err).toContain(`EISDIR: is a directory; use ${verb} -r to`);
      }
      expect(await tree(dst)).toEqual([]);
    }
    expect((await tree(join(dir, "src"))).length).toBe(6);
    expect(await fsspec(["cp", "-r", join(dir, "src"), join(dir, "copied")])).toMatchObject({ code: 0, out: "", err: "" });
    expect(await tree(join(dir, "copied"))).toEqual(await tree(join(dir, "src")));
    const http = await fsspec(["cp", `${server.url}/two/`, join(dir, "httpdir")]);
    expect([http.code, http.err]).toEqual([1, expect.stringContaining("use cp -r")]);
  });
});

describe("cp of one HTTP file", () => {
  it("is one info request and one GET (the plan's lookup serves the directory check, the progress and the download)", async () => {
    server.setFile("/one/big.bin", new Uint8Array(6 * MiB).fill(3));
    server.resetCounts();
    const dst = join(dir, "one-big.bin");
    expect(await fsspec(["cp", `${server.url}/one/big.bin`, dst])).toMatchObject({ code: 0, err: "" });
    expect((await stat(dst)).size).toBe(6 * MiB);
    const mine = server.requests.filter((r) => r.path === "/one/big.bin");
    expect(mine.filter((r) => r.method === "HEAD" || r.headers.range === "bytes=0-0")).toHaveLength(1);
    expect(mine.filter((r) => r.method === "GET" && r.headers.range !== "bytes=0-0")).toHaveLength(1);
  });
});

describe("cp switches", () => {
  it("--dry-run prints each copy and changes nothing", async () => {
    const dst = join(dir, "dry");
    const r = await fsspec(["cp", "-r", "--dry-run", `${join(dir, "src")}/`, `${dst}/`]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toEqual(
      [".hidden.txt", "a.txt", "b.log", "sub/c.txt", "sub/deep/d.csv", "tmp/e.txt"].map((n) => `(dry run) copy file://${dir}/src/${n} -> file://${dst}/${n}`),
    );
    await expect(stat(dst)).rejects.toMatchObject({ code: "ENOENT" });
    const mv = await fsspec(["mv", "-r", "--dry-run", join(dir, "src"), dst]);
    expect(mv.out.split("\n")[0]).toMatch(/^\(dry run\) move /);
    expect((await tree(join(dir, "src"))).length).toBe(6);
  });

  it("--include and --exclude: shell globs, in order, the last match decides", async () => {
    const run = async (name: string, ...filters: string[]) => {
      const dst = join(dir, `f-${name}`);
      const r = await fsspec(["cp", "-r", ...filters, `${join(dir, "src")}/`, `${dst}/`]);
      expect([name, r.code, r.err]).toEqual([name, 0, ""]);
      return tree(dst);
    };
    expect(await run("inc", "--include", "*.txt")).toEqual([".hidden.txt", "a.txt", "sub/c.txt", "tmp/e.txt"]);
    expect(await run("exc", "--exclude", "*.txt")).toEqual(["b.log", "sub/deep/d.csv"]);
    expect(await run("both", "--include", "*.txt", "--exclude", "tmp/*")).toEqual([".hidden.txt", "a.txt", "sub/c.txt"]);
    expect(await run("last", "--exclude", "*", "--include", "sub/**")).toEqual(["sub/c.txt", "sub/deep/d.csv"]);
    expect(await run("braces", "--include", "*.{log,csv}")).toEqual(["b.log", "sub/deep/d.csv"]);
  });

  it("mv with filters moves exactly the files that pass and keeps the rest", async () => {
    const from = join(dir, "mvsrc");
    await makeSource(from);
    const dst = join(dir, "mvdst");
    expect(await fsspec(["mv", "-r", "--include", "*.txt", "--exclude", "tmp/*", `${from}/`, `${dst}/`])).toMatchObject({ code: 0, err: "" });
    expect(await tree(dst)).toEqual([".hidden.txt", "a.txt", "sub/c.txt"]);
    expect(await tree(from)).toEqual(["b.log", "sub/deep/d.csv", "tmp/e.txt"]);
  });

  it("--no-clobber keeps files that exist at the destination", async () => {
    const dst = join(dir, "nc");
    await mkdir(dst);
    await writeFile(join(dst, "a.txt"), "mine");
    for (const flag of ["--no-clobber", "-n"]) {
      expect(await fsspec(["cp", "-r", flag, `${join(dir, "src")}/`, `${dst}/`])).toMatchObject({ code: 0, err: "" });
      expect(await readFile(join(dst, "a.txt"), "utf8")).toBe("mine");
    }
    expect(await readFile(join(dst, "sub/c.txt"), "utf8")).toBe("ccc");
    expect(await fsspec(["cp", join(dir, "src/a.txt"), join(dst, "a.txt")])).toMatchObject({ code: 0 });
    expect(await readFile(join(dst, "a.txt"), "utf8")).toBe("a");
  });

  it("--concurrency bounds the files in flight", async () => {
    server.fault({ method: "GET", stallBeforeHeadersMs: 300, times: Infinity });
    try {
      for (const [n, check] of [
        ["1", (peak: number) => expect(peak).toBe(1)],
        ["2", (peak: number) => expect(peak).toBe(2)],
        ["6", (peak: number) => expect(peak).toBeGreaterThan(2)],
      ] as const) {
        server.resetCounts();
        const r = await fsspec(["cp", "-r", "--concurrency", n, `${server.url}/six/`, `${join(dir, `conc${n}`)}/`]);
        expect([n, r.code, r.err]).toEqual([n, 0, ""]);
        check(server.peakInFlight());
        expect((await tree(join(dir, `conc${n}`))).length).toBe(6);
      }
    } finally {
      server.clearFaults();
    }
    expect((await fsspec(["cp", "--concurrency", "0", join(dir, "src/a.txt"), join(dir, "x")])).code).toBe(2);
  });
});

describe("sync", () => {
  it("copies what is missing or changed and skips what the destination has (size, then mtime)", async () => {
    const from = join(dir, "syncsrc");
    const to = join(dir, "syncdst");
    await makeSource(from);
    const first = await fsspec(["sync", from, to]);
    expect(first).toMatchObject({ code: 0, out: "", err: "sync: 6 copied, 0 up to date\n" });
    expect(await tree(to)).toEqual(await tree(from));
    expect((await fsspec(["sync", from, to])).err).toBe("sync: 0 copied, 6 up to date\n");
    // Another size: copied. Same size but a newer source: copied. Same size, destination newer: skipped.
    await writeFile(join(from, "a.txt"), "changed");
    await writeFile(join(from, "b.log"), "BB");
    const later = new Date(Date.now() + 60_000);
    await utimes(join(from, "b.log"), later, later);
    await writeFile(join(from, "sub/c.txt"), "CCC");
    const earlier = new Date(Date.now() - 3_600_000);
    await utimes(join(from, "sub/c.txt"), earlier, earlier);
    const dry = await fsspec(["sync", "--dry-run", from, to]);
    expect(dry.out.trim().split("\n")).toEqual([`(dry run) copy file://${from}/a.txt -> file://${to}/a.txt`, `(dry run) copy file://${from}/b.log -> file://${to}/b.log`]);
    expect(await fsspec(["sync", from, to])).toMatchObject({ code: 0, err: "sync: 2 copied, 4 up to date\n" });
    expect([await readFile(join(to, "a.txt"), "utf8"), await readFile(join(to, "b.log"), "utf8"), await readFile(join(to, "sub/c.txt"), "utf8")]).toEqual(["changed", "BB", "ccc"]);
    // Filters and -q.
    await writeFile(join(from, "new.txt"), "n");
    await writeFile(join(from, "new.log"), "n");
    expect(await fsspec(["-q", "sync", "--include", "*.log", from, to])).toMatchObject({ code: 0, out: "", err: "" });
    expect((await tree(to)).filter((f) => f.startsWith("new"))).toEqual(["new.log"]);
    expect((await fsspec(["sync", join(from, "a.txt"), to])).code).toBe(3); // ENOTDIR: a file is no directory to sync
    expect((await fsspec(["sync", `${from}/*.txt`, to])).code).toBe(2);
  });

  it("between two stores of one kind the ETag decides (S3 to S3 on moto)", async () => {
    // Seeded and read back in process; the binary (which loads the AWS SDK, slow on a busy machine) only syncs.
    const bucket = bucketName("cli-sync");
    await createBucket(bucket);
    const fs = makeFs({ skipInstanceCache: true });
    const s3 = ["-o", `s3.endpoint=${endpoint()}`, "-o", `s3.key=${CREDENTIALS.key}`, "-o", `s3.secret=${CREDENTIALS.secret}`, "-o", "s3.region=us-east-1"];
    const sync = () => fsspec([...s3, "sync", `s3://${bucket}/from`, `s3://${bucket}/to`]);
    try {
      await fs.pipe(`${bucket}/from/x.txt`, "one");
      expect(await sync()).toMatchObject({ code: 0, err: "sync: 1 copied, 0 up to date\n" });
      expect((await sync()).err).toBe("sync: 0 copied, 1 up to date\n");
      // Same size, another content: the destination is newer, but the ETags differ.
      await fs.pipe(`${bucket}/from/x.txt`, "two");
      expect((await sync()).err).toBe("sync: 1 copied, 0 up to date\n");
      expect(new TextDecoder().decode(await fs.catFile(`${bucket}/to/x.txt`))).toBe("two");
    } finally {
      await fs.close();
    }
  }, 90_000);
});

describe("progress", () => {
  it("a multi-file HTTP copy counts each byte once, names the file and shows an ETA", async () => {
    const r = await fsspec(["--progress", "cp", "-r", `${server.url}/two/`, `${join(dir, "prog")}/`]);
    expect(r.code).toBe(0);
    const lines = r.err.trim().split("\n");
    expect(lines[lines.length - 1]).toMatch(/^Copying [ab]\.bin 100% 5\.0M\/5\.0M \S+\/s ETA 0s$/);
    for (const line of lines) expect(line).toMatch(/\/5\.0M /);
    const quiet = await fsspec(["-q", "--progress", "cp", "-r", `${server.url}/two/`, `${join(dir, "prog2")}/`]);
    expect(quiet).toMatchObject({ code: 0, err: "" });
    expect((await fsspec(["cp", "-r", `${server.url}/two/`, `${join(dir, "prog3")}/`])).err).toBe(""); // no terminal: no bar
  });
});

describe("an interrupted copy", () => {
  /** A cp of a slow download, interrupted once its temporary file exists. */
  async function interrupt(signal: NodeJS.Signals, name: string) {
    const dst = join(dir, name);
    await mkdir(dst);
    // The download GET only: the one-byte info GETs before it pass (they would use the fault up).
    server.fault({ path: "/slow.bin", method: "GET", unlessRange: "bytes=0-0", throttleBytesPerSec: 2 * MiB, times: 1 });
    const child = start(["cp", `${server.url}/slow.bin`, join(dst, "slow.bin")]);
    child.stdin!.end();
    const done = finished(child);
    for (let i = 0; i < 200 && !(await readdir(dst)).some((f) => f.startsWith(".fsspec-tmp-")); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(dst)).some((f) => f.startsWith(".fsspec-tmp-"))).toBe(true);
    child.kill(signal);
    const r = await done;
    server.clearFaults();
    return { r, left: await readdir(dst) };
  }

  it("SIGINT and SIGTERM remove the temporary file and exit 130 / 143", async () => {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const { r, left } = await interrupt(signal, `int-${signal}`);
      expect([signal, r.code, left]).toEqual([signal, code, []]);
      expect(r.err).toBe("");
    }
  });

  it("Ctrl+C in a terminal restores the cursor and line wrap and leaves nothing behind", async () => {
    const dst = join(dir, "ctrl-c");
    await mkdir(dst);
    // The download GET only: the one-byte info GETs before it pass (they would use the fault up).
    server.fault({ path: "/slow.bin", method: "GET", unlessRange: "bytes=0-0", throttleBytesPerSec: 2 * MiB, times: 1 });
    try {
      const { screen, code } = await inTerminal(["cp", `${server.url}/slow.bin`, join(dst, "slow.bin")], [{ waitFor: /Copying slow\.bin \d+% .*ETA/, keys: "\x03" }]);
      expect(code).toBe(130);
      const hidden = screen.indexOf("\x1b[?25l");
      const wrapOff = screen.indexOf("\x1b[?7l");
      expect(hidden).toBeGreaterThanOrEqual(0);
      expect(wrapOff).toBeGreaterThanOrEqual(0);
      expect(screen.lastIndexOf("\x1b[?25h")).toBeGreaterThan(hidden);
      expect(screen.lastIndexOf("\x1b[?7h")).toBeGreaterThan(wrapOff);
      expect(await readdir(dst)).toEqual([]);
    } finally {
      server.clearFaults();
    }
  });
});
