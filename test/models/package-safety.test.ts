/**
 * Packages never leave their root (whatever a layer below would make of the path, over every
 * root kind), can refuse symlinks that point out of a local root, and never print credentials
 * (root URL, fsOptions, cacheOptions, progress names).
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format, inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AutoModel, MemoryFileSystem, Package, type ProgressFactory } from "../../src/index.js";
import { codeOf, errorOf } from "../support/errors.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { ESCAPE_SHAPES } from "../core/escape-shapes.js";

let server: TestHttpServer;
let tmp: string;

beforeAll(async () => {
  server = await startHttpServer();
  server.setFile("/secret", "outside");
  server.setFile("/secret.bin", "outside");
  server.setFile("/root/sub/inside.bin", "inside");
  tmp = await mkdtemp(join(tmpdir(), "fsspec-pkg-safe-"));
  await mkdir(join(tmp, "local/root/sub"), { recursive: true });
  await writeFile(join(tmp, "local/secret"), "outside");
  await writeFile(join(tmp, "local/root/sub/inside.bin"), "inside");
});
afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [])).map(String);
}

describe("Package containment over every root kind", () => {
  const memory = new MemoryFileSystem({ store: "private" });
  beforeAll(async () => {
    await memory.pipe({ "/secret": "outside", "/root/sub/inside.bin": "inside" });
  });

  const roots: Array<[string, () => Package, () => string | undefined]> = [
    ["http", () => new Package(`${server.url}/root`, { cacheOptions: { cacheStorage: join(tmp, "cache-http") }, progress: false }), () => join(tmp, "cache-http")],
    ["memory", () => new Package("/root", { fs: memory, cacheOptions: { cacheStorage: join(tmp, "cache-mem") }, progress: false }), () => join(tmp, "cache-mem")],
    ["local", () => new Package(join(tmp, "local/root"), { progress: false }), () => undefined],
    ["local, cached", () => new Package(join(tmp, "local/root"), { cache: true, cacheOptions: { cacheStorage: join(tmp, "cache-local") }, progress: false }), () => join(tmp, "cache-local")],
  ];

  describe.each(roots)("over %s", (_name, make, cacheDir) => {
    it("a path inside resolves", async () => {
      const pkg = make();
      expect(await pkg.exists("sub/inside.bin")).toBe(true);
      const f = await pkg.open("sub/../sub/inside.bin");
      expect(new TextDecoder().decode(await f.read())).toBe("inside");
      await f.close();
    });

    it.each(ESCAPE_SHAPES)("%j is %s for resolve, open and exists, and nothing is downloaded", async (shape, code) => {
      const pkg = make();
      const before = cacheDir() ? await filesUnder(cacheDir()!) : [];
      server.resetCounts();
      expect(await codeOf(pkg.resolve(shape))).toBe(code);
      expect(await codeOf(pkg.resolve(shape.replace("secret", "secret.bin")))).toBe(code);
      expect(await codeOf(pkg.open(shape))).toBe(code);
      expect(await codeOf(pkg.exists(shape))).toBe(code);
      expect(server.requests.map((r) => r.path).filter((p) => !p.startsWith("/root"))).toEqual([]);
      if (cacheDir()) expect(await filesUnder(cacheDir()!)).toEqual(before);
    });
  });
});

describe("Package over local disk: symlinks", () => {
  let root: string;
  beforeAll(async () => {
    root = join(tmp, "links/root");
    await mkdir(join(root, "real"), { recursive: true });
    await writeFile(join(tmp, "links/secret.bin"), "outside");
    await writeFile(join(root, "real/w.bin"), "weights");
    await symlink("../secret.bin", join(root, "file-out"));
    await symlink(join(tmp, "links"), join(root, "dir-out"));
    await symlink("real/w.bin", join(root, "file-in"));
  });

  it("are followed by default", async () => {
    expect(await new Package(root).resolve("file-out")).toBe(join(root, "file-out"));
  });

  it("confineSymlinks refuses real paths that leave the root (EACCES) and keeps those that stay", async () => {
    const pkg = new Package(root, { confineSymlinks: true });
    for (const p of ["file-out", "dir-out/secret.bin"]) {
      expect(await codeOf(pkg.resolve(p))).toBe("EACCES");
      expect(await codeOf(pkg.open(p))).toBe("EACCES");
      expect(await codeOf(pkg.exists(p))).toBe("EACCES");
    }
    expect(await pkg.resolve("file-in")).toBe(join(root, "file-in"));
    expect(await pkg.resolve("real/w.bin")).toBe(join(root, "real/w.bin"));
    const cached = new Package(root, { confineSymlinks: true, cache: true, cacheOptions: { cacheStorage: join(tmp, "cache-links") }, progress: false });
    expect(await codeOf(cached.resolve("file-out"))).toBe("EACCES");
    expect(await filesUnder(join(tmp, "cache-links"))).toEqual([]);
  });

  it("confineSymlinks needs a local root", async () => {
    const err = await errorOf(new Package(`${server.url}/root`, { confineSymlinks: true }).resolve("sub/inside.bin"));
    expect(err.code).toBe("EINVAL");
  });
});

describe("a printed Package shows no credentials", () => {
  const LEAK = /SECRET\d+/g;
  const leaks = (value: unknown) =>
    [inspect(value), inspect(value, { depth: Infinity }), format(value), format("%o", value), String(value), `${value}`].flatMap((t) => t.match(LEAK) ?? []);

  it("root URL, fsOptions (nested by protocol) and cacheOptions, before and after use", async () => {
    const pkg = new Package(`http://alice:SECRET1@127.0.0.1:${server.port}/root?token=SECRET2`, {
      fsOptions: {
        http: { auth: { bearer: "SECRET3" }, headers: { Authorization: "Bearer SECRET4", "X-Api-Key": "SECRET5", Accept: "visible" } },
        s3: { key: "SECRET6", secret: "SECRET7" },
        hf: { token: "SECRET8" },
        ngc: { apiKey: "SECRET9" },
      },
      cacheOptions: { cacheStorage: join(tmp, "cache-print"), targetOptions: { password: "SECRET10" } } as never,
      progress: false,
    });
    expect(leaks(pkg)).toEqual([]);
    expect(inspect(pkg, { depth: Infinity })).toContain("visible");
    await pkg.filesystem();
    expect(leaks(pkg)).toEqual([]);
    const { fs } = await pkg.filesystem();
    expect(leaks(fs)).toEqual([]);
  });

  it("a model holding its package prints none either (AutoModel keeps no options of its own)", async () => {
    class Model extends AutoModel {
      constructor(readonly pkg: Package) {
        super();
      }
      static override loadDefaultPackage() {
        return new Package(`${server.url}/root`, { fsOptions: { http: { auth: { bearer: "SECRET11" } } }, progress: false });
      }
      static override async loadModel(pkg: Package) {
        return new Model(pkg);
      }
    }
    const model = await Model.fromPretrained();
    expect(leaks(model)).toEqual([]);
  });

  it("progress names carry no query secrets", async () => {
    server.setFile("/root/signed.bin", "signed");
    const names: string[] = [];
    const factory: ProgressFactory = (name) => {
      names.push(name);
      return undefined;
    };
    const pkg = new Package(`${server.url}/root`, { cacheOptions: { cacheStorage: join(tmp, "cache-progress") }, progress: factory });
    await pkg.resolve("signed.bin?X-Amz-Signature=SECRET12&sig=SECRET13");
    expect(names).toEqual(["signed.bin?X-Amz-Signature=***&sig=***"]);
  });
});
