/**
 * Local writes on the real disk: every write path keeps the destination's mode (and owner,
 * as root), writes through symlinks to their targets, and can write any name the filesystem
 * allows (255 bytes), with temporaries that are recognisable and never wider than the file.
 */
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsFromVolume, Volume } from "memfs";
import { errorOf } from "../support/errors.js";
import { LocalFileSystem, MemoryFileSystem, type NodeFsLike } from "../../src/index.js";

let dir: string;
const fs = new LocalFileSystem();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fsspec-local-w-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (p: string) => (await stat(p)).mode & 0o7777;

/** Every way a local file gets (re)written, each replacing the content of `path` with `data`. */
const WRITERS: Record<string, (path: string, data: string) => Promise<void>> = {
  pipeFile: (path, data) => fs.pipeFile(path, data),
  "open wb": async (path, data) => {
    const f = await fs.open(path, "wb");
    await f.write(data);
    await f.close();
  },
  cpFile: async (path, data) => {
    const src = join(dir, `src-${Math.random().toString(36).slice(2)}`);
    await writeFile(src, data, { mode: 0o644 });
    await fs.cpFile(src, path);
  },
  copy: async (path, data) => {
    const src = join(dir, `src-${Math.random().toString(36).slice(2)}`);
    await writeFile(src, data);
    await fs.copy(src, path);
  },
  get: async (path, data) => {
    const mem = new MemoryFileSystem({ store: "private" });
    await mem.pipe("/r/f", data);
    await mem.get("/r/f", path);
  },
  // put onto the disk: the "local" side it reads from is a memory filesystem here.
  put: async (path, data) => {
    const mem = new MemoryFileSystem({ store: "private" });
    await mem.pipe("/r/f", data);
    await fs.put("/r/f", path, { localFs: mem });
  },
  "touch (truncating)": (path) => fs.touch(path),
};

describe("local writes keep the destination's mode", () => {
  for (const [name, write] of Object.entries(WRITERS)) {
    it(`${name}: 0600 stays 0600, 0755 stays 0755`, async () => {
      for (const mode of [0o600, 0o755, 0o640]) {
        const path = join(dir, `f-${mode.toString(8)}`);
        await writeFile(path, "old");
        await chmod(path, mode);
        await write(path, "new content");
        expect((await modeOf(path)).toString(8)).toBe(mode.toString(8));
        if (name !== "touch (truncating)") expect(await readFile(path, "utf8")).toBe("new content");
      }
    });
  }

  it("append (ab) keeps 0600 and the bytes before", async () => {
    const path = join(dir, "log");
    await writeFile(path, "one\n");
    await chmod(path, 0o600);
    const f = await fs.open(path, "ab");
    await f.write("two\n");
    await f.close();
    expect(await readFile(path, "utf8")).toBe("one\ntwo\n");
    expect((await modeOf(path)).toString(8)).toBe("600");
  });

  it("new files get the mode Node gives them (0666 less the umask)", async () => {
    await writeFile(join(dir, "by-node"), "x");
    const expected = await modeOf(join(dir, "by-node"));
    await fs.pipeFile(join(dir, "piped"), "x");
    const f = await fs.open(join(dir, "opened"), "wb");
    await f.write("x");
    await f.close();
    await fs.touch(join(dir, "touched"));
    for (const n of ["piped", "opened", "touched"]) expect((await modeOf(join(dir, n))).toString(8)).toBe(expected.toString(8));
    const before = process.umask(0o027);
    try {
      await fs.pipeFile(join(dir, "under-027"), "x");
      expect((await modeOf(join(dir, "under-027"))).toString(8)).toBe("640");
    } finally {
      process.umask(before);
    }
  });

  it("a new file copied with cpFile keeps the source's mode (as fs.copyFile)", async () => {
    await writeFile(join(dir, "script"), "#!/bin/sh\n");
    await chmod(join(dir, "script"), 0o750);
    await fs.cpFile(join(dir, "script"), join(dir, "copy"));
    expect((await modeOf(join(dir, "copy"))).toString(8)).toBe("750");
  });

  it("the temporary file of a rewrite is never wider than the file it replaces", async () => {
    const path = join(dir, "secret");
    await writeFile(path, "old");
    await chmod(path, 0o600);
    const f = await fs.open(path, "wb", { blockSize: 4 });
    await f.write("new secret bytes");
    const temps = (await readdir(dir)).filter((n) => n !== "secret");
    expect(temps).toHaveLength(1);
    expect((await modeOf(join(dir, temps[0]!))).toString(8)).toBe("600");
    await f.close();
    expect(await readFile(path, "utf8")).toBe("new secret bytes");
  });

  it.runIf(process.getuid?.() === 0)("as root, the owner and group stay too", async () => {
    for (const [name, write] of Object.entries(WRITERS)) {
      const path = join(dir, `owned-${name.replace(/\W/g, "")}`);
      await writeFile(path, "old");
      await chown(path, 4321, 4322);
      await chmod(path, 0o4750); // setuid survives too (chown clears it; the mode is set after)
      await write(path, "new");
      const st = await stat(path);
      expect([name, st.uid, st.gid, (st.mode & 0o7777).toString(8)]).toEqual([name, 4321, 4322, "4750"]);
    }
    const log = join(dir, "owned-log");
    await writeFile(log, "a");
    await chown(log, 4321, 4322);
    await chmod(log, 0o600);
    const f = await fs.open(log, "ab");
    await f.write("b");
    await f.close();
    const st = await stat(log);
    expect([await readFile(log, "utf8"), st.uid, st.gid, (st.mode & 0o7777).toString(8)]).toEqual(["ab", 4321, 4322, "600"]);
  });
});

