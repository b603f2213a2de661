/**
 * Issue 10's goal: Package.prefetch of 16 files from the test server (in a child process) that
 * waits 5 ms before each answer, as a distant hub would, against resolving the same files one
 * after another; every run fills a fresh cache directory (goal >= 3x, default concurrency 4).
 */
import { createHash } from "node:crypto";
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Package } from "../../src/index.js";
import { mapBounded } from "../../src/core/limiter.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult } from "../harness.js";
import { benchBytes } from "../support/http-server-process.js";

const FILES = 16;
const SIZE = 256 * 1024;
const LATENCY_MS = 5;

const bench: BenchCase = {
  name: `packages: prefetch of ${FILES} files (${LATENCY_MS} ms latency per request) vs resolving them one by one`,
  async run(): Promise<CaseResult> {
    const child = fork(fileURLToPath(new URL("../support/http-server-process.ts", import.meta.url)), ["--serve"], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [{ url }] = (await once(child, "message")) as [{ url: string }];
    const names = Array.from({ length: FILES }, (_, i) => `weights-${i}.bin`);
    const ready = once(child, "message");
    child.send({ files: names.map((n) => ({ path: `/model/${n}`, size: SIZE })), latencyMs: LATENCY_MS });
    await ready;
    const digest = createHash("sha256").update(benchBytes(SIZE)).digest("hex");
    const dir = await mkdtemp(join(tmpdir(), "fsspec-bench-pkg-"));
    let run = 0;
    let pkg: Package;
    // Each run into a new directory; the one before it is removed first (untimed), so the runs
    // do not pile up files and every run writes into memory the machine has used before.
    const fresh = async () => {
      if (run > 0) await rm(join(dir, `run-${run}`), { recursive: true, force: true });
      pkg = new Package(`${url}/model`, { cacheOptions: { cacheStorage: join(dir, `run-${++run}`) }, progress: false });
    };
    const check = async (paths: string[]) => {
      for (const p of paths) if (createHash("sha256").update(await readFile(p)).digest("hex") !== digest) throw new Error(`wrong bytes in ${p}`);
    };
    try {
      await fresh();
      await check(await pkg!.prefetch(names));
      await fresh();
      await check(await Promise.all(names.map((n) => pkg.resolve(n))));
      // The same requests with no cache at all (an info, then the bytes): the ceiling of the
      // ratio where client and server share this machine's cores.
      const http = new HTTPFileSystem({ skipInstanceCache: true });
      const urls = names.map((n) => `${url}/model/${n}`);
      const fetchOne = async (u: string) => {
        await http.info(u);
        await http.catFile(u);
      };
      const [oneByOne, prefetch, rawOne, rawFour] = await measureInterleaved(
        [
          {
            label: `resolve x ${FILES}, one after another`,
            before: fresh,
            fn: async () => {
              for (const n of names) await pkg.resolve(n);
            },
          },
          { label: `prefetch(${FILES} files), concurrency 4`, before: fresh, fn: () => pkg.prefetch(names) },
          {
            label: `no cache: info + catFile x ${FILES}, one after another`,
            fn: async () => {
              for (const u of urls) await fetchOne(u);
            },
          },
          { label: `no cache: info + catFile x ${FILES}, 4 at a time`, fn: () => mapBounded(urls, fetchOne, { concurrency: 4 }) },
        ],
        { runs: 9, warmup: 1 },
      );
      await http.close();
      prefetch!.extra = { latencyMs: LATENCY_MS, fileKiB: SIZE / 1024 };
      return {
        samples: [oneByOne!, prefetch!, rawOne!, rawFour!],
        ratios: [
          speedup("prefetch vs sequential resolve", oneByOne!, prefetch!, 3),
          speedup("ceiling: the same requests without a cache, 4 at a time vs one after another", rawOne!, rawFour!),
        ],
        notes: ["every run downloads into a fresh cache directory: an info request (a HEAD, then one-byte GETs once ranges are announced) and a GET per file, each held back 5 ms"],
      };
    } finally {
      child.send({ close: true });
      await once(child, "exit");
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
