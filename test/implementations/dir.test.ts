import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf } from "../support/errors.js";
import { errorOf } from "../support/errors.js";
import { DirFileSystem, LocalFileSystem, MemoryFileSystem, type AbstractFileSystem } from "../../src/index.js";

const ESCAPES = ["..", "../secret", "a/../../secret", "/../secret", "%2e%2e/secret", "%2E%2E%2Fsecret", "sub/%2e%2e/%2e%2e/secret", "..\\secret", "sub\\..\\..\\secret", "%252e%252e/secret", "..%5csecret", "dir://../secret"];


let localDir: string;
const views: Array<[string, () => Promise<DirFileSystem>]> = [];

beforeAll(async () => {
  localDir = await mkdtemp(join(tmpdir(), "fsspec-dir-"));
  await writeFile(join(localDir, "secret"), "outside");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(join(localDir, "root/sub"), { recursive: true });
  await writeFile(join(localDir, "root/sub/inside.txt"), "inside");
});
afterAll(async () => {
  await rm(localDir, { recursive: true, force: true });
});

views.push(["memory", async () => {
  const mem = new MemoryFileSystem({ store: "private" });
  await mem.pipe({ "/secret": "outside", "/root/sub/inside.txt": "inside" });
  return new DirFileSystem({ path: "/root", fs: mem });
}]);
views.push(["file", async () => new DirFileSystem({ path: join(localDir, "root"), fs: new LocalFileSystem() })]);
views.push(["dir over dir", async () => {
  const mem = new MemoryFileSystem({ store: "private" });
  await mem.pipe({ "/secret": "outside", "/outer/root/sub/inside.txt": "inside", "/outer/secret": "outside" });
  return new DirFileSystem({ path: "/root", fs: new DirFileSystem({ path: "/outer", fs: mem }) });
}]);

describe.each(views)("dir view over %s", (_name, make) => {
  let fs: AbstractFileSystem;
  beforeAll(async () => {
    fs = await make();
  });

  it("a leading / means the view's root; names come back relative", async () => {
    expect(await fs.ls("/", { detail: false })).toEqual(["sub"]);
    expect(await fs.find("/")).toEqual(["sub/inside.txt"]);
    expect(await fs.readText("/sub/inside.txt")).toBe("inside");
    expect(await fs.readText("sub/../sub/inside.txt")).toBe("inside");
    expect((await fs.info("sub")).name).toBe("sub");
    expect(await fs.glob("**/*.txt")).toEqual(["sub/inside.txt"]);
    expect(Object.keys((await fs.cat("sub/*")) as object)).toEqual(["sub/inside.txt"]);
  });

  for (const escape of ESCAPES) {
    it(`refuses '${escape}' with EACCES for reads, writes and listings`, async () => {
      expect(await codeOf(fs.catFile(escape))).toBe("EACCES");
      expect(await codeOf(fs.ls(escape))).toBe("EACCES");
      expect(await codeOf(fs.exists(escape))).toBe("EACCES");
      expect(await codeOf(fs.pipeFile(escape, "overwrite!"))).toBe("EACCES");
      expect(await codeOf(fs.rm(escape, { recursive: true }))).toBe("EACCES");
      expect(await codeOf(fs.copy("sub/inside.txt", escape))).toBe("EACCES");
      expect(await codeOf(fs.glob(`${escape}/*`))).toBe("EACCES");
    });
  }

  it("errors carry the view's path, not the target's", async () => {
    const err = await errorOf(fs.info("sub/missing"));
    expect(err.code).toBe("ENOENT");
    expect(err.path).toBe("sub/missing");
    expect(err.message).not.toContain("root/sub");
  });
});
