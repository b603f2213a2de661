/**
 * The test HTTP server in a child process, so benchmarks measure the client without the
 * server sharing its event loop or its CPU core. IPC messages in: `{ files: [{ path, size }] }`
 * (content made here, deterministic), `{ latencyMs }` (headers held back that long, like a
 * network round trip; 0 for none), `{ throttle }` (bytes per second each response is sent at,
 * null for full speed) or `{ close: true }`; out: `{ url }` once listening, then
 * `{ ready: true, cpuMs }` after each message (the server's CPU time so far, so a case can tell what a
 * run cost the server).
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startHttpServer } from "../../src/testing/http-server.js";

/** The server as a case drives it: its URL, `send` (resolves with the server's CPU time so far, ms), `close`. */
export interface BenchServer {
  url: string;
  send(msg: { files?: Array<{ path: string; size: number }>; latencyMs?: number; throttle?: number | null }): Promise<number>;
  close(): Promise<void>;
}

/**
 * Between timed runs (untimed): the server forgets the requests it logged, and what the previous
 * run left behind (the server's garbage, a peer's cleanup) gets 50 ms to end, so it is not
 * charged to whichever variant runs next (measured: ours 2x slower right after the Python peer).
 */
export async function settle(server: BenchServer): Promise<void> {
  await server.send({});
  await new Promise((r) => setTimeout(r, 50));
}

/** Start the server in a child process of its own. */
export async function startBenchServer(): Promise<BenchServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [first] = (await once(child, "message")) as [{ url: string }];
  return {
    url: first.url,
    async send(msg) {
      const reply = once(child, "message");
      child.send(msg);
      const [answer] = (await reply) as [{ cpuMs: number }];
      return answer.cpuMs;
    },
    async close() {
      child.send({ close: true });
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

/** Deterministic content of `size` bytes (the bench recomputes it to check what it reads). */
export function benchBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 512) out[i] = (i >>> 9) & 0xff;
  return out;
}

if (process.send && process.argv.includes("--serve")) {
  const send = process.send.bind(process);
  const srv = await startHttpServer();
  process.on("message", (msg: { files?: Array<{ path: string; size: number }>; latencyMs?: number; throttle?: number | null; close?: boolean }) => {
    if (msg.close) {
      void srv.close().then(() => process.exit(0));
      return;
    }
    for (const f of msg.files ?? []) srv.setFile(f.path, benchBytes(f.size));
    if (msg.latencyMs !== undefined) {
      srv.clearFaults();
      if (msg.latencyMs > 0) srv.fault({ stallBeforeHeadersMs: msg.latencyMs, times: Infinity });
    }
    if (msg.throttle !== undefined) srv.throttle(msg.throttle ?? undefined);
    srv.resetCounts();
    const cpu = process.cpuUsage();
    send({ ready: true, cpuMs: (cpu.user + cpu.system) / 1000 });
  });
  // Die with the parent, even when it is killed.
  process.on("disconnect", () => process.exit(0));
  send({ url: srv.url });
}
