/**
 * Issue 4's goals against the test server running in a child process: catFile of 64 MiB vs a
 * raw undici request reading the same body (goal >= 0.9), and cat of 1,000 files of 4 KiB vs
 * awaiting one raw request after another (goal >= 4x with the default concurrency). Beside them
 * (issue 12), when found: Python fsspec's HTTPFileSystem and raw aiohttp (catFile goal >= 1.0x
 * aiohttp, cat goal >= 1.3x Python fsspec), and OpenDAL's http service; and the requests each
 * variant makes, counted by the server in one more untimed run.
 */
import { once } from "node:events";
import { Agent, request } from "undici";
import { mapBounded } from "../../src/index.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { measureInterleaved, speedup, type BenchCase, type CaseResult, type Ratio, type Sample, type Variant } from "../harness.js";
import { benchBytes, startServer } from "../support/http-server-process.js";
import { loadOpenDAL, PythonPeer } from "../support/peers.js";

const BIG = 64 << 20;
const SMALL = 4096;
const COUNT = 1000;
const LATENCY_COUNT = 300;


function check(got: Uint8Array, want: Uint8Array, what: string): void {
  if (Buffer.compare(got, want) !== 0) throw new Error(`${what}: wrong bytes`);
}

/** Python fsspec's HTTPFileSystem and raw aiohttp (one session, kept) against the same server. */
const PYTHON_SETUP = (url: string, count: number) => `
import asyncio, aiohttp, fsspec
url = ${JSON.stringify(url)}
urls = [f"{url}/small/f{i}.bin" for i in range(${count})]
fs = fsspec.filesystem("http", skip_instance_cache=True)
loop = asyncio.new_event_loop()
async def _session():
    return aiohttp.ClientSession()
session = loop.run_until_complete(_session())
async def _get(u):
    async with session.get(u) as r:
        return await r.read()
def aio_get(u):
    return loop.run_until_complete(_get(u))
def _close():
    loop.run_until_complete(session.close())
    if fs._session is not None:
        fsspec.asyn.sync(fs.loop, fs._session.close)
import atexit, fsspec.asyn
atexit.register(_close)
`;