describe("local writes through symlinks", () => {
  for (const [name, write] of Object.entries(WRITERS)) {
    it(`${name}: writes the target; the link stays a link`, async () => {
      await writeFile(join(dir, "target"), "old");
      await chmod(join(dir, "target"), 0o640);
      await symlink("target", join(dir, "link")); // relative, resolved beside the link
      await write(join(dir, "link"), "via link");
      expect((await lstat(join(dir, "link"))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(dir, "link"))).toBe("target");
      if (name !== "touch (truncating)") expect(await readFile(join(dir, "target"), "utf8")).toBe("via link");
      else expect(await readFile(join(dir, "target"), "utf8")).toBe("");
      expect((await modeOf(join(dir, "target"))).toString(8)).toBe("640");
      expect((await readdir(dir)).filter((n) => n.startsWith(".fsspec-tmp-"))).toEqual([]);
    });
  }

  it("a chain of links, absolute and relative, across directories", async () => {
    await mkdir(join(dir, "real"));
    await mkdir(join(dir, "links"));
    await writeFile(join(dir, "real/file"), "old");
    await symlink(join(dir, "real/file"), join(dir, "links/one"));
    await symlink("one", join(dir, "links/two"));
    await symlink("links/two", join(dir, "three"));
    await fs.pipe(join(dir, "three"), "chained");
    expect(await readFile(join(dir, "real/file"), "utf8")).toBe("chained");
    for (const l of ["links/one", "links/two", "three"]) expect((await lstat(join(dir, l))).isSymbolicLink()).toBe(true);
    expect(await readdir(join(dir, "links"))).toEqual(["one", "two"]);
  });

  it("a dangling link: the write creates its target", async () => {
    await symlink("made-by-write", join(dir, "dangling"));
    await fs.pipe(join(dir, "dangling"), "created");
    expect((await lstat(join(dir, "dangling"))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, "made-by-write"), "utf8")).toBe("created");
  });

  it("a FIFO, a device node, or a link to one is refused (EINVAL) and stays what it was", async () => {
    execFileSync("mkfifo", [join(dir, "fifo")]);
    const nodes = ["fifo", "fifo-link"];
    await symlink("fifo", join(dir, "fifo-link"));
    // A private device node (as root) rather than /dev/null: a regression must not replace a real one.
    const hasDevice = (() => {
      try {
        execFileSync("mknod", [join(dir, "null-copy"), "c", "1", "3"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    })();
    if (hasDevice) nodes.push("null-copy");
    for (const [name, write] of Object.entries(WRITERS)) {
      for (const p of nodes) {
        const err = await errorOf(write(join(dir, p), name));
        expect(err.code, `${name} ${p}`).toBe("EINVAL");
        expect(err.message).toContain("not a regular file");
      }
    }
    expect((await lstat(join(dir, "fifo"))).isFIFO()).toBe(true);
    expect((await lstat(join(dir, "fifo-link"))).isSymbolicLink()).toBe(true);
    if (hasDevice) expect((await lstat(join(dir, "null-copy"))).isCharacterDevice()).toBe(true);
    // Only the writers' own sources are new: no temp file is left beside the refused nodes.
    expect((await readdir(dir)).filter((n) => !n.startsWith("src-")).sort()).toEqual([...nodes].sort());
  });

  it("touch without truncating: renews the target's time, or creates a dangling link's target", async () => {
    await writeFile(join(dir, "t"), "keep");
    await symlink("t", join(dir, "link"));
    await symlink("later", join(dir, "dangling"));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, "t"), old, old);
    await fs.touch(join(dir, "link"), { truncate: false });
    expect((await stat(join(dir, "t"))).mtimeMs).toBeGreaterThan(old.getTime() + 1000);
    expect(await readFile(join(dir, "t"), "utf8")).toBe("keep");
    await fs.touch(join(dir, "dangling"), { truncate: false });
    expect(await readFile(join(dir, "later"), "utf8")).toBe("");
    expect((await lstat(join(dir, "dangling"))).isSymbolicLink()).toBe(true);
  });

  it("create mode (xb, mode: create) over any link, dangling or not, is EEXIST", async () => {
    await symlink("nowhere", join(dir, "dangling"));
    await writeFile(join(dir, "t"), "keep");
    await symlink("t", join(dir, "link"));
    for (const p of ["dangling", "link"]) {
      expect((await errorOf(fs.pipeFile(join(dir, p), "x", { mode: "create" }))).code).toBe("EEXIST");
      expect((await errorOf(fs.open(join(dir, p), "xb"))).code).toBe("EEXIST");
    }
    expect(await readFile(join(dir, "t"), "utf8")).toBe("keep");
    expect(await readdir(dir)).toEqual(["dangling", "link", "t"]);
  });

  it("a link to a directory is a directory: EISDIR, nothing changes", async () => {
    await mkdir(join(dir, "d"));
    await symlink("d", join(dir, "dlink"));
    expect((await errorOf(fs.pipe(join(dir, "dlink"), "x"))).code).toBe("EISDIR");
    expect((await errorOf(fs.open(join(dir, "dlink"), "wb"))).code).toBe("EISDIR");
    expect((await lstat(join(dir, "dlink"))).isSymbolicLink()).toBe(true);
    expect(await readdir(join(dir, "d"))).toEqual([]);
  });

  it("create mode over a directory is EISDIR; rmFile of a directory is EISDIR, of a link removes the link alone; no temporary is left", async () => {
    await mkdir(join(dir, "d"));
    await writeFile(join(dir, "d", "keep"), "kept");
    await symlink("d", join(dir, "dlink"));
    const created = await errorOf(fs.pipeFile(join(dir, "d"), "x", { mode: "create" }));
    expect(created.code).toBe("EISDIR");
    expect(created.path).toBe(join(dir, "d"));
    expect((await errorOf(fs.pipeFile(join(dir, "dlink"), "x", { mode: "create" }))).code).toBe("EEXIST");
    const removed = await errorOf(fs.rmFile(join(dir, "d")));
    expect(removed.code).toBe("EISDIR");
    expect(removed.path).toBe(join(dir, "d"));
    expect((await errorOf(fs.rmFile(join(dir, "none")))).code).toBe("ENOENT");
    await fs.rmFile(join(dir, "dlink"));
    expect((await readdir(dir)).sort()).toEqual(["d"]);
    expect(await readFile(join(dir, "d", "keep"), "utf8")).toBe("kept");
  });

  it("a loop of links is EINVAL (ELOOP) and writes nothing", async () => {
    await symlink("b", join(dir, "a"));
    await symlink("a", join(dir, "b"));
    const err = await errorOf(fs.pipe(join(dir, "a"), "x"));
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/link/i);
    expect((await readdir(dir)).sort()).toEqual(["a", "b"]);
  });

  it("rm of a link removes the link, not its target", async () => {
    await writeFile(join(dir, "t"), "keep");
    await symlink("t", join(dir, "l"));
    await fs.rm(join(dir, "l"));
    expect(await readdir(dir)).toEqual(["t"]);
  });
});

