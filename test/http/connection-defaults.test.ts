/**
 * The connection defaults of the HTTP backend (docs/backends/http.md): 64 connections per origin,
 * batch calls as wide as the pool, connections opened at most 4 at a time per origin until the
 * server answers on them; the pool limit holds and no slot leaks at that width, and a server with
 * a small listen backlog (python's http.server) is served right.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { writeFile, mkdir, rm } from "node:fs/promises";
import { buildConnector } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { HTTPFileSystem } from "../../src/implementations/http.js";
import { rampedConnector } from "../../src/implementations/http/connection-ramp.js";
import { startHttpServer, type TestHttpServer } from "../../src/testing/http-server.js";
import { guardProcess } from "../support/process-guard.js";
import { expectBytes, pattern } from "./helpers.js";

guardProcess();

/** A TCP server that accepts and keeps its sockets, answering only when told to. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Resolves once `cond` holds, checking on each turn of the event loop (bounded by the test's timeout). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/** Let the event loop run a while: nothing that should not happen may happen meanwhile. */
const settle = () => new Promise((r) => setTimeout(r, 150));

describe("rampedConnector", () => {
  const opened: Socket[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.destroy();
  });

  function connectMany(connect: buildConnector.connector, port: number, n: number, errors: Error[] = []): void {
    for (let i = 0; i < n; i++) {
      connect({ hostname: "127.0.0.1", host: `127.0.0.1:${port}`, protocol: "http:", port: String(port) }, (err, socket) => {
        if (err) errors.push(err);
        else opened.push(socket!);
      });
    }
  }

  it("opens at most 4 connections per origin until the server answers on one", async () => {
    const srv = await silentServer();
    try {
      const connect = rampedConnector(buildConnector({}), 4, 60_000);
      connectMany(connect, srv.port, 10);
      await until(() => srv.sockets.length === 4);
      await settle();
      expect(srv.sockets.length).toBe(4);
      // An answer on one of them lets exactly one more open.
      srv.sockets[0]!.write("x");
      await until(() => srv.sockets.length === 5);
      await settle();
      expect(srv.sockets.length).toBe(5);
      // So does a connection that closes before answering.
      srv.sockets[1]!.destroy();
      await until(() => srv.sockets.length === 6);
      await settle();
      expect(srv.sockets.length).toBe(6);
      expect(opened.length).toBe(6);
    } finally {
      await srv.close();
    }
  });

  it("keeps origins apart, and lets a silent connection stop counting after the wait", async () => {
    const a = await silentServer();
    const b = await silentServer();
    try {
      const connect = rampedConnector(buildConnector({}), 2, 300);
      connectMany(connect, a.port, 5);
      connectMany(connect, b.port, 5);
      await until(() => a.sockets.length >= 2 && b.sockets.length >= 2);
      // Nobody answers: after the wait the next ones open, two at a time per origin.
      await until(() => a.sockets.length === 5 && b.sockets.length === 5);
      expect(opened.length).toBe(10);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a failed connect gives its turn to the next one", async () => {
    const srv = await silentServer();
    const port = srv.port;
    await srv.close(); // nothing listens there now
    const errors: Error[] = [];
    const connect = rampedConnector(buildConnector({}), 1, 60_000);
    connectMany(connect, port, 3, errors);
    await until(() => errors.length === 3);
    expect(errors.every((e) => /ECONNREFUSED/.test(String((e as NodeJS.ErrnoException).code ?? e.message)))).toBe(true);
  });
});

describe("HTTPFileSystem connection defaults", () => {
  let srv: TestHttpServer;
  const COUNT = 300;
  const files = Array.from({ length: COUNT }, (_, i) => ({ path: `/many/f${i}.bin`, data: pattern(4096, i) }));
  beforeAll(async () => {
    srv = await startHttpServer();
    for (const f of files) srv.setFile(f.path, f.data);
  });
  afterAll(async () => {
    await srv.close();
  });
  afterEach(() => {
    srv.clearFaults();
    srv.resetCounts();
  });

  it("64 connections per origin, batch calls as wide; concurrency follows connections unless given", async () => {
    await using fs = new HTTPFileSystem();
    expect(fs.client.options.connections).toBe(64);
    expect(fs.concurrency).toBe(64);
    await using few = new HTTPFileSystem({ connections: 8 });
    expect(few.concurrency).toBe(8);
    await using own = new HTTPFileSystem({ connections: 8, concurrency: 3 });
    expect(own.concurrency).toBe(3);
  });

  it("cat of 300 files at the defaults: right bytes, never more than 64 requests or connections at once", async () => {
    await using fs = new HTTPFileSystem();
    // Answers held back, so requests pile up to whatever the client allows.
    srv.fault({ stallBeforeHeadersMs: 20, times: Infinity });
    srv.resetCounts();
    const out = await fs.cat(files.map((f) => `${srv.url}${f.path}`));
    for (const f of files) expectBytes(out[`${srv.url}${f.path}`] as Uint8Array, f.data);
    expect(srv.requestCount(undefined, "GET")).toBe(COUNT);
    expect(srv.peakInFlight()).toBeLessThanOrEqual(64);
    expect(srv.peakInFlight()).toBeGreaterThan(16); // wider than the old default
    expect(srv.connectionCount()).toBeLessThanOrEqual(64);
  });

  it("no slot leaks at that width: failed, reset and cut-short reads all give their slots back", async () => {
    // Short timeouts: a leaked slot would show as the later cat waiting for one and failing.
    await using fs = new HTTPFileSystem({ retries: 0, timeout: 3_000, bodyTimeout: 3_000 });
    const urls = files.map((f) => `${srv.url}${f.path}`);
    for (let i = 0; i < COUNT; i += 3) srv.fault({ path: files[i]!.path, status: 500, times: Infinity });
    for (let i = 1; i < COUNT; i += 3) srv.fault({ path: files[i]!.path, resetAfterBytes: 100, times: Infinity });
    const broken = await fs.cat(urls, { onError: "return" });
    expect(Object.values(broken).filter((v) => v instanceof Error).length).toBe(COUNT - Math.floor(COUNT / 3));
    // Ranges cut short of their bodies (the server ignores Range for these).
    srv.clearFaults();
    const starts = urls.map(() => 0);
    const parts = await fs.catRanges(urls, starts, urls.map(() => 10));
    parts.forEach((p, i) => expectBytes(p as Uint8Array, files[i]!.data.subarray(0, 10)));
    for (let round = 0; round < 2; round++) {
      const out = await fs.cat(urls);
      for (const f of files) expectBytes(out[`${srv.url}${f.path}`] as Uint8Array, f.data);
    }
  });
});

describe("a small server: python's http.server (a listen backlog of 5, a connection per request)", () => {
  const ctx = inject("realServers");
  const python = ctx.servers.find((s) => s.name === "python");
  const dir = join(ctx.scratch, `ramp-${process.pid}`);
  const COUNT = 200;
  beforeAll(async () => {
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < COUNT; i++) await writeFile(join(dir, `f${i}.bin`), pattern(4096, i));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!python)("cat of 200 files with the defaults gets every byte", async () => {
    await using fs = new HTTPFileSystem({ retries: 0 });
    const urls = Array.from({ length: COUNT }, (_, i) => `${python!.url}/scratch/ramp-${process.pid}/f${i}.bin`);
    const out = await fs.cat(urls);
    urls.forEach((u, i) => expectBytes(out[u] as Uint8Array, pattern(4096, i)));
  });
});
