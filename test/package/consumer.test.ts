/**
 * fsspec-ts as a user installs it: one `npm pack` of a copy of the checkout (its prepack builds),
 * installed into a fresh project, then used there: every export imported (import and require),
 * a small program over memory, local disk and HTTP (a server of `fsspec-ts/testing`), the bin,
 * the optional AWS SDK missing and then present, a strict TypeScript program type-checked
 * against the shipped types (nodenext and bundler resolution), a bundle of one helper, and the
 * tarball's file list and installed size.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { copyCheckout, diskUsage, installTarball, linkFromRepo, pack, REPO } from "./pack.js";

const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  version: string;
  exports: Record<string, unknown>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
/** "fsspec-ts", "fsspec-ts/http", ... for every entry of `exports` but package.json. */
const ENTRIES = Object.keys(manifest.exports)
  .filter((k) => k !== "./package.json")
  .map((k) => (k === "." ? "fsspec-ts" : `fsspec-ts/${k.slice(2)}`));
const SDK = ["@aws-sdk/client-s3", "@aws-sdk/s3-request-presigner"];
const MB = 1_000_000;

let root: string;
let project: string;
let files: string[];

/** Run `node <args>` in the project; stdout, stderr and the exit code. */
function node(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, args, { cwd: project, encoding: "utf8", input, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Write `name` in the project and run it with node; its stdout parsed as JSON. */
function program(name: string, source: string, ...args: string[]): unknown {
  writeFileSync(join(project, name), source);
  const r = node([name, ...args]);
  expect(r.err, `${name} failed`).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "fsspec-consumer-"));
  copyCheckout(join(root, "checkout"));
  ({ files } = pack(join(root, "checkout"), root));
  project = join(root, "project");
  mkdirSync(project);
  installTarball(project, join(root, `fsspec-ts-${manifest.version}.tgz`));
}, 240_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  it("holds the built library, LICENSE, README and package.json: no tests, no TypeScript sources, no maps", () => {
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/main.js"]));
    const outside = files.filter((f) => !["LICENSE", "README.md", "package.json"].includes(f) && !/^dist\/(src|spec)\//.test(f));
    expect(outside).toEqual([]);
    expect(files.filter((f) => /\.test\.|(^|\/)test\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    // Every entry point and the bin are in it.
    for (const target of Object.values(manifest.exports).flatMap((e) => (typeof e === "string" ? [] : Object.values(e as Record<string, string>)))) {
      expect(files).toContain(target.replace(/^\.\//, ""));
    }
    expect(readFileSync(join(project, "node_modules/fsspec-ts/LICENSE"), "utf8")).toMatch(/^BSD 3-Clause License\n\nCopyright \(c\) \d{4}, the fsspec-ts authors/);
  });

  it("installs in at most 10 MB without the optional peers (the AWS SDK, vitest)", () => {
    const installed = readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."));
    for (const peer of [...SDK, "vitest"]) expect(manifest.peerDependenciesMeta[peer]?.optional).toBe(true);
    expect(installed).not.toContain("@aws-sdk");
    expect(installed).not.toContain("vitest");
    expect(installed).not.toContain("memfs");
    expect(diskUsage(join(project, "node_modules"))).toBeLessThanOrEqual(10 * MB);
    // The repository itself tests S3 against the exact versions the error message names.
    for (const name of SDK) expect(manifest.peerDependencies[name]).toBe(`^${manifest.devDependencies[name]}`);
  });
});

// npm, esbuild and tsc run as child processes here: on a loaded 2-core machine each may take well over 30 s.
describe("in a fresh project", { timeout: 180_000 }, () => {
  it("import of the root loads no network client and no progress bar", () => {
    const loaded = program(
      "root-only.mjs",
      `import { createRequire } from "node:module";
       import * as root from "fsspec-ts";
       const cjs = Object.keys(createRequire(import.meta.url).cache);
       console.log(JSON.stringify({ exports: Object.keys(root).length, heavy: cjs.filter((p) => /node_modules\\/(undici|cli-progress|@aws-sdk)\\//.test(p)) }));`,
    ) as { exports: number; heavy: string[] };
    expect(loaded.exports).toBeGreaterThan(40);
    expect(loaded.heavy).toEqual([]);
  });

  it("bundles: one helper is a few hundred bytes; a class bundle runs without the optional SDK when it is split off", () => {
    // Bundlers follow the registry's loaders to s3 even when s3:// is unused: without the SDK,
    // a bundle marks it external (docs/backends/s3.md), and code splitting keeps its import in the s3 chunk.
    const esbuild = (...args: string[]) => execFileSync(join(REPO, "node_modules/esbuild/bin/esbuild"), [...args, "--bundle", "--platform=node", "--format=esm", "--external:@aws-sdk/*", "--log-level=error"], { cwd: project });
    writeFileSync(join(project, "helper.mjs"), `import { formatBytes } from "fsspec-ts"; console.log(formatBytes(1536));`);
    esbuild("helper.mjs", "--outfile=helper.bundle.mjs");
    const helper = readFileSync(join(project, "helper.bundle.mjs"), "utf8");
    expect(node(["helper.bundle.mjs"])).toEqual({ code: 0, out: "1.5K\n", err: "" });
    expect(helper).not.toMatch(/cli-progress|undici|@aws-sdk|registerImplementation/);
    expect(helper.length).toBeLessThan(5_000);
    writeFileSync(
      join(project, "classes.mjs"),
      `import { MemoryFileSystem, urlToFs } from "fsspec-ts";
       const mem = new MemoryFileSystem({ store: "private" });
       await mem.pipe("/a", "x");
       const { fs } = await urlToFs("memory://a");
       console.log(new TextDecoder().decode(await mem.cat("/a")), (await MemoryFileSystem.fromJSON(mem.toJSON())).protocol, fs.protocol);`,
    );
    esbuild("classes.mjs", "--splitting", "--outdir=split");
    expect(node(["split/classes.js"])).toEqual({ code: 0, out: "x memory memory\n", err: "" });
    expect(readFileSync(join(project, "split/classes.js"), "utf8")).not.toContain("@aws-sdk");
  });

  it("memory, local disk and HTTP (a fsspec-ts/testing server) work through the installed package", () => {
    const dir = join(root, "local");
    mkdirSync(dir);
    const out = program(
      "use.mjs",
      `import { filesystem, urlToFs, open, MemoryFileSystem, FsError } from "fsspec-ts";
       import { HTTPFileSystem } from "fsspec-ts/http";
       import { startHttpServer } from "fsspec-ts/testing";
       const text = (b) => new TextDecoder().decode(b);
       const dir = process.argv[2];
       const mem = await filesystem("memory");
       await mem.pipe({ "/d/a.txt": "alpha", "/d/sub/b.txt": "bravo" });
       const local = (await urlToFs("file://" + dir)).fs;
       await mem.get("/d/", dir + "/copy/", { recursive: true });
       const f = await open("file://" + dir + "/log.txt.gz", "w", { compression: "infer" });
       await f.write("zipped\\n");
       await f.close();
       const server = await startHttpServer();
       server.setFile("/files/x.bin", "over http");
       const { fs: http, path } = await urlToFs(server.url + "/files/x.bin");
       let missing;
       try { await mem.cat("/nope"); } catch (e) { missing = e instanceof FsError && e.code; }
       console.log(JSON.stringify({
         memory: text(await mem.cat("/d/sub/b.txt")),
         copied: (await local.find(dir + "/copy")).map((p) => p.slice(dir.length)),
         gz: await (await open("file://" + dir + "/log.txt.gz", "r", { compression: "infer" })).read(),
         http: text(await http.cat(path)),
         httpClass: http instanceof HTTPFileSystem,
         private: new MemoryFileSystem({ store: "private" }).protocol,
         missing,
       }));
       await server.close();`,
      dir,
    );
    expect(out).toEqual({
      memory: "bravo",
      copied: ["/copy/a.txt", "/copy/sub/b.txt"],
      gz: "zipped\n",
      http: "over http",
      httpClass: true,
      private: "memory",
      missing: "ENOENT",
    });
  });

  it("every subpath imports, and require() of each works on a Node with require(esm)", () => {
    linkFromRepo(project, "vitest"); // fsspec-ts/spec runs inside vitest, an optional peer
    try {
      const withSdk = ENTRIES.filter((e) => e !== "fsspec-ts/s3");
      const imported = program("imports.mjs", `const out = {}; for (const e of ${JSON.stringify(withSdk)}) out[e] = Object.keys(await import(e)).sort(); console.log(JSON.stringify(out));`) as Record<string, string[]>;
      expect(imported["fsspec-ts/http"]).toContain("HTTPFileSystem");
      expect(imported["fsspec-ts/spec"]).toContain("describeFileSystem");
      expect(imported["fsspec-ts/testing"]).toEqual(["findMotoPython", "startHfServer", "startHttpServer", "startMoto", "startNgcServer"]);
      const required = node(["-e", `for (const e of ${JSON.stringify(withSdk.filter((e) => e !== "fsspec-ts/spec"))}) console.log(e, Object.keys(require(e)).length)`]);
      if (process.features.require_module) {
        expect(required.code).toBe(0);
        expect(required.out.trim().split("\n")).toHaveLength(withSdk.length - 1);
      } else {
        expect(required.err).toContain("ERR_REQUIRE_ESM");
      }
    } finally {
      rmSync(join(project, "node_modules/vitest"));
    }
  });

  it("the bin runs: --version, and a listing of the local disk", () => {
    const version = node(["node_modules/.bin/fsspec-ts", "--version"]);
    expect(version).toEqual({ code: 0, out: `${manifest.version}\n`, err: "" });
    const dir = join(root, "listed");
    mkdirSync(dir);
    writeFileSync(join(dir, "only.txt"), "x");
    expect(node(["node_modules/.bin/fsspec-ts", "ls", dir])).toEqual({ code: 0, out: "only.txt\n", err: "" });
  });

  it("s3:// without the AWS SDK is ENOTSUP naming the packages and versions to install; with it, S3 works", () => {
    const install = `npm install ${SDK.map((n) => `${n}@${manifest.devDependencies[n]}`).join(" ")}`;
    const failure = program(
      "s3-missing.mjs",
      `import { filesystem, urlToFs } from "fsspec-ts";
       const out = [];
       for (const attempt of [() => filesystem("s3"), () => urlToFs("s3a://bucket/key")]) {
         try { await attempt(); out.push("loaded"); } catch (e) { out.push({ name: e.name, code: e.code, message: e.message }); }
       }
       console.log(JSON.stringify(out));`,
    ) as Array<{ name: string; code: string; message: string }>;
    for (const f of failure) {
      expect(f).toMatchObject({ name: "FsError", code: "ENOTSUP" });
      expect(f.message).toContain("'@aws-sdk/client-s3' is not installed");
      expect(f.message).toContain(install);
    }
    const cli = node(["node_modules/.bin/fsspec-ts", "ls", "s3://bucket"]);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(install);

    for (const name of SDK) linkFromRepo(project, name);
    const bucket = `consumer-${process.pid}-${Date.now().toString(36)}`;
    const used = program(
      "s3-present.mjs",
      `import { S3FileSystem } from "fsspec-ts/s3";
       import { filesystem } from "fsspec-ts";
       const [endpoint, bucket] = process.argv.slice(2);
       const s3 = new S3FileSystem({ endpoint, region: "us-east-1", key: "testing-key", secret: "testing-secret" });
       await s3.mkdir(bucket);
       await s3.pipe(bucket + "/k.txt", "in a bucket");
       const viaRegistry = await filesystem("s3", { endpoint, region: "us-east-1", key: "testing-key", secret: "testing-secret" });
       console.log(JSON.stringify({ text: new TextDecoder().decode(await viaRegistry.cat(bucket + "/k.txt")), same: viaRegistry instanceof S3FileSystem }));`,
      inject("s3Endpoint"),
      bucket,
    );
    expect(used).toEqual({ text: "in a bucket", same: true });
  });

  it("a strict TypeScript program type-checks against the shipped types (nodenext and bundler)", () => {
    // The optional peers' types are needed by the entries that use them.
    for (const name of [...SDK, "vitest"]) linkIfMissing(name);
    writeFileSync(
      join(project, "typed.ts"),
      `import { filesystem, urlToFs, MemoryFileSystem, FsError, isFsError, type FileInfo, type FsErrorCode } from "fsspec-ts";
       import { HTTPFileSystem, type HTTPFileSystemOptions } from "fsspec-ts/http";
       import { HuggingFaceFileSystem } from "fsspec-ts/hf";
       import { NGCFileSystem } from "fsspec-ts/ngc";
       import { S3FileSystem } from "fsspec-ts/s3";
       import { describeFileSystem } from "fsspec-ts/spec";
       import { startHttpServer, type TestHttpServer } from "fsspec-ts/testing";

       export async function main(): Promise<string> {
         const mem = new MemoryFileSystem({ store: "private" });
         await mem.pipe("/a.txt", "a");
         const infos: FileInfo[] = await mem.ls("/");
         const names: string[] = await mem.ls("/", { detail: false });
         // @ts-expect-error a detailed listing is FileInfo[], not string[]: the types are real, not any
         const wrong: string[] = await mem.ls("/", { detail: true });
         const { fs, path } = await urlToFs("memory://a.txt");
         const code: FsErrorCode = new FsError("ENOENT").code;
         const options: HTTPFileSystemOptions = { retries: 2 };
         const server: TestHttpServer = await startHttpServer();
         await server.close();
         const classes = [HTTPFileSystem, HuggingFaceFileSystem, NGCFileSystem, S3FileSystem].map((c) => c.name);
         return [infos.length, names.join(), wrong, path, String(isFsError(fs, "EIO")), code, JSON.stringify(options), classes.join(), typeof describeFileSystem, (await filesystem("memory")).protocol].join(" ");
       }`,
    );
    const tsc = join(REPO, "node_modules/typescript/bin/tsc");
    for (const [module, moduleResolution] of [["nodenext", "nodenext"], ["preserve", "bundler"]]) {
      const config = {
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "es2022",
          module,
          moduleResolution,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(REPO, "node_modules/@types")],
        },
        files: ["typed.ts"],
      };
      writeFileSync(join(project, `tsconfig.${moduleResolution}.json`), JSON.stringify(config, null, 2));
      const r = spawnSync(process.execPath, [tsc, "-p", `tsconfig.${moduleResolution}.json`], { cwd: project, encoding: "utf8" });
      expect([moduleResolution, r.status, r.stdout + r.stderr]).toEqual([moduleResolution, 0, ""]);
    }
  });

});

function linkIfMissing(name: string): void {
  try {
    readFileSync(join(project, "node_modules", name, "package.json"));
  } catch {
    linkFromRepo(project, name);
  }
}