const bench: BenchCase = {
  name: "http: catFile 64 MiB vs raw undici; cat of 1,000 x 4 KiB vs sequential raw requests",
  async run(): Promise<CaseResult> {
    const { child, url, send } = await startServer();
    const notes = ["server: src/testing/http-server.ts in a child process on 127.0.0.1"];
    const py = PythonPeer.start(notes);
    const opendal = await loadOpenDAL(notes);
    const files = Array.from({ length: COUNT }, (_, i) => ({ path: `/small/f${i}.bin`, size: SMALL }));
    await send({ files: [{ path: "/big.bin", size: BIG }, ...files] });
    const fs = new HTTPFileSystem();
    const raw = new Agent({ connections: 16 });
    const urls = files.map((f) => `${url}${f.path}`);
    const op = opendal ? new opendal.Operator("http", { endpoint: url }) : undefined;
    const pyOk = py ? await py.has("aiohttp") : false;
    if (py && !pyOk) notes.push("aiohttp not importable in the Python peer; Python comparisons skipped");
    try {
      const big = benchBytes(BIG);
      check(await fs.catFile(`${url}/big.bin`), big, "catFile");
      const catResult = await fs.cat(urls);
      check(catResult[urls[7]!] as Uint8Array, benchBytes(SMALL), "cat");
      if (op) check(await op.read("big.bin"), big, "opendal read");
      if (pyOk) {
        const setup = PYTHON_SETUP(url, COUNT);
        await py!.define("http-catfile", setup, 'fs.cat_file(url + "/big.bin")');
        await py!.define("aiohttp-get", setup, 'aio_get(url + "/big.bin")');
        await py!.define("http-cat", setup, "fs.cat(urls)");
      }
      /** A Python variant whose answer must have `want` as its len(). */
      const python = (label: string, name: string, want: number): Variant => ({
        label,
        timed: async () => {
          const { ms, size } = await py!.run(name);
          if (size !== want) throw new Error(`${label}: size ${size}, expected ${want}`);
          return ms;
        },
      });

      const bigVariants: Variant[] = [
        { label: "HTTPFileSystem.catFile 64 MiB", fn: () => fs.catFile(`${url}/big.bin`) },
        { label: "undici request + body.arrayBuffer() 64 MiB", fn: async () => (await request(`${url}/big.bin`, { dispatcher: raw })).body.arrayBuffer() },
        ...(pyOk ? [python("python fsspec http cat_file 64 MiB", "http-catfile", BIG), python("python aiohttp session.get + read() 64 MiB", "aiohttp-get", BIG)] : []),
        ...(op ? [{ label: "opendal http read 64 MiB", fn: () => op.read("big.bin") }] : []),
      ];
      const [mine, rawBig, ...bigPeers] = await measureInterleaved(bigVariants, { runs: 9, warmup: 2 });
      const rawGet = async (u: string) => (await request(u, { dispatcher: raw })).body.arrayBuffer();
      const smallVariants: Variant[] = [
        { label: `HTTPFileSystem.cat of ${COUNT} x 4 KiB (concurrency ${fs.concurrency})`, fn: () => fs.cat(urls) },
        {
          label: `${COUNT} raw undici requests, one after another`,
          fn: async () => {
            for (const u of urls) await rawGet(u);
          },
        },
        // The ceiling on this machine: the same requests, raw, as parallel as ours.
        { label: `${COUNT} raw undici requests, ${fs.concurrency} at a time`, fn: () => mapBounded(urls, rawGet, { concurrency: fs.concurrency }) },
        ...(pyOk ? [python(`python fsspec http cat of ${COUNT} x 4 KiB`, "http-cat", COUNT)] : []),
        ...(op ? [{ label: `opendal http read of ${COUNT} x 4 KiB, ${fs.concurrency} at a time`, fn: () => mapBounded(files, (f) => op.read(f.path.slice(1)), { concurrency: fs.concurrency }) }] : []),
      ];
      const [many, sequential, rawParallel, ...smallPeers] = await measureInterleaved(smallVariants, { runs: 9, warmup: 4 });

      // Requests per variant: one more, untimed, run of each, counted by the server.
      const all: Array<[Variant, Sample]> = [
        ...bigVariants.map((v, i): [Variant, Sample] => [v, [mine!, rawBig!, ...bigPeers][i]!]),
        ...smallVariants.map((v, i): [Variant, Sample] => [v, [many!, sequential!, rawParallel!, ...smallPeers][i]!]),
      ];
      for (const [v, sample] of all) {
        await send({ count: true });
        await (v.fn ? v.fn() : v.timed!());
        sample.extra = { ...sample.extra, requests: (await send({ count: true })).requests };
      }

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
      const ratios: Ratio[] = [
        speedup("catFile 64 MiB vs raw undici (raw time / ours)", rawBig!, mine!, 0.9),
        speedup(`cat of ${COUNT} files vs sequential raw requests`, sequential!, many!, 4),
        speedup(`raw parallel vs raw sequential (what concurrency can gain here)`, sequential!, rawParallel!),
        speedup(`cat of ${LATENCY_COUNT} files vs sequential raw requests, 1 ms latency`, slowSequential!, slowMany!),
      ];
      let b = 0;
      let m = 0;
      if (pyOk) {
        ratios.push(speedup("catFile 64 MiB vs Python fsspec", bigPeers[b++]!, mine!));
        ratios.push(speedup("catFile 64 MiB vs aiohttp", bigPeers[b++]!, mine!, 1.0));
        ratios.push(speedup(`cat of ${COUNT} files vs Python fsspec`, smallPeers[m++]!, many!, 1.3));
      }
      if (op) {
        ratios.push(speedup("catFile 64 MiB vs OpenDAL http", bigPeers[b++]!, mine!));
        ratios.push(speedup(`cat of ${COUNT} files vs OpenDAL http`, smallPeers[m++]!, many!));
      }
      if (py) notes.push(`Python: ${py.python} (timed inside its own process, rounds interleaved with ours)`);
      return {
        samples: [mine!, rawBig!, ...bigPeers, many!, sequential!, rawParallel!, ...smallPeers, slowMany!, slowSequential!],
        ratios,
        notes,
      };
    } finally {
      await py?.close();
      await fs.close();
      await raw.close();
      child.send({ close: true });
      if (child.exitCode === null) await once(child, "exit");
    }
  },
};

export default bench;
