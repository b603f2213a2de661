/**
 * HTTP against the test server in a child process, side by side with Python fsspec's HTTP
 * filesystem (aiohttp) in a child process of its own, interleaved run by run:
 * - catFile of 64 MiB vs aiohttp get+read (issue 12's goal >= 1.0), vs fsspec's cat_file, and
 *   vs a raw undici request reading the same body (the ceiling of one undici stream);
 * - cat of 1,000 files of 4 KiB vs Python fsspec's cat (goal >= 1.3), vs awaiting one raw
 *   request after another (issue 4's goal >= 4x) and raw requests as parallel as ours;
 * - the same cat where the server holds every answer back 5 and 20 ms, as a network would.
 * Without a Python with fsspec and aiohttp the peer's rows are left out with a note.
 */
import { Agent, request } from "undici";
import { mapBounded } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult, type Ratio, type Sample, type Variant } from "../harness.js";
import { benchBytes, settle, startBenchServer } from "../support/http-server-process.js";
import { PythonHttpPeer } from "../support/python-peer.js";

const BIG = 64 << 20;
const SMALL = 4096;
const COUNT = 1000;
const LATENCIES_MS = [5, 20];

function check(got: Uint8Array, want: Uint8Array, what: string): void {
  if (Buffer.compare(got, want) !== 0) throw new Error(`${what}: wrong bytes`);
}

const bench: BenchCase = {
  name: "http: catFile 64 MiB and cat of 1,000 x 4 KiB, vs Python fsspec (aiohttp) and raw undici",
  async run(): Promise<CaseResult> {
    const server = await startBenchServer();
    const url = server.url;
    const files = Array.from({ length: COUNT }, (_, i) => ({ path: `/small/f${i}.bin`, size: SMALL }));
    await server.send({ files: [{ path: "/big.bin", size: BIG }, ...files] });
    const fs = new HTTPFileSystem();
    const raw = new Agent({ connections: fs.client.options.connections });
    const peer = PythonHttpPeer.start();
    const urls = files.map((f) => `${url}${f.path}`);
    const samples: Sample[] = [];
    const ratios: Ratio[] = [];
    const notes = [
      `server: src/testing/http-server.ts in a child process on 127.0.0.1; ours with the defaults (connections ${fs.client.options.connections}, concurrency ${fs.concurrency})`,
    ];
    if (!peer) notes.push("no Python with fsspec and aiohttp found ($FSSPEC_PYTHON or /tmp/fsvenv/bin/python): the peer's rows are left out");
    const peerVariant = (label: string, run: () => Promise<number>, before?: Variant["before"]): Variant[] =>
      peer ? [{ label, fn: run, selfTimed: true, before }] : [];
    try {
      const big = benchBytes(BIG);
      check(await fs.catFile(`${url}/big.bin`), big, "catFile");
      const catResult = await fs.cat(urls);
      check(catResult[urls[7]!] as Uint8Array, benchBytes(SMALL), "cat");

      const between = () => settle(server);
      const bigRuns = await measureInterleaved(
        [
          { label: "HTTPFileSystem.catFile 64 MiB", fn: () => fs.catFile(`${url}/big.bin`), before: between },
          {
            label: "undici request + body.arrayBuffer() 64 MiB",
            fn: async () => (await request(`${url}/big.bin`, { dispatcher: raw })).body.arrayBuffer(),
            before: between,
          },
          ...peerVariant("aiohttp session.get + read() 64 MiB (python)", () => peer!.run({ op: "aiohttp_get", url: `${url}/big.bin` }), between),
          ...peerVariant("fsspec HTTPFileSystem.cat_file 64 MiB (python)", () => peer!.run({ op: "cat_file", url: `${url}/big.bin` }), between),
        ],
        { runs: 9, warmup: 2 },
      );
      const [mine, rawBig, aiohttpBig, fsspecBig] = bigRuns;
      samples.push(...bigRuns);
      ratios.push(speedup("catFile 64 MiB vs raw undici (raw time / ours)", rawBig!, mine!));
      if (aiohttpBig && fsspecBig) {
        ratios.push(speedup("catFile 64 MiB vs aiohttp get+read", aiohttpBig, mine!, 1.0));
        ratios.push(speedup("catFile 64 MiB vs fsspec cat_file", fsspecBig, mine!));
        ratios.push(speedup("raw undici vs aiohttp (the ceiling of one undici stream)", aiohttpBig, rawBig!));
      }

      // Small requests allocate little and often: a full GC before each run would make the run
      // pay for regrowing the young generation (2-3x its CPU), which no application does.
      const rawGet = async (u: string) => (await request(u, { dispatcher: raw })).body.arrayBuffer();
      const manyRuns = await measureInterleaved(
        [
          { label: `HTTPFileSystem.cat of ${COUNT} x 4 KiB`, fn: () => fs.cat(urls), before: between },
          ...peerVariant(`fsspec HTTPFileSystem.cat of ${COUNT} x 4 KiB (python)`, () => peer!.run({ op: "cat", urls }), between),
          {
            label: `${COUNT} raw undici requests, one after another`,
            fn: async () => {
              for (const u of urls) await rawGet(u);
            },
            before: between,
          },
          // What undici alone does with the same parallelism.
          { label: `${COUNT} raw undici requests, ${fs.concurrency} at a time`, fn: () => mapBounded(urls, rawGet, { concurrency: fs.concurrency }), before: between },
        ],
        { runs: 9, warmup: 3, gcBetweenRuns: false },
      );
      const [many] = manyRuns;
      const [sequential, rawParallel] = manyRuns.slice(peer ? 2 : 1);
      samples.push(...manyRuns);
      if (peer) ratios.push(speedup(`cat of ${COUNT} files vs Python fsspec`, manyRuns[1]!, many!, 1.3));
      ratios.push(speedup(`cat of ${COUNT} files vs sequential raw requests`, sequential!, many!, 4));
      ratios.push(speedup(`cat of ${COUNT} files vs raw undici as parallel`, rawParallel!, many!));

      for (const latencyMs of LATENCIES_MS) {
        await server.send({ latencyMs });
        const slow = await measureInterleaved(
          [
            { label: `cat of ${COUNT} x 4 KiB, ${latencyMs} ms latency`, fn: () => fs.cat(urls), before: between },
            ...peerVariant(`fsspec cat of ${COUNT} x 4 KiB, ${latencyMs} ms latency (python)`, () => peer!.run({ op: "cat", urls }), between),
          ],
          { runs: 5, warmup: 1, gcBetweenRuns: false },
        );
        samples.push(...slow);
        if (peer) ratios.push(speedup(`cat of ${COUNT} files vs Python fsspec, ${latencyMs} ms latency`, slow[1]!, slow[0]!));
      }
      return { samples, ratios, notes };
    } finally {
      peer?.close();
      await fs.close();
      await raw.close();
      await server.close();
    }
  },
};

export default bench;
