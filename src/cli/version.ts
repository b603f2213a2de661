/** The package's version, read from its package.json (two folders up from src/cli, three from dist/src/cli). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; dir = dirname(dir), i++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "fsspec-ts" && manifest.version) return manifest.version;
    } catch {
      // not here: one folder up
    }
  }
  return "unknown";
}
