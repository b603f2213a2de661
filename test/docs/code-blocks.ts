/**
 * The TypeScript code blocks of README.md and docs/ (```ts), with what the HTML comment right
 * before each says about it (the markers are described in docs/contributing.md):
 *
 *   <!-- doc-test: run -->            the default: type-checked, then run in a temp directory
 *   <!-- doc-test: compile-only -->   type-checked only (needs a network or a real remote)
 *   <!-- doc-test: run
 *   const fs = new MemoryFileSystem();
 *   -->                               lines after the first: a preamble put before the block
 *
 * A `doc-test` comment that no ts block follows, or a first line with another word, is an error:
 * a marker must never be silently ignored.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export type BlockMode = "run" | "compile-only";

export interface CodeBlock {
  /** Path of the markdown file, relative to the repository. */
  file: string;
  /** 1-based line of the block's first code line in that file. */
  line: number;
  code: string;
  /** Code put before the block (from its marker); "" when there is none. */
  preamble: string;
  mode: BlockMode;
}

const MARKER = /^<!--\s*doc-test:\s*(\S+)\s*$/;
const ONE_LINE_MARKER = /^<!--\s*doc-test:\s*(\S+)\s*-->\s*$/;
const FENCE_TS = /^```(ts|typescript)\s*$/;
const MODES: readonly string[] = ["run", "compile-only"];

/** README.md and every .md under docs/ (not generated or installed folders). */
export function markdownFiles(repo: string): string[] {
  const out = [join(repo, "README.md")];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== "api") walk(join(dir, e.name));
      } else if (e.name.endsWith(".md")) out.push(join(dir, e.name));
    }
  };
  walk(join(repo, "docs"));
  return out.sort();
}

/** The blocks of one markdown file; `file` names it in blocks and errors. */
export function extractBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  let pending: { mode: BlockMode; preamble: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = ONE_LINE_MARKER.exec(text) ?? MARKER.exec(text);
    if (marker) {
      if (pending) throw new Error(`${file}:${pending.line}: doc-test marker not followed by a ts block`);
      const mode = marker[1]!;
      if (!MODES.includes(mode)) throw new Error(`${file}:${i + 1}: doc-test marker '${mode}' is not one of ${MODES.join(", ")}`);
      const preamble: string[] = [];
      const start = i;
      if (!ONE_LINE_MARKER.test(text)) {
        for (i++; i < lines.length && lines[i]!.trim() !== "-->"; i++) preamble.push(lines[i]!);
        if (i === lines.length) throw new Error(`${file}:${start + 1}: doc-test marker is never closed with a '-->' line`);
      }
      pending = { mode: mode as BlockMode, preamble: preamble.join("\n"), line: start + 1 };
      continue;
    }
    if (FENCE_TS.test(text)) {
      const code: string[] = [];
      const line = i + 2;
      for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) code.push(lines[i]!);
      blocks.push({ file, line, code: code.join("\n"), preamble: pending?.preamble ?? "", mode: pending?.mode ?? "run" });
      pending = undefined;
      continue;
    }
    if (text.startsWith("```")) {
      // Another language's block: what it holds (a marker shown as an example) is not a marker.
      for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++);
      if (pending) throw new Error(`${file}:${pending.line}: doc-test marker not followed by a ts block`);
      continue;
    }
    if (pending && text.trim() !== "") {
      throw new Error(`${file}:${pending.line}: doc-test marker not followed by a ts block`);
    }
  }
  if (pending) throw new Error(`${file}:${pending.line}: doc-test marker not followed by a ts block`);
  return blocks;
}

/** Every block of README.md and docs/. */
export function allBlocks(repo: string): CodeBlock[] {
  return markdownFiles(repo).flatMap((path) => extractBlocks(relative(repo, path), readFileSync(path, "utf8")));
}

/** The block as a module: preamble, code, and `export {}` so that top-level await is allowed. */
export function moduleSource(block: CodeBlock): string {
  const head = block.preamble ? `${block.preamble}\n` : "";
  return `${head}${block.code}\nexport {};\n`;
}

/** Lines the preamble adds before the block's code in `moduleSource`. */
export function preambleLines(block: CodeBlock): number {
  return block.preamble ? block.preamble.split("\n").length : 0;
}
