/**
 * Issue 4's goals against the test server running in a child process: catFile of 64 MiB vs a
 * raw undici request reading the same body (goal >= 0.9), and cat of 1,000 files of 4 KiB vs
 * awaiting one raw request after another (goal >= 4x with the default concurrency).
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { mapBounded } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult } from "../harness.js";
import { benchBytes } from "../support/http-server-process.js";

const BIG = 64 << 20;
const SMALL = 4096;
const COUNT = 1000;
const LATENCY_COUNT = 300;

async function startServer(): Promise<{ child: ChildProcess; url: string; send: (msg: object) => Promise<void> }> {
  const child = fork(fileURLToPath(new URL("../support/http-server-process.ts", import.meta.url)), ["--serve"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [first] = (await once(child, "message")) as [{ url: string }];
  const send = async (msg: object) => {
    const reply = once(child, "message");
    child.send(msg);
    await reply;
  };
  return { child, url: first.url, send };
}

function check(got: Uint8Array, want: Uint8Array, what: string): void {
  if (Buffer.compare(got, want) !== 0) throw new Error(`${what}: wrong bytes`);
}

const bench: BenchCase = {
  name: "http: catFile 64 MiB vs raw undici; cat of 1,000 x 4 KiB vs sequential raw requests",
  async run(): Promise<CaseResult> {
    const { child, url, send } = await startServer();
    const files = Array.from({ length: COUNT }, (_, i) => ({ path: `/small/f${i}.bin`, size: SMALL }));
    await send({ files: [{ path: "/big.bin", size: BIG }, ...files] });
    const fs = new HTTPFileSystem();
    const raw = new Agent({ connections: 16 });
    const urls = files.map((f) => `${url}${f.path}`);
    try {
      const big = benchBytes(BIG);
      check(await fs.catFile(`${url}/big.bin`), big, "catFile");
      const catResult = await fs.cat(urls);
      check(catResult[urls[7]!] as Uint8Array, benchBytes(SMALL), "cat");

      const [mine, rawBig] = await measureInterleaved(
        [
          { label: "HTTPFileSystem.catFile 64 MiB", fn: () => fs.catFile(`${url}/big.bin`) },
          { label: "undici request + body.arrayBuffer() 64 MiB", fn: async () => (await request(`${url}/big.bin`, { dispatcher: raw })).body.arrayBuffer() },
        ],
        { runs: 9, warmup: 2 },
      );
      const rawGet = async (u: string) => (await request(u, { dispatcher: raw })).body.arrayBuffer();
      const [many, sequential, rawParallel] = await measureInterleaved(
        [
          { label: `HTTPFileSystem.cat of ${COUNT} x 4 KiB (concurrency ${fs.concurrency})`, fn: () => fs.cat(urls) },
          {
            label: `${COUNT} raw undici requests, one after another`,
            fn: async () => {
              for (const u of urls) await rawGet(u);
            },
          },
          // The ceiling on this machine: the same requests, raw, as parallel as ours.
          { label: `${COUNT} raw undici requests, ${fs.concurrency} at a time`, fn: () => mapBounded(urls, rawGet, { concurrency: fs.concurrency }) },
        ],
        { runs: 9, warmup: 4 },
      );
      // The same comparison where each request waits ~1 ms for its headers, as over a network.
      await send({ latencyMs: 1 });
      const slowUrls = urls.slice(0, LATENCY_COUNT);
      const [slowMany, slowSequential] = await measureInterleaved(
        [
          { label: `cat of ${LATENCY_COUNT} x 4 KiB, 1 ms latency`, fn: () => fs.cat(slowUrls) },
          {
            label: `${LATENCY_COUNT} raw requests one after another, 1 ms latency`,
            fn: async () => {
              for (const u of slowUrls) await rawGet(u);
            },
          },
        ],
        { runs: 5, warmup: 1 },
      );
      return {
        samples: [mine!, rawBig!, many!, sequential!, rawParallel!, slowMany!, slowSequential!],
        ratios: [
          speedup("catFile 64 MiB vs raw undici (raw time / ours)", rawBig!, mine!, 0.9),
          speedup(`cat of ${COUNT} files vs sequential raw requests`, sequential!, many!, 4),
          speedup(`raw parallel vs raw sequential (what concurrency can gain here)`, sequential!, rawParallel!),
          speedup(`cat of ${LATENCY_COUNT} files vs sequential raw requests, 1 ms latency`, slowSequential!, slowMany!),
        ],
        notes: ["server: src/testing/http-server.ts in a child process on 127.0.0.1"],
      };
    } finally {
      await fs.close();
      await raw.close();
      child.send({ close: true });
      if (child.exitCode === null) await once(child, "exit");
    }
  },
};

export default bench;
