/**
 * A 64 MiB download keeps memory flat: heap plus external memory (where Buffers live) is
 * sampled after a forced GC every few MiB while the file streams through, and its growth
 * over the start must stay under 32 MiB. The file itself is on the server before the start.
 */
import { createHash } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { guardProcess } from "../support/process-guard.js";

guardProcess();

// A GC on demand without a node flag: expose it, then fetch it from a fresh context.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const SIZE = 64 << 20;
const LIMIT = 32 << 20;
let srv: TestHttpServer;
let fs: HTTPFileSystem;
let expected: string;

function used(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Stream the file through a hash; returns [bytes, sha256, largest growth over the start]. */
async function streamThrough(options: Record<string, unknown>): Promise<[number, string, number]> {
  const start = used();
  let peak = 0;
  let bytes = 0;
  let chunks = 0;
  const hash = createHash("sha256");
  const f = await fs.open(`${srv.url}/big.bin`, "rb", options);
  for await (const chunk of f) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    if (++chunks % 4 === 0) peak = Math.max(peak, used() - start);
  }
  await f.close();
  return [bytes, hash.digest("hex"), Math.max(peak, used() - start)];
}

beforeAll(async () => {
  srv = await startHttpServer();
  fs = new HTTPFileSystem();
  const big = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i += 4096) big[i] = (i >>> 12) & 0xff;
  expected = createHash("sha256").update(big).digest("hex");
  srv.setFile("/big.bin", big);
});
afterAll(async () => {
  await fs.close();
  await srv.close();
});

describe("64 MiB downloads", () => {
  it("streamed (forward-only): memory stays flat", async () => {
    const [bytes, digest, growth] = await streamThrough({ streaming: true });
    expect(bytes).toBe(SIZE);
    expect(digest).toBe(expected);
    expect(growth).toBeLessThan(LIMIT);
    expect(srv.requestCount("/big.bin", "GET")).toBe(1);
  });

  it("seekable (ranged blocks through the read-ahead cache): memory stays flat", async () => {
    srv.resetCounts();
    const [bytes, digest, growth] = await streamThrough({ blockSize: 2 << 20 });
    expect(bytes).toBe(SIZE);
    expect(digest).toBe(expected);
    expect(growth).toBeLessThan(LIMIT);
    expect(srv.requestCount("/big.bin", "GET")).toBeGreaterThanOrEqual(16);
  });
});
