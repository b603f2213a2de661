/**
 * The test HTTP server in a child process, so benchmarks measure the client without the
 * server sharing its event loop or its CPU core. IPC messages in: `{ files: [{ path, size }] }`
 * (content made here, deterministic), `{ latencyMs }` (headers held back that long, like a
 * network round trip; 0 for none), `{ throttle }` (bytes per second each response is sent at,
 * null for full speed), `{ count: true }` (the requests since the last message, then counting
 * starts over) or `{ close: true }`; out: `{ url }` once listening, then `{ ready: true, requests }`
 * after each message.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startHttpServer } from "../../src/testing/http-server.js";

/** This server in a child process: its URL, and `send` for the messages above (resolves on the reply). */
export async function startServer(): Promise<{ child: ChildProcess; url: string; send: (msg: object) => Promise<{ requests: number }> }> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [first] = (await once(child, "message")) as [{ url: string }];
  const send = async (msg: object) => {
    const reply = once(child, "message");
    child.send(msg);
    return ((await reply) as [{ requests: number }])[0];
  };
  return { child, url: first.url, send };
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
  process.on("message", (msg: { files?: Array<{ path: string; size: number }>; latencyMs?: number; throttle?: number | null; count?: boolean; close?: boolean }) => {
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
    const requests = srv.requestCount();
    srv.resetCounts();
    send({ ready: true, requests });
  });
  // Die with the parent, even when it is killed.
  process.on("disconnect", () => process.exit(0));
  send({ url: srv.url });
}
