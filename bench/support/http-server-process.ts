/**
 * The test HTTP server in a child process, so benchmarks measure the client without the
 * server sharing its event loop or its CPU core. IPC messages in: `{ files: [{ path, size }] }`
 * (content made here, deterministic), `{ latencyMs }` (headers held back that long, like a
 * network round trip; 0 for none), `{ count: true }` (the requests since the last message,
 * then counting starts over) or `{ close: true }`; out: `{ url }` once listening, then
 * `{ ready: true, requests }` after each message.
 */
import { startHttpServer } from "../../src/testing/http-server.js";

/** Deterministic content of `size` bytes (the bench recomputes it to check what it reads). */
export function benchBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 512) out[i] = (i >>> 9) & 0xff;
  return out;
}

if (process.send && process.argv.includes("--serve")) {
  const send = process.send.bind(process);
  const srv = await startHttpServer();
  process.on("message", (msg: { files?: Array<{ path: string; size: number }>; latencyMs?: number; count?: boolean; close?: boolean }) => {
    if (msg.close) {
      void srv.close().then(() => process.exit(0));
      return;
    }
    for (const f of msg.files ?? []) srv.setFile(f.path, benchBytes(f.size));
    if (msg.latencyMs !== undefined) {
      srv.clearFaults();
      if (msg.latencyMs > 0) srv.fault({ stallBeforeHeadersMs: msg.latencyMs, times: Infinity });
    }
    const requests = srv.requestCount();
    srv.resetCounts();
    send({ ready: true, requests });
  });
  // Die with the parent, even when it is killed.
  process.on("disconnect", () => process.exit(0));
  send({ url: srv.url });
}
