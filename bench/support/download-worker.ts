/**
 * One download in a process of its own, so its CPU time and peak RSS are its own:
 * `download-worker.ts <raw|get> <url> <warm-up url> <dest> [rangeConcurrency]`. `raw` is undici's
 * `request` piped to a write stream (`stream.pipeline`); `get` is HTTPFileSystem.getFile.
 * Prints one JSON line: wall and CPU milliseconds of the download alone (imports and set-up
 * excluded) and the process's peak RSS in MiB.
 */
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Agent, request } from "undici";
import { HTTPFileSystem } from "../../src/implementations/http.js";

const [mode, url, warmUrl, dest, concurrency] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const agent = new Agent();
const fs = new HTTPFileSystem(concurrency ? { rangeConcurrency: Number(concurrency) } : {});
// A small download first, untimed: modules load and compile outside the measured window.
if (mode === "raw") await pipeline((await request(warmUrl, { dispatcher: agent })).body, createWriteStream(dest));
else await fs.getFile(warmUrl, dest);
const rssBefore = process.resourceUsage().maxRSS / 1024;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
if (mode === "raw") {
  const res = await request(url, { dispatcher: agent });
  await pipeline(res.body, createWriteStream(dest));
} else {
  await fs.getFile(url, dest);
}
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
const out = { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024, rssBeforeMiB: rssBefore };
await fs.close();
await agent.close();
console.log(JSON.stringify(out));
