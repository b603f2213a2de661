/** The runnable examples keep working: they are what a newcomer runs first. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function run(script: string): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", env: { ...process.env, FSSPEC_TS_OFFLINE: "" } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe("examples", () => {
  it("npm run demo: downloads once, then serves from the cache and offline", () => {
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
  });

  it("the quick start runs", () => {
    const { status, stdout } = run("examples/quickstart.ts");
    expect(status).toBe(0);
    expect(stdout).toContain("escaping the root: EACCES");
    expect(stdout).toContain("FsError code=ENOENT path=/demo/missing");
  });
});
