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
    const text = readFileSync(file, "utf8");
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

  it("a process that imports fsspec-ts/http loads undici only when it makes a filesystem", () => {
    const script = `
      import { createRequire } from "node:module";
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/node_modules/undici/"));
      const { HTTPFileSystem } = await import(${JSON.stringify(resolve(src, "implementations/http.ts"))});
      const before = loaded();
      const fs = new HTTPFileSystem();
      console.log(JSON.stringify([before, loaded()]));
      await fs.close();
    `;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out.trim())).toEqual([false, true]);
  });
});

describe("import graph of the package root", () => {
  it("never loads undici or the AWS SDK (network backends load lazily)", () => {
    const { files, packages } = staticGraph(root);
    expect(files.size).toBeGreaterThan(20);
    const heavy = [...packages.keys()].filter((p) => p === "undici" || p.startsWith("@aws-sdk/") || p === "cli-progress");
    expect(heavy, `imported by ${heavy.map((h) => packages.get(h)).join(", ")}`).toEqual([]);
    expect([...packages.keys()].sort()).toEqual(expect.arrayContaining(["lru-cache"]));
  });

  it("the registry reaches the network backends through lazy loaders", async () => {
    const { getFilesystemClass } = await import("../../src/index.js");
    expect((await getFilesystemClass("https")).name).toBe("HTTPFileSystem");
    expect((await getFilesystemClass("s3")).name).toBe("S3FileSystem");
  });
});