describe("local writes of long names", () => {
  const names = {
    "255 ASCII bytes": "a".repeat(251) + ".txt",
    "255 bytes of 3-byte characters": "€".repeat(85),
    "254 bytes of 2-byte characters": "é".repeat(127),
  };
  for (const [label, name] of Object.entries(names)) {
    it(`${label}: every write path works, no temporary is left`, async () => {
      expect(Buffer.byteLength(name)).toBeGreaterThanOrEqual(254);
      const path = join(dir, name);
      for (const [writer, write] of Object.entries(WRITERS)) {
        await write(path, writer);
        if (writer !== "touch (truncating)") expect([writer, await readFile(path, "utf8")]).toEqual([writer, writer]);
      }
      const f = await fs.open(path, "ab");
      await f.write("+");
      await f.close();
      await fs.pipeFile(join(dir, `${name.slice(0, -1)}x`), "create", { mode: "create" });
      expect((await readdir(dir)).filter((n) => n.startsWith(".fsspec-tmp-"))).toEqual([]);
      expect(await readFile(path, "utf8")).toBe("+");
    });
  }

  it("a temporary is recognisable and short; cleanTempFiles removes it", async () => {
    const path = join(dir, "z".repeat(255));
    const f = await fs.open(path, "wb");
    await f.write("pending");
    const [temp] = (await readdir(dir)).filter((n) => n !== "z".repeat(255));
    expect(temp).toMatch(/^\.fsspec-tmp-[0-9a-f]+$/);
    expect(Buffer.byteLength(temp!)).toBeLessThanOrEqual(32);
    expect(await fs.cleanTempFiles(dir)).toBe(1);
    await f.discard();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("an injected memfs volume writes the same way", () => {
  it("keeps the mode and writes through links", async () => {
    const vol = Volume.fromJSON({ "/v/secret": "old", "/v/t": "target" });
    vol.chmodSync("/v/secret", 0o600);
    vol.symlinkSync("t", "/v/link");
    const mem = new LocalFileSystem({ fs: createFsFromVolume(vol) as unknown as NodeFsLike });
    await mem.pipe("/v/secret", "new");
    expect(vol.statSync("/v/secret").mode & 0o777).toBe(0o600);
    expect(vol.readFileSync("/v/secret", "utf8")).toBe("new");
    const f = await mem.open("/v/secret", "ab");
    await f.write("+");
    await f.close();
    expect(vol.statSync("/v/secret").mode & 0o777).toBe(0o600);
    expect(vol.readFileSync("/v/secret", "utf8")).toBe("new+");
    await mem.pipe("/v/link", "through");
    expect(vol.lstatSync("/v/link").isSymbolicLink()).toBe(true);
    expect(vol.readFileSync("/v/t", "utf8")).toBe("through");
    await mem.pipe(`/v/${"n".repeat(255)}`, "long");
    expect(vol.readFileSync(`/v/${"n".repeat(255)}`, "utf8")).toBe("long");
  });
});
