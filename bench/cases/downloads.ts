/**
 * Issue 12's download goals. `get` of 512 MiB from nginx on loopback against undici's `request`
 * piped to a write stream (each run a process of its own, interleaved, so wall time, CPU time
 * and peak RSS are each run's own): goals >= 0.95x the raw wall time, <= 1.3x its CPU, peak RSS
 * within 64 MiB. Then a server that sends each response at 20 MiB/s (the test server's
 * throttle, in a child process): parallel ranges against one stream, goal >= 3x.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { median, type BenchCase, type CaseResult, type Ratio, type Sample } from "../harness.js";
import { startRealServers } from "../../test/support/real-servers.js";
import { benchBytes, startBenchServer } from "../support/http-server-process.js";

const MiB = 2 ** 20;
const BIG = 512 * MiB;
const CAPPED = 128 * MiB;
const CAP = 20 * MiB;
const RUNS = 6;
const run = promisify(execFile);
const worker = fileURLToPath(new URL("../support/download-worker.ts", import.meta.url));

interface Run {
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
}

async function download(mode: "raw" | "get", url: string, warmUrl: string, dest: string, concurrency?: number): Promise<Run> {
  await unlink(dest).catch(() => undefined);
  const args = ["--import", "tsx", worker, mode, url, warmUrl, dest, ...(concurrency ? [String(concurrency)] : [])];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Run;
}

/**
 * Variants run interleaved, one process per run, the order rotated every round so each variant
 * runs in each position as often (`runs` a multiple of the variants' count): on this VM the run
 * after a given one can pay for fresh memory pages (the host takes freed pages back), which in a
 * fixed order always fell on the same variant. A sample per variant with medians of all three
 * measures.
 */
async function interleaved(variants: Array<{ label: string; go: () => Promise<Run> }>, runs: number): Promise<Array<Sample & { cpuMs: number; rssMiB: number }>> {
  const got = variants.map(() => [] as Run[]);
  await variants[0]!.go(); // warm-up: the page cache, the server
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < variants.length; j++) {
      const k = (i + j) % variants.length;
      got[k]!.push(await variants[k]!.go());
    }
  }
  return variants.map((v, k) => {
    const rs = got[k]!;
    const cpuMs = median(rs.map((r) => r.cpuMs));
    const rssMiB = median(rs.map((r) => r.peakRssMiB));
    return { label: v.label, medianMs: median(rs.map((r) => r.wallMs)), runsMs: rs.map((r) => r.wallMs), cpuMs, rssMiB, extra: { cpuMs: cpuMs.toFixed(0), peakRssMiB: rssMiB.toFixed(0) } };
  });
}


const bench: BenchCase = {
  name: "downloads: get of 512 MiB vs raw undici pipeline (nginx); parallel ranges vs one stream at 20 MiB/s per connection",
  async run(): Promise<CaseResult> {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-bench-dl-"));
    const samples: Sample[] = [];
    const ratios: Ratio[] = [];
    const notes: string[] = [];
    const { context, stop } = await startRealServers({ required: false });
    try {
      const nginx = context.servers.find((s) => s.name === "nginx");
      if (!nginx) throw new Error(`nginx did not start: ${context.skipped.map((s) => s.reason).join("; ")}`);
      await writeFile(join(context.scratch, "big.bin"), benchBytes(BIG));
      await writeFile(join(context.scratch, "warm.bin"), benchBytes(64 * 1024));
      const url = `${nginx.url}/scratch/big.bin`;
      const warm = `${nginx.url}/scratch/warm.bin`;
      const dest = join(dir, "big.bin");
      const [raw, ours, one] = await interleaved(
        [
          { label: "raw undici request + pipeline to a write stream, 512 MiB", go: () => download("raw", url, warm, dest) },
          { label: "HTTPFileSystem.getFile 512 MiB (defaults)", go: () => download("get", url, warm, dest) },
          { label: "HTTPFileSystem.getFile 512 MiB, rangeConcurrency 1 (one GET)", go: () => download("get", url, warm, dest, 1) },
        ],
        RUNS,
      );
      samples.push(raw!, ours!, one!);
      ratios.push(
        { label: "get 512 MiB wall time vs raw (raw / ours)", value: raw!.medianMs / ours!.medianMs, goal: 0.95 },
        { label: "get 512 MiB CPU vs raw (raw / ours; goal: ours <= 1.3x raw)", value: raw!.cpuMs / ours!.cpuMs, goal: 1 / 1.3 },
        { label: "get 512 MiB one GET wall time vs raw", value: raw!.medianMs / one!.medianMs },
        { label: "get 512 MiB one GET CPU vs raw (raw / ours)", value: raw!.cpuMs / one!.cpuMs },
      );
      const rssOver = ours!.rssMiB - raw!.rssMiB;
      notes.push(`peak RSS: ours ${ours!.rssMiB.toFixed(0)} MiB, raw ${raw!.rssMiB.toFixed(0)} MiB: ${rssOver.toFixed(0)} MiB more (goal <= 64: ${rssOver <= 64 ? "MET" : "NOT MET"})`);
    } finally {
      await stop();
    }
    const server = await startBenchServer();
    const base = server.url;
    try {
      await server.send({ files: [{ path: "/capped.bin", size: CAPPED }, { path: "/warm.bin", size: 64 * 1024 }], throttle: CAP });
      const url = `${base}/capped.bin`;
      const warm = `${base}/warm.bin`;
      const dest = join(dir, "capped.bin");
      const variants = [1, 2, 4, 8].map((n) => ({ label: `getFile 128 MiB at 20 MiB/s per connection, rangeConcurrency ${n}`, go: () => download("get", url, warm, dest, n) }));
      const capped = await interleaved(variants, 4);
      samples.push(...capped);
      const [c1, c2, c4, c8] = capped;
      ratios.push(
        { label: "capped server: default (4) parallel ranges vs one stream", value: c1!.medianMs / c4!.medianMs, goal: 3 },
        { label: "capped server: 2 vs one stream", value: c1!.medianMs / c2!.medianMs },
        { label: "capped server: 8 vs one stream", value: c1!.medianMs / c8!.medianMs },
      );
      notes.push("nginx 1.22 on 127.0.0.1 (test/support/real-servers.ts); capped: src/testing/http-server.ts throttle in a child process");
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
    return { samples, ratios, notes };
  },
};

export default bench;
