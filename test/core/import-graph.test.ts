/**
 * "An unused backend costs nothing": the modules `import "fsspec-ts"` loads must not import the
 * network clients (undici, the AWS SDK). Checked on the static import graph of src/index.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/index.ts");
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

describe("import graph of the package root", () => {
  it("never loads undici or the AWS SDK (network backends load lazily)", () => {
    const { files, packages } = staticGraph(root);
    expect(files.size).toBeGreaterThan(60);
    const heavy = [...packages.keys()].filter((p) => p === "undici" || p.startsWith("@aws-sdk/"));
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
