/**
 * Python fsspec's HTTP filesystem as a peer in a child process (bench/support/python-http-peer.py):
 * one request at a time over stdin/stdout, timed by Python itself, so a case can interleave the
 * peer's runs with its own (A B A B ...) and both see the same machine load.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

/** A Python with fsspec and aiohttp: $FSSPEC_PYTHON, or the venv under /tmp the guide describes. */
export function findPython(modules = "fsspec"): string | undefined {
  const candidates = [process.env.FSSPEC_PYTHON, "/tmp/fsvenv/bin/python"].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(c) && spawnSync(c, ["-c", `import ${modules}`]).status === 0);
}

export type PeerRequest = { op: "cat"; urls: string[] } | { op: "cat_file"; url: string } | { op: "aiohttp_get"; url: string };

export class PythonHttpPeer {
  private readonly lines: AsyncIterator<string>;
  private readonly rl: Interface;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.rl = createInterface({ input: child.stdout });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  /** The peer, or undefined when no Python with fsspec and aiohttp is found. */
  static start(): PythonHttpPeer | undefined {
    const python = findPython("fsspec, aiohttp");
    if (!python) return undefined;
    const script = fileURLToPath(new URL("./python-http-peer.py", import.meta.url));
    const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] });
    return new PythonHttpPeer(child);
  }

  /** Run one operation; resolves with Python's own timing of it in milliseconds. */
  async run(request: PeerRequest): Promise<number> {
    return (await this.runDetailed(request)).ms;
  }

  /** Run one operation: its wall time and the CPU time the Python process spent on it (ms). */
  async runDetailed(request: PeerRequest): Promise<{ ms: number; cpuMs: number }> {
    this.child.stdin.write(JSON.stringify(request) + "\n");
    const line = await this.lines.next();
    if (line.done) throw new Error("python peer exited");
    const answer = JSON.parse(line.value) as { ms?: number; cpuMs?: number; error?: string };
    if (answer.error !== undefined || answer.ms === undefined) throw new Error(`python peer: ${answer.error}`);
    return { ms: answer.ms, cpuMs: answer.cpuMs ?? NaN };
  }

  close(): void {
    this.rl.close();
    this.child.stdin.end();
  }
}
