/**
 * "An unused backend costs nothing": the modules `import "fsspec-ts"` loads must not import the
 * network clients (undici, the AWS SDK) or the progress bar library, and the HTTP subpaths
 * (`fsspec-ts/http`, `/hf`, `/ngc`) load undici only when a client is made. Checked on the
 * static import graphs of the entry points.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");
const root = resolve(src, "index.ts");
// Value imports and re-exports only: `import type` / `export type` vanish at compile time.
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm;

function staticGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    // Comments go first: a doc comment's prose may read like an import.
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (!spec.startsWith("node:")) packages.set(spec, file);
    }
  };
  visit(entry);
  return { files, packages };
}

describe("import graphs of the HTTP subpaths", () => {
  it.each(["http", "hf", "ngc"])("fsspec-ts/%s never imports undici at load time", (name) => {
    const { files, packages } = staticGraph(resolve(src, "implementations", `${name}.ts`));
    expect(files).toContain(resolve(src, "implementations/http/client.ts"));
    expect(packages.has("undici"), `imported by ${packages.get("undici")}`).toBe(false);
  });
});

/**
 * What one fresh process has loaded, step by step: the packages (undici, cli-progress, the AWS
 * SDK; all CommonJS, so they show in require's cache however they are imported) after importing
 * fsspec-ts and fsspec-ts/http, then after each first use.
 */
function loadedAlong(steps: Record<string, string>): Record<string, string[]> {
  const heavy = ["undici", "cli-progress", "@aws-sdk/client-s3"];
  const script = [
    'import { createRequire } from "node:module";',
    "const cache = createRequire(import.meta.url).cache;",
    `const loaded = () => ${JSON.stringify(heavy)}.filter((p) => Object.keys(cache).some((k) => k.includes("/node_modules/" + p + "/")));`,
    "const out = {};",
    ...Object.entries(steps).flatMap(([name, code]) => [code, `out[${JSON.stringify(name)}] = loaded();`]),
    "console.log(JSON.stringify(out));",
  ].join("\n");
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, string[]>;
}

describe("what a process loads, and when", () => {
  it("importing fsspec-ts and fsspec-ts/http loads none of undici, cli-progress, the AWS SDK; each comes with its first use", () => {
    const url = (file: string) => JSON.stringify(resolve(src, file));
    const loaded = loadedAlong({
      "import fsspec-ts": `const root = await import(${url("index.ts")});`,
      "import fsspec-ts/http": `const { HTTPFileSystem } = await import(${url("implementations/http.ts")});`,
      "new HTTPFileSystem": `const http = new HTTPFileSystem({ proxy: "http://127.0.0.1:9" }); await http.close();`,
      "a progress bar": `await root.progressBar("x", true).ready;`,
      "s3 class": `await root.getFilesystemClass("s3");`,
    });
    expect(loaded).toEqual({
      "import fsspec-ts": [],
      "import fsspec-ts/http": [],
      "new HTTPFileSystem": ["undici"],
      "a progress bar": ["undici", "cli-progress"],
      "s3 class": ["undici", "cli-progress", "@aws-sdk/client-s3"],
    });
  });
});

describe("import graph of the package root", () => {
  it("never loads undici or the AWS SDK (network backends load lazily)", () => {
    const { files, packages } = staticGraph(root);
    expect(files.size).toBeGreaterThan(60);
    const heavy = [...packages.keys()].filter((p) => p === "undici" || p.startsWith("@aws-sdk/") || p === "cli-progress");
    expect(heavy, `imported by ${heavy.map((h) => packages.get(h)).join(", ")}`).toEqual([]);
    // Nothing third-party at all: the root's caches are our own (src/core/lru.ts).
    expect([...packages.keys()]).toEqual([]);
  });

  it("the registry reaches the network backends through lazy loaders", async () => {
    const { getFilesystemClass } = await import("../../src/index.js");
    expect((await getFilesystemClass("https")).name).toBe("HTTPFileSystem");
    expect((await getFilesystemClass("s3")).name).toBe("S3FileSystem");
  });
});
