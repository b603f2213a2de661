import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { errorOf } from "../support/errors.js";
import { createFsFromVolume, Volume } from "memfs";
import { FsError, LocalFileSystem, type NodeFsLike } from "../../src/index.js";

let dir: string;
const fs = new LocalFileSystem();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-local-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("LocalFileSystem paths", () => {
  it("strips file:// and local: prefixes, expands ~, makes paths absolute", () => {
    expect(LocalFileSystem.stripProtocol("file:///tmp/a/")).toBe("/tmp/a");
    expect(LocalFileSystem.stripProtocol("file://localhost/tmp/a")).toBe("/tmp/a");
    expect(LocalFileSystem.stripProtocol("local:///tmp/a")).toBe("/tmp/a");
    expect(LocalFileSystem.stripProtocol("file:/tmp/a")).toBe("/tmp/a");
    expect(LocalFileSystem.stripProtocol("~/x")).toBe(`${homedir()}/x`);
    expect(LocalFileSystem.stripProtocol("~")).toBe(homedir());
    expect(LocalFileSystem.stripProtocol("rel/../x")).toBe(`${process.cwd()}/x`);
    expect(fs.unstripProtocol("/tmp/a")).toBe("file:///tmp/a");
  });

  it("reads through file:// URLs", async () => {
    await writeFile(join(dir, "u.txt"), "via url");
    expect(await fs.readText(`file://${dir}/u.txt`)).toBe("via url");
  });
});

describe("LocalFileSystem metadata", () => {
  it("reports symlinks with islink and the target's type and size", async () => {
    await writeFile(join(dir, "target.txt"), "12345");
    await symlink(join(dir, "target.txt"), join(dir, "link.txt"));
    await symlink(join(dir, "missing"), join(dir, "broken"));
    const link = await fs.info(join(dir, "link.txt"));
    expect(link).toMatchObject({ type: "file", size: 5, islink: true });
    expect((await fs.info(join(dir, "target.txt"))).islink).toBe(false);
    expect(await fs.info(join(dir, "broken"))).toMatchObject({ type: "other", islink: true });
    expect(await fs.readText(join(dir, "link.txt"))).toBe("12345");
  });

  it("modified and created are Dates from the disk", async () => {
    await writeFile(join(dir, "m"), "x");
    const st = await stat(join(dir, "m"));
    expect((await fs.modified(join(dir, "m"))).getTime()).toBe(st.mtime.getTime());
    expect(await fs.created(join(dir, "m"))).toBeInstanceOf(Date);
  });

  it("autoMkdir: false refuses writes into missing directories", async () => {
    const strict = new LocalFileSystem({ autoMkdir: false });
    const err = await errorOf(strict.pipeFile(join(dir, "no/such/dir/f"), "x"));
    expect(err).toBeInstanceOf(FsError);
    expect(err.code).toBe("ENOENT");
  });

  it("a memfs volume stands in for the disk", async () => {
    const vol = Volume.fromJSON({ "/data/a.txt": "in memory" });
    const mem = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike });
    expect(await mem.readText("/data/a.txt")).toBe("in memory");
    await mem.pipe("/data/b/c.txt", "new");
    expect(vol.readFileSync("/data/b/c.txt", "utf8")).toBe("new");
    expect(await mem.find("/data")).toEqual(["/data/a.txt", "/data/b/c.txt"]);
  });
});

describe("LocalFileSystem atomic writes", () => {
  it("leaves no temporary files behind after writes and failures", async () => {
    await fs.pipe(join(dir, "a"), "1");
    const f = await fs.open(join(dir, "b"), "wb");
    await f.write("2");
    await f.close();
    const g = await fs.open(join(dir, "c"), "wb");
    await g.write("never");
    await g.discard();
    await fs.pipeFile(join(dir, "a"), "x", { mode: "create" }).catch(() => undefined);
    expect((await readdir(dir)).sort()).toEqual(["a", "b"]);
  });

  it("an open writer is invisible until close", async () => {
    const f = await fs.open(join(dir, "w.bin"), "wb", { blockSize: 4 });
    await f.write("0123456789");
    expect(await fs.exists(join(dir, "w.bin"))).toBe(false);
    await f.close();
    expect(await fs.readText(join(dir, "w.bin"))).toBe("0123456789");
  });

  it("a process killed mid-write never leaves a partial file under the final name", async () => {
    const target = join(dir, "big.bin");
    await writeFile(target, "old content");
    const script = `
      import { LocalFileSystem } from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)};
      const fs = new LocalFileSystem();
      const f = await fs.open(${JSON.stringify(target)}, "wb", { blockSize: 1 << 20 });
      const chunk = new Uint8Array(1 << 20).fill(65);
      process.stdout.write("started\\n");
      for (;;) await f.write(chunk);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("started") && resolve());
      child.on("exit", (c) => reject(new Error(`child exited early with ${c}`)));
    });
    // Let it write a good part of a file, then kill it without warning.
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    expect(await fs.readText(target)).toBe("old content");
    const leftovers = (await readdir(dir)).filter((n) => n !== "big.bin");
    expect(leftovers.length).toBe(1);
    expect(leftovers[0]).toMatch(/^\.fsspec-tmp-/);
    expect(await fs.cleanTempFiles(dir)).toBe(1);
    expect(await readdir(dir)).toEqual(["big.bin"]);
  });

  it("refuses to rm the root and removes trees in one call", async () => {
    await fs.pipe({ [join(dir, "t/a")]: "1", [join(dir, "t/b/c")]: "2" });
    await fs.rm(join(dir, "t"), { recursive: true });
    expect(await fs.exists(join(dir, "t"))).toBe(false);
    const err = await errorOf(fs.rm("/", { recursive: true }));
    expect(err.code).toBe("EACCES");
  });
});
