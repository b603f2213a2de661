/**
 * The API reference cannot lose a doc comment: TypeDoc (typedoc.json: every entry point of
 * package.json's exports) validates the project as `npm run docs` does, with warnings as errors
 * (an undocumented export, a type a signature names but no entry point exports, a stale entry
 * in intentionallyNotDocumented), and emits nothing. About 15 s on one free core.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { exportSources } from "./package-exports.js";

const repo = resolve(import.meta.dirname, "../..");
const typedoc = join(repo, "docs/typedoc/node_modules/typedoc/bin/typedoc");

describe("API reference (TypeDoc)", () => {
  it("covers every subpath of package.json's exports", () => {
    const config = JSON.parse(readFileSync(join(repo, "typedoc.json"), "utf8")) as { entryPoints: string[] };
    const sources = [...exportSources(repo).values()];
    expect([...config.entryPoints].sort()).toEqual(sources.sort());
  });

  it("documents every export: TypeDoc's validation passes with warnings as errors", () => {
    const run = spawnSync(process.execPath, [typedoc, "--emit", "none", "--logLevel", "Warn"], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    expect(output.split("\n").filter((l) => /warning|error/i.test(l))).toEqual([]);
    expect(run.status).toBe(0);
  }, 180_000);
});
