/**
 * Every ```ts block of README.md and docs/ compiles against the sources, and the ones that need
 * no network run: an example cannot rot. All blocks are type-checked in one tsc run (the
 * package's import names mapped to src/ through the exports of package.json); each runnable
 * block then runs with tsx in a fresh temp directory of its own.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allBlocks, extractBlocks, moduleSource, preambleLines, type CodeBlock } from "./code-blocks.js";
import { exportSources } from "./package-exports.js";

const repo = resolve(import.meta.dirname, "../..");
const blocks = allBlocks(repo);
const label = (b: CodeBlock) => `${b.file}:${b.line}`;

/** `fsspec-ts` and each subpath of package.json's exports -> the source file its types come from. */
function sourcePaths(): Record<string, string[]> {
  return Object.fromEntries([...exportSources(repo)].map(([name, source]) => [name, [join(repo, source)]]));
}

// Inside the repository (git-ignored .scratch/) so that node_modules/@types resolve as for src/.
let scratch = "";
const diagnostics = new Map<CodeBlock, string[]>();
const moduleOf = (i: number) => join(scratch, `block-${i}.ts`);

beforeAll(() => {
  mkdirSync(join(repo, ".scratch"), { recursive: true });
  scratch = mkdtempSync(join(repo, ".scratch", "doc-blocks-"));
  blocks.forEach((b, i) => writeFileSync(moduleOf(i), moduleSource(b)));
  writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify({
    extends: join(repo, "tsconfig.json"),
    // Examples name values to show them (`const head = ...`) without using them.
    compilerOptions: { noEmit: true, noUnusedLocals: false, paths: sourcePaths() },
    include: ["*.ts"],
  }));
  const tsc = spawnSync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", scratch, "--pretty", "false"], { encoding: "utf8" });
  const byModule = new Map(blocks.map((b, i) => [`block-${i}.ts`, b]));
  for (const line of `${tsc.stdout}${tsc.stderr}`.split("\n")) {
    const m = /(block-\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
    const block = m && byModule.get(m[1]!);
    if (!block) {
      if (/error/.test(line)) throw new Error(`tsc: ${line}`);
      continue;
    }
    const mdLine = block.line + Number(m![2]) - 1 - preambleLines(block);
    diagnostics.set(block, [...(diagnostics.get(block) ?? []), `${block.file}:${mdLine}:${m![3]} ${m![4]}`]);
  }
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs a block's module in a fresh temp directory; resolves with its exit code and stderr. */
function runBlock(i: number): Promise<{ code: number | null; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), "fsspec-doc-block-"));
  const args = [join(repo, "node_modules/tsx/dist/cli.mjs"), "--tsconfig", join(scratch, "tsconfig.json"), moduleOf(i)];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, FSSPEC_TS_OFFLINE: "" }, timeout: 60_000 });
    let stderr = "";
    child.stdout.resume();
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      rmSync(cwd, { recursive: true, force: true });
      done({ code, stderr });
    });
  });
}

describe("code blocks of README.md and docs/", () => {
  it("are found, with their markers", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(20);
    expect(blocks.filter((b) => b.mode === "run").length).toBeGreaterThanOrEqual(5);
  });

  it.each(blocks.map((b) => [label(b), b] as const))("%s compiles", (_name, block) => {
    expect(diagnostics.get(block) ?? []).toEqual([]);
  });

  const runnable = blocks.map((b, i) => [label(b), i] as const).filter(([, i]) => blocks[i]!.mode === "run");
  it.each(runnable)("%s runs", async (_name, i) => {
    const { code, stderr } = await runBlock(i);
    expect(stderr).toBe("");
    expect(code).toBe(0);
  }, 90_000);
});

describe("doc-test markers", () => {
  const md = (...lines: string[]) => lines.join("\n");

  it("take a mode and a preamble; blocks without one run", () => {
    const found = extractBlocks("x.md", md(
      "<!-- doc-test: compile-only -->", "```ts", "a();", "```",
      "", "<!-- doc-test: run", "const x = 1;", "-->", "", "```ts", "x;", "```",
      "```ts", "b();", "```", "```", "<!-- doc-test: compile-only -->", "```", "```ts", "c();", "```",
    ));
    expect(found.map(({ line, code, preamble, mode }) => ({ line, code, preamble, mode }))).toEqual([
      { line: 3, code: "a();", preamble: "", mode: "compile-only" },
      { line: 11, code: "x;", preamble: "const x = 1;", mode: "run" },
      { line: 14, code: "b();", preamble: "", mode: "run" },
      { line: 20, code: "c();", preamble: "", mode: "run" },
    ]);
    expect(moduleSource(found[1]!)).toBe("const x = 1;\nx;\nexport {};\n");
  });

  it("are never silently ignored", () => {
    expect(() => extractBlocks("x.md", md("<!-- doc-test: skip -->", "```ts", "```"))).toThrow("x.md:1: doc-test marker 'skip' is not one of run, compile-only");
    expect(() => extractBlocks("x.md", md("<!-- doc-test: run -->", "text", "```ts", "```"))).toThrow("x.md:1: doc-test marker not followed by a ts block");
    expect(() => extractBlocks("x.md", md("<!-- doc-test: run -->"))).toThrow("not followed by a ts block");
    expect(() => extractBlocks("x.md", md("<!-- doc-test: run -->", "```sh", "ls", "```"))).toThrow("not followed by a ts block");
    expect(() => extractBlocks("x.md", md("<!-- doc-test: run", "const x = 1;"))).toThrow("x.md:1: doc-test marker is never closed");
  });
});
