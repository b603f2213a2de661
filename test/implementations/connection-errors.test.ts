/**
 * Connection failures keep the system code Node gives them (ECONNREFUSED, ENOTFOUND,
 * ECONNRESET), name the host (in the message and as `host`, without credentials), and are
 * still retried where they were: on every network backend, against real conditions on this
 * machine (a closed port, a name under `.invalid`, servers that reset).
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsError, NETWORK_ERROR_CODES, isNetworkError, type AbstractFileSystem } from "../../src/index.js";
import { GCSFileSystem } from "../../src/implementations/gs.js";
import { HuggingFaceFileSystem } from "../../src/implementations/hf.js";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { NGCFileSystem } from "../../src/implementations/ngc.js";
import { S3FileSystem } from "../../src/implementations/s3.js";
import { errorOf } from "../support/errors.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";

/** A port nothing listens on: bound once by this process, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that answers every request with a reset (RST), counting connections. */
async function resettingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    socket.once("data", () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => connections };
}

const UNRESOLVABLE = "fsspec-ts-test.invalid";
/** Fast transport settings: a few tries, short waits. */
const FAST = { retries: 2, retryDelay: 1, timeout: 5_000 } as const;

let refusedPort: number;
let reset: Awaited<ReturnType<typeof resettingServer>>;
let http: TestHttpServer;

beforeAll(async () => {
  refusedPort = await closedPort();
  reset = await resettingServer();
  http = await startHttpServer();
});
afterAll(async () => {
  await new Promise<void>((resolve) => reset.server.close(() => resolve()));
  await http.close();
});

/** Each backend built against a base URL, and one call that has to reach it. */
const BACKENDS: Array<{ name: string; make: (base: string) => AbstractFileSystem; call: (fs: AbstractFileSystem, base: string) => Promise<unknown> }> = [
  { name: "http", make: () => new HTTPFileSystem({ ...FAST, skipInstanceCache: true }), call: (fs, base) => fs.catFile(`${base}/f.bin`) },
  { name: "hf", make: (base) => new HuggingFaceFileSystem({ ...FAST, endpoint: base, token: false, skipInstanceCache: true }), call: (fs) => fs.ls("hf://datasets/o/r") },
  { name: "ngc", make: (base) => new NGCFileSystem({ ...FAST, baseUrl: `${base}/`, apiKey: null, skipInstanceCache: true }), call: (fs) => fs.ls("ngc://models/nvidia/fcn@1.0") },
  { name: "gs", make: (base) => new GCSFileSystem({ ...FAST, endpoint: base, token: "anon", skipInstanceCache: true }), call: (fs) => fs.info("gs://bucket/key") },
  {
    name: "s3",
    make: (base) => new S3FileSystem({ endpoint: base, key: "test-key", secret: "test-secret-value", clientOptions: { maxAttempts: 3 }, skipInstanceCache: true }),
    call: (fs) => fs.info("s3://bucket/key"),
  },
];

describe.each(BACKENDS)("$name", ({ make, call }) => {
  const failure = async (base: string): Promise<FsError> => {
    const fs = make(base);
    try {
      return await errorOf(call(fs, base));
    } finally {
      await fs.close();
    }
  };

  it("a closed port is ECONNREFUSED naming host:port", async () => {
    const err = await failure(`http://127.0.0.1:${refusedPort}`);
    expect(err.code).toBe("ECONNREFUSED");
    expect(err.host).toBe(`127.0.0.1:${refusedPort}`);
    expect(err.message).toContain(`(host 127.0.0.1:${refusedPort})`);
    expect(err).toBeInstanceOf(FsError);
    expect(isNetworkError(err)).toBe(true);
  });

  it("a name that does not resolve is ENOTFOUND naming the host", async () => {
    const err = await failure(`http://${UNRESOLVABLE}:8080`);
    // Without a resolver at all a lookup fails "for now" (EAI_AGAIN): a DNS failure either way.
    expect(["ENOTFOUND", "EAI_AGAIN"]).toContain(err.code);
    expect(err.host).toMatch(new RegExp(`^${UNRESOLVABLE.replace(/\./g, "\\.")}(:8080)?$`));
    expect(err.message).toContain(UNRESOLVABLE);
  });

  it("a server that resets the connection is ECONNRESET, after the retries", async () => {
    const before = reset.connections();
    const err = await failure(`http://127.0.0.1:${reset.port}`);
    expect(err.code).toBe("ECONNRESET");
    expect(err.host).toBe(`127.0.0.1:${reset.port}`);
    // Still classified as transient: tried more than once.
    expect(reset.connections() - before).toBeGreaterThan(1);
  });
});

describe("http specifics", () => {
  it("a body the server cuts off (the test server's reset fault) is ECONNRESET once resumes are spent", async () => {
    const fs = new HTTPFileSystem({ retries: 0, skipInstanceCache: true });
    try {
      http.setFile("/cut.bin", new Uint8Array(200_000).fill(7));
      http.fault({ path: "/cut.bin", method: "GET", resetAfterBytes: 1000, times: Infinity });
      const err = await errorOf(fs.catFile(`${http.url}/cut.bin`));
      expect(err.code).toBe("ECONNRESET");
      expect(err.host).toBe(new URL(http.url).host);
    } finally {
      http.clearFaults();
      await fs.close();
    }
  });

  it("the same cut is resumed while tries remain: the connection code is retryable", async () => {
    const fs = new HTTPFileSystem({ retries: 3, retryDelay: 1, skipInstanceCache: true });
    try {
      const data = new Uint8Array(200_000).map((_, i) => i % 251);
      http.setFile("/cut2.bin", data);
      http.fault({ path: "/cut2.bin", method: "GET", resetAfterBytes: 1000, times: 2 });
      expect(Buffer.from(await fs.catFile(`${http.url}/cut2.bin`)).equals(Buffer.from(data))).toBe(true);
    } finally {
      http.clearFaults();
      await fs.close();
    }
  });

  it("credentials in the URL never reach the host property or the message", async () => {
    const fs = new HTTPFileSystem({ ...FAST, skipInstanceCache: true });
    try {
      const err = await errorOf(fs.catFile(`http://user:s3cret@127.0.0.1:${refusedPort}/f?token=abc`));
      expect(err.code).toBe("ECONNREFUSED");
      expect(err.host).toBe(`127.0.0.1:${refusedPort}`);
      expect(`${err.message} ${err.path} ${err.host}`).not.toMatch(/s3cret|abc/);
    } finally {
      await fs.close();
    }
  });

  it("NETWORK_ERROR_CODES lists the codes the CLI maps to its network exit status", () => {
    expect([...NETWORK_ERROR_CODES].sort()).toEqual(["EAI_AGAIN", "ECONNABORTED", "ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETDOWN", "ENETUNREACH", "ENOTFOUND", "EPIPE", "ETIMEDOUT"]);
  });
});
