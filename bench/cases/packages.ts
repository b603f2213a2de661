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
    const fresh = () => {
      pkg = new Package(`${url}/model`, { cacheOptions: { cacheStorage: join(dir, `run-${++run}`) }, progress: false });
    };
    const check = async (paths: string[]) => {
      for (const p of paths) if (createHash("sha256").update(await readFile(p)).digest("hex") !== digest) throw new Error(`wrong bytes in ${p}`);
    };
    try {
      fresh();
      await check(await pkg!.prefetch(names));
      fresh();
      await check(await Promise.all(names.map((n) => pkg.resolve(n))));
      const [oneByOne, prefetch] = await measureInterleaved(
        [
          {
            label: `resolve x ${FILES}, one after another`,
            before: fresh,
            fn: async () => {
              for (const n of names) await pkg.resolve(n);
            },
          },
          { label: `prefetch(${FILES} files), concurrency 4`, before: fresh, fn: () => pkg.prefetch(names) },
        ],
        { runs: 9, warmup: 1 },
      );
      prefetch!.extra = { latencyMs: LATENCY_MS, fileKiB: SIZE / 1024 };
      return {
        samples: [oneByOne!, prefetch!],
        ratios: [speedup("prefetch vs sequential resolve", oneByOne!, prefetch!, 3)],
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
