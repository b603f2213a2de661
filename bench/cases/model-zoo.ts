/**
 * Issue 9's request counts: a Package loading a model zoo file by file (a 24-file replay, three
 * LFS checkpoints of 9-20 MiB: test/support/model-zoo.ts) from the local Hub and NGC servers,
 * which count every request; hf both into the Hugging Face cache (the default) and into the
 * whole-file cache. Goals: hf <= 1.2 requests per file on a first load, ngc <= 2, no file
 * fetched again on a later load (cache hits). Load times are printed too.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Package } from "../../src/index.js";
import { startHfServer } from "../../src/testing/hf-server.js";
import { LFS_THRESHOLD, modelZoo } from "../../test/support/model-zoo.js";
import { startNgcServer } from "../../src/testing/ngc-server.js";
import { measure, type BenchCase, type CaseResult, type Sample } from "../harness.js";

const zoo = modelZoo();
const files = Object.keys(zoo);

interface Counted {
  count(): number;
  reset(): void;
}

/**
 * Times a first load (a fresh cache and filesystem each run, as in a new process) and a later
 * one, and the requests of each.
 */
async function loads(name: string, dir: string, server: Counted, makePackage: (cache: string) => Package): Promise<{ samples: Sample[]; first: number; later: number }> {
  let run = 0;
  let cache = "";
  let first = 0;
  const firstLoad = await measure(
    `${name}: first load of ${files.length} files`,
    async () => {
      const pkg = makePackage(cache);
      for (const f of files) await pkg.resolve(f);
      first = server.count();
    },
    { runs: 3, warmup: 0, before: () => {
      cache = join(dir, `${name}-${run++}`);
      server.reset();
    } },
  );
  let later = 0;
  const laterLoad = await measure(
    `${name}: later load (cache hits)`,
    async () => {
      const pkg = makePackage(cache);
      for (const f of files) await pkg.resolve(f);
      later = server.count();
    },
    { runs: 5, warmup: 0, before: () => server.reset() },
  );
  firstLoad.extra = { requests: first, perFile: (first / files.length).toFixed(2) };
  laterLoad.extra = { requests: later, perFile: (later / files.length).toFixed(2) };
  return { samples: [firstLoad, laterLoad], first, later };
}

const verdict = (label: string, value: number, goal: number) => `${label} = ${value.toFixed(2)}  goal <= ${goal}  ${value <= goal ? "MET" : "NOT MET"}`;

const bench: BenchCase = {
  name: "model zoo: requests per file of a Package load, hf:// and ngc:// (local servers)",
  async run(): Promise<CaseResult> {
    const dir = await mkdtemp(join(tmpdir(), "fsspec-ts-bench-zoo-"));
    const hub = await startHfServer({ pageSize: 1000, lfsThreshold: LFS_THRESHOLD });
    const ngc = await startNgcServer();
    try {
      hub.createRepo("org/zoo");
      hub.commit("org/zoo", Object.fromEntries(files.map((f) => [f, { data: zoo[f]!.data, lfs: zoo[f]!.lfs }])));
      ngc.addFiles("models/org/zoo@1.0", Object.fromEntries(files.map((f) => [f, zoo[f]!.data])));
      const hubCounter = { count: () => hub.requests.length, reset: () => hub.resetCounts() };
      const hubOptions = { hf: { endpoint: hub.url, token: false, skipInstanceCache: true } };
      const hf = await loads("hf", dir, hubCounter, (cache) => new Package("hf://org/zoo", { hfCache: { cacheDir: cache }, progress: false, fsOptions: hubOptions }));
      const hfFiles = hub.requests.filter((r) => r.kind !== "api").length;
      const whole = await loads("hf, hfCache: false", dir, hubCounter, (cache) =>
        new Package("hf://org/zoo", { hfCache: false, cacheOptions: { cacheStorage: cache }, progress: false, fsOptions: hubOptions }),
      );
      const nv = await loads("ngc", dir, { count: () => ngc.requests.length, reset: () => ngc.resetCounts() }, (cache) =>
        new Package("ngc://models/org/zoo@1.0", {
          cacheOptions: { cacheStorage: cache },
          progress: false,
          fsOptions: { ngc: { baseUrl: ngc.url, authUrl: ngc.authUrl, apiKey: null, org: "", team: "", skipInstanceCache: true } },
        }),
      );
      const lfs = files.filter((f) => zoo[f]!.lfs).length;
      return {
        samples: [...hf.samples, ...whole.samples, ...nv.samples],
        ratios: [],
        notes: [
          verdict("hf requests per file, first load (Hugging Face cache, the default)", hf.first / files.length, 1.2),
          verdict("hf file requests per file, later load (Hugging Face cache)", hfFiles / files.length, 0),
          `hf later load with the Hugging Face cache: ${hf.later} request(s) in all, the branch's revision lookup (once per package, by that layer's design)`,
          verdict("hf requests per file, first load (hfCache: false, the whole-file cache)", whole.first / files.length, 1.2),
          verdict("hf requests per file, later load (hfCache: false)", whole.later / files.length, 0),
          verdict("ngc requests per file, first load", nv.first / files.length, 2),
          verdict("ngc requests per file, later load", nv.later / files.length, 0),
          `replay: ${files.length} files, ${lfs} in LFS (hf: 1 revision lookup, which states every file's blob, + 1 GET per file + 1 CDN GET per LFS file; ngc: 1 lookup + 1 GET per file, anonymous)`,
          "servers: src/testing/hf-server.ts (its CDN on another origin, localhost) and ngc-server.ts on 127.0.0.1, in this process",
        ],
      };
    } finally {
      await Promise.all([hub.close(), ngc.close()]);
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
