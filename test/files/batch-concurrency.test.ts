/**
 * Batch calls (cat of many paths, sizes, rm, copy, get, put) go through the one bounded
 * limiter: never more than `concurrency` primitive calls in flight, results in input order,
 * and the first error stops the batch unless onError says otherwise.
 */
import { describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import { errorOf } from "../support/errors.js";
import { CountingMemoryFs } from "./support.js";

const N = 20;
const LIMIT = 3;

async function filled(): Promise<CountingMemoryFs> {
  const fs = new CountingMemoryFs({ concurrency: LIMIT });
  for (let i = 0; i < N; i++) await fs.pipeFile(`/src/f${String(i).padStart(2, "0")}`, "x".repeat(i));
  fs.reset();
  return fs;
}

const paths = Array.from({ length: N }, (_, i) => `/src/f${String(i).padStart(2, "0")}`);

describe("batch calls run through the shared limiter", () => {
  it("cat of many paths: at most `concurrency` reads at once, every file read", async () => {
    const fs = await filled();
    const out = await fs.cat(paths);
    expect(Object.keys(out)).toHaveLength(N);
    expect(fs.calls.cat).toBe(N);
    expect(fs.peak).toBe(LIMIT);
  });

  it("sizes: in input order, bounded", async () => {
    const fs = await filled();
    const reversed = [...paths].reverse();
    expect(await fs.sizes(reversed)).toEqual(reversed.map((p) => Number(p.slice(-2))));
    expect(fs.peak).toBe(LIMIT);
  });

  it("rm of many files: bounded", async () => {
    const fs = await filled();
    await fs.rm(paths);
    expect(fs.calls.rm).toBe(N);
    expect(fs.peak).toBe(LIMIT);
    expect(await fs.exists(paths[0]!)).toBe(false);
  });

  it("copy within the filesystem: bounded", async () => {
    const fs = await filled();
    await fs.copy("/src", "/dst", { recursive: true });
    expect(fs.calls.cp).toBe(N);
    expect(fs.peak).toBe(LIMIT);
  });

  it("get and put between two filesystems: bounded on both sides", async () => {
    const remote = await filled();
    const local = new CountingMemoryFs({ concurrency: LIMIT });
    await remote.get("/src", "/down", { recursive: true, localFs: local });
    expect(local.calls.pipe).toBe(N);
    expect(remote.peak).toBeLessThanOrEqual(LIMIT);
    expect(local.peak).toBeLessThanOrEqual(LIMIT);
    expect(remote.peak + local.peak).toBeGreaterThan(1); // work did overlap
    remote.reset();
    await remote.put("/down", "/up", { recursive: true, localFs: local });
    expect(remote.calls.pipe).toBe(N);
    expect(remote.peak).toBeLessThanOrEqual(LIMIT);
    expect(await remote.readText("/up/f19")).toBe("x".repeat(19));
  });

  it('cat: the first error stops the batch by default; onError "return" keeps going', async () => {
    const fs = await filled();
    const withMissing = [...paths.slice(0, 5), "/src/missing", ...paths.slice(5)];
    expect((await errorOf(fs.cat(withMissing))).code).toBe("ENOENT");
    const out = await fs.cat(withMissing, { onError: "return" });
    expect((out["/src/missing"] as FsError).code).toBe("ENOENT");
    expect(Object.keys(out)).toHaveLength(N + 1);
  });
});
