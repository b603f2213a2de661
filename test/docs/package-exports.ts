/**
 * The entry points of package.json's `exports` and the source file each one's types are built
 * from (tsconfig.build.json compiles `<root>/x.ts` to `dist/x.d.ts`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Import name (`fsspec-ts`, `fsspec-ts/http`, ...) -> source file, relative to the repository. */
export function exportSources(repo: string): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, string | { types?: string }>;
  };
  const out = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = typeof target === "string" ? undefined : target.types;
    if (!types) continue;
    const source = types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ".ts");
    if (!existsSync(join(repo, source))) throw new Error(`exports['${subpath}'].types ${types}: no source file ${source}`);
    out.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source);
  }
  return out;
}
