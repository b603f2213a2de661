/**
 * The measurements behind the HTTP backend's connection defaults (docs/backends/http.md), against
 * the test server in a child process, without latency and with the server holding each answer
 * back 5 and 20 ms (as a network round trip would):
 * - cat of 1,000 x 4 KiB at 16, 32, 64 and 100 connections (concurrency as many);
 * - ls with details of 200 files (a HEAD each) at headConcurrency 4, 16 and 64;
 * - catRanges of 4 KiB ranges 28 KiB apart (400) and 96 KiB apart (160) at maxGap 0 and 1 MiB;
 * - python's http.server (a new connection per request, a listen backlog of 5): cat of 300 x
 *   4 KiB at 64 connections, opened a few at a time (ours) and all at once (a plain Agent).
 * Ratios are against the current default of each setting.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult, type Ratio, type Sample } from "../harness.js";
import { benchBytes, settle, startBenchServer, type BenchServer } from "../support/http-server-process.js";

const COUNT = 1000;
const LATENCIES_MS = [0, 5, 20];
const CONNECTIONS = [16, 32, 64, 100];
const HEAD_CONCURRENCY = [4, 16, 64];
const GAPS = [0, 2 ** 20];

async function sweep<T>(
  server: BenchServer,
  what: string,
  values: readonly T[],
  defaultValue: T,
  make: (value: T) => { fs: HTTPFileSystem; run: (fs: HTTPFileSystem) => Promise<unknown> },
  latencies: readonly number[],
  samples: Sample[],
  ratios: Ratio[],
): Promise<void> {
  const made = values.map((v) => ({ value: v, ...make(v) }));
  try {
    for (const latencyMs of latencies) {
      await server.send({ latencyMs });
      const runs = await measureInterleaved(
        made.map((m) => ({ label: `${what} ${m.value}, ${latencyMs} ms latency`, fn: () => m.run(m.fs), before: () => settle(server) })),
        { runs: latencyMs ? 5 : 7, warmup: 2, gcBetweenRuns: false },
      );
      samples.push(...runs);
      const base = runs[values.indexOf(defaultValue)]!;
      runs.forEach((r, i) => {
        if (values[i] !== defaultValue) ratios.push(speedup(`${what} ${values[i]} vs ${defaultValue}, ${latencyMs} ms latency`, base, r));
      });
    }
  } finally {
    for (const m of made) await m.fs.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** python3 -m http.server: cat of 300 files through a ramped pool (ours) and a plain Agent. */
async function pythonHttpServer(samples: Sample[], ratios: Ratio[], notes: string[]): Promise<void> {
  if (spawnSync("python3", ["--version"]).status !== 0) {
    notes.push("python3 not found: the http.server rows are left out");
    return;
  }
  const root = await mkdtemp(join(tmpdir(), "fsspec-bench-pyhttp-"));
  const port = await freePort();
  for (let i = 0; i < 300; i++) await writeFile(join(root, `f${i}.bin`), benchBytes(4096));
  const child = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", root], { stdio: "ignore" });
  const urls = Array.from({ length: 300 }, (_, i) => `http://127.0.0.1:${port}/f${i}.bin`);
  const ramped = new HTTPFileSystem({ connections: 64, concurrency: 64 });
  const plain = new Agent({ connections: 64 });
  const allAtOnce = new HTTPFileSystem({ connections: 64, concurrency: 64, dispatcher: plain });
  try {
    for (let i = 0; i < 50; i++) {
      if (await ramped.exists(urls[0]!).catch(() => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const runs = await measureInterleaved(
      [
        { label: "python http.server: cat of 300 x 4 KiB, 64 connections opened 4 at a time", fn: () => ramped.cat(urls) },
        { label: "python http.server: cat of 300 x 4 KiB, 64 connections opened at once", fn: () => allAtOnce.cat(urls) },
      ],
      { runs: 3, warmup: 1, gcBetweenRuns: false },
    );
    samples.push(...runs);
    ratios.push(speedup("python http.server: connections opened 4 at a time vs all at once", runs[1]!, runs[0]!));
  } finally {
    await ramped.close();
    await allAtOnce.close();
    await plain.close();
    child.kill();
    await rm(root, { recursive: true, force: true });
  }
}

const bench: BenchCase = {
  name: "http defaults: connections, HEADs in ls, maxGap of catRanges, with and without latency",
  async run(): Promise<CaseResult> {
    const server = await startBenchServer();
    const small = Array.from({ length: COUNT }, (_, i) => ({ path: `/small/f${i}.bin`, size: 4096 }));
    const listed = Array.from({ length: 200 }, (_, i) => ({ path: `/listed/f${i}.bin`, size: 4096 }));
    await server.send({ files: [...small, ...listed, { path: "/ranges.bin", size: 16 << 20 }] });
    const urls = small.map((f) => `${server.url}${f.path}`);
    const samples: Sample[] = [];
    const ratios: Ratio[] = [];
    const notes = ["latency: the server holds each answer back that long (a fault of src/testing/http-server.ts)"];
    try {
      await sweep(server, "cat of 1,000 x 4 KiB, connections", CONNECTIONS, 16,
        (n) => ({ fs: new HTTPFileSystem({ connections: n, concurrency: n }), run: (fs) => fs.cat(urls) }), LATENCIES_MS, samples, ratios);
      await sweep(server, "ls detail of 200 files, headConcurrency", HEAD_CONCURRENCY, 4,
        (n) => ({ fs: new HTTPFileSystem({ headConcurrency: n, connections: 64, concurrency: 64 }), run: (fs) => fs.ls(`${server.url}/listed/`, { refresh: true }) }), LATENCIES_MS, samples, ratios);
      const ranges = `${server.url}/ranges.bin`;
      for (const [count, apartKiB] of [[400, 28], [160, 96]] as const) {
        const starts = Array.from({ length: count }, (_, i) => i * (apartKiB + 4) * 1024);
        const ends = starts.map((s) => s + 4096);
        await sweep(server, `catRanges of ${count} x 4 KiB ${apartKiB} KiB apart, maxGap`, GAPS, 2 ** 20,
          (gap) => ({ fs: new HTTPFileSystem({ connections: 64, concurrency: 64 }), run: (fs) => fs.catRanges(ranges, starts, ends, { maxGap: gap }) }), LATENCIES_MS, samples, ratios);
      }
      await server.send({ latencyMs: 0 });
      await pythonHttpServer(samples, ratios, notes);
      return { samples, ratios, notes };
    } finally {
      await server.close();
    }
  },
};

export default bench;
