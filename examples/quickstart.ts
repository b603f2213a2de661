/**
 * The quick start, runnable: `npm run demo`. Touches only memory and a temporary directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesystem, FsError, open, openFiles, urlToFs, type MemoryFileSystem } from "../src/index.js";

const line = (title: string) => console.log(`\n== ${title}`);

line("memory: one store shared by every default instance");
const mem = await filesystem<MemoryFileSystem>("memory");
await mem.pipe({ "/demo/a.txt": "alpha\n", "/demo/b.txt": "bravo\n", "/demo/sub/c.csv": "x,y\n1,2\n" });
console.log("ls      ", await mem.ls("/demo", { detail: false }));
console.log("find    ", await mem.find("/demo"));
console.log("glob    ", await mem.glob("/demo/**/*.csv"));
console.log("catFile ", JSON.stringify(new TextDecoder().decode(await mem.catFile("/demo/a.txt", -3))));
console.log("du      ", await mem.du("/demo"), "bytes");

line("copy with fsspec's rules");
await mem.copy("/demo/sub", "/copied", { recursive: true });
console.log("copy(/demo/sub, /copied, recursive) ->", await mem.find("/copied"));

line("URLs and chaining");
const { fs, path } = await urlToFs("dir::memory://demo");
console.log(`dir::memory://demo -> ${fs.protocol} rooted at /demo; path '${path}'`);
console.log("ls in the view", await fs.ls("/", { detail: false }));
try {
  await fs.catFile("../secret");
} catch (err) {
  console.log("escaping the root:", (err as FsError).code);
}

line("open(): text, gzip inferred from the extension");
const w = await open("memory://demo/log.txt.gz", "w", { compression: "infer" });
for (let i = 0; i < 3; i++) await w.write(`event ${i}\n`);
await w.close();
const r = await open("memory://demo/log.txt.gz", "r", { compression: "infer" });
for await (const l of r) process.stdout.write(`  read back: ${l}`);
await r.close();

line("openFiles(): a '*' numbered per file");
for (const f of await openFiles("memory://demo/parts/part-*.txt", "w", { num: 3 })) {
  await f.use(async (h) => void (await h.write(`${f.path}\n`)));
}
console.log(await mem.find("/demo/parts"));

line("local disk: atomic writes, get/put between filesystems");
const dir = await mkdtemp(join(tmpdir(), "fsspec-demo-"));
try {
  const local = await filesystem("file");
  await mem.get("/demo", `${dir}/download`, { recursive: true });
  console.log("get(/demo -> local) ->", (await local.find(`${dir}/download`)).map((p) => p.slice(dir.length)));
  await local.writeText(`${dir}/note.txt`, "written atomically\n");
  console.log("readText", JSON.stringify(await local.readText(`${dir}/note.txt`)));
} finally {
  await rm(dir, { recursive: true, force: true });
}

line("errors are typed");
try {
  await mem.info("/demo/missing");
} catch (err) {
  const e = err as FsError;
  console.log(`${e.name} code=${e.code} path=${e.path}`);
}
