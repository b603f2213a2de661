/** The runnable examples keep working: they are what a newcomer runs first. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function run(script: string): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", env: { ...process.env, FSSPEC_TS_OFFLINE: "" } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe("examples", () => {
  it("npm run demo: downloads once, prefetches in parallel, extracts once, catches a tampered file, then serves offline", () => {
    const { status, stdout, stderr } = run("examples/demo.ts");
    expect(stderr).not.toMatch(/Error/);
    expect(status).toBe(0);
    expect(stdout).toMatch(/Downloading weights\.bin: 4\.0M\/4\.0M/);
    expect(stdout).toContain("predict([1, 2, 3, ...]) -> [1.5, 2.5, 3.5, ...]");
    expect(stdout).toMatch(/load again: served from the cache\n\s+HTTP requests: 0/);
    expect(stdout).toMatch(/loaded 1024x1024; HTTP requests: 0/);
    expect(stdout).toContain("EACCES: path leaves the package root");
    expect(stdout).toMatch(/hf:\/\/demo\/tiny-model -> 1024x1024/);
    expect(stdout).toMatch(/ngc:\/\/models\/demo\/tiny-model@1\.0 -> 1024x1024/);
    expect(stdout).toMatch(/4\.0M\s+\S+ weights\.bin\s+<- http:\/\/127\.0\.0\.1:\d+\/tiny-model\/v1\/weights\.bin/);
    // Parallel prefetch with one summary line, bounded at 4 at once.
    expect(stdout).toMatch(/\n  prefetch 9 files: 9 downloaded \(4\.0M in \d+\.\d s, \S+\/s\)\n  9 local paths; HTTP requests: 20 \(.*\), at most [2-4] downloads at once\n/);
    // The archive extracted once.
    expect(stdout).toContain("stats.tar.gz.extracted holds README.txt, stats, stats/mean.json, stats/std.json");
    expect(stdout).toContain("again: the same folder, not extracted again; HTTP requests: 0");
    expect(stdout).toMatch(/49B\s+stats\.tar\.gz\.extracted\/ \(extracted from it\)/);
    // The pin of a tampered file.
    expect(stdout).toMatch(/EIO: checksum mismatch: the download has sha256 [0-9a-f]{12}\.\.\., the pin says [0-9a-f]{12}\.\.\.\n  nothing was cached: 0 shards/);
    // Offline: everything from the caches.
    expect(stdout).toContain("prefetch 9 files: all 9 already cached");
    expect(stdout).toContain("big-model: 9 files and the extracted statistics (std 1.5); HTTP requests: 0");
    expect(stdout).toMatch(/(ok {8}shard-\d\.bin\n {2}){8}ok {8}stats\.tar\.gz\n/);
  });

  it("the quick start runs", () => {
    const { status, stdout } = run("examples/quickstart.ts");
    expect(status).toBe(0);
    expect(stdout).toContain("escaping the root: EACCES");
    expect(stdout).toContain("FsError code=ENOENT path=/demo/missing");
  });
});
