/**
 * The tree every real web server in the tests serves (test/support/real-servers.ts): nested
 * and empty directories, an empty file, a 50 MiB file, a .gz file, names that need
 * percent-encoding, a file without extension and a folder with an index.html. It is written
 * to a temp directory at setup; tests compare what the servers say with that directory.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

export const BIG_FILE = "big.bin";
export const BIG_SIZE = 50 * 2 ** 20;

/** Names that need percent-encoding in URLs (or look like it): one file each. */
export const ODD_NAMES = [
  "dir with space/f.bin",
  "über.txt",
  "日本.txt",
  "hash#tag.txt",
  "pct%.txt",
  "a%41.txt",
  "plus+sign.txt",
  "a&b.txt",
  "it's.txt",
  "what?.txt",
  "br[0].txt",
] as const;

/** The index page of `site/`: servers show it instead of a listing; it links to both files. */
const SITE_INDEX = `<!DOCTYPE html>
<html><head><title>site</title></head><body>
<a href="../">up</a> <a href="?C=N;O=D">sort</a> <a href="https://example.com/elsewhere">away</a>
<a href="index.html">this page</a> <a href="page.txt">the page</a>
</body></html>
`;

/** Relative path -> content (directories end with "/"); the big file is added by writeServedTree. */
export function servedTreeFiles(): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    "README.txt": "hello from the served tree\n",
    "empty.txt": "",
    noext: "a file without an extension\n",
    "data.json.gz": gzipSync(JSON.stringify({ served: true, items: Array.from({ length: 200 }, (_, i) => i) })),
    "nested/one.txt": "one\n",
    "nested/a/two.txt": "two two\n",
    "nested/a/b/three.txt": "three three three\n",
    "emptydir/": "",
    "site/index.html": SITE_INDEX,
    "site/page.txt": "a page next to an index.html\n",
  };
  for (const [i, name] of ODD_NAMES.entries()) files[name] = `odd name ${i}: ${name}\n`;
  return files;
}

/**
 * Write `files` below `dir`, readable by everyone (servers started as root drop to nobody),
 * directories made on the way.
 */
export async function writeServed(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const made = new Set<string>([dir]);
  const makeDir = async (d: string) => {
    if (made.has(d)) return;
    await makeDir(dirname(d));
    await mkdir(d, { recursive: true });
    await chmod(d, 0o755);
    made.add(d);
  };
  for (const [rel, data] of Object.entries(files)) {
    const path = join(dir, rel);
    if (rel.endsWith("/")) {
      await makeDir(path.replace(/\/+$/, ""));
      continue;
    }
    await makeDir(dirname(path));
    await writeFile(path, data);
    await chmod(path, 0o644);
  }
}

/** The whole tree, with a fresh 50 MiB file, below `dir`. */
export async function writeServedTree(dir: string): Promise<void> {
  await writeServed(dir, { ...servedTreeFiles(), [BIG_FILE]: randomBytes(BIG_SIZE) });
}
