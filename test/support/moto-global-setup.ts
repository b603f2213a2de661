/**
 * vitest globalSetup: one moto S3 server for the whole run, on 127.0.0.1 and a free port.
 * Tests read its URL with `inject("s3Endpoint")`; each test file uses its own buckets (the
 * server is shared by files running in parallel). The server is a Python child process
 * (test/support/moto-server.py) that exits when its stdin closes, so it dies with the run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { findPython, pythonCandidates } from "./python.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the moto server. */
    s3Endpoint: string;
  }
}

const WRAPPER = join(dirname(fileURLToPath(import.meta.url)), "moto-server.py");
const PROBE = "import moto.server, flask, flask_cors";

export function findMotoPython(): string | undefined {
  return findPython(PROBE, "MOTO_PYTHON");
}

function startServer(python: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [WRAPPER], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(new Error("moto did not report its port within 60 s")), 60_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${e.message}\n${err.slice(-2000)}`));
    };
    // Always drained: a full stderr pipe would stall the server.
    child.stderr!.on("data", (d: Buffer) => {
      err = (err + d.toString()).slice(-10_000);
    });
    child.on("error", fail);
    child.on("exit", (code) => fail(new Error(`moto exited early (code ${code})`)));
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0]!;
      if (out.includes("\n") && /^\d+$/.test(line.trim())) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolve({ child, port: Number(line.trim()) });
      }
    };
    child.stdout!.on("data", onData);
  });
}

/** Start moto's server (tests, benchmarks): its endpoint, and a function that stops it. */
export async function startMoto(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const python = findMotoPython();
  if (!python) {
    throw new Error(
      "The S3 tests need moto's server (moto with flask and flask_cors) in some Python: none of " +
        `${pythonCandidates("MOTO_PYTHON").join(", ")} has it. Install it (pip install "moto[server]") or point MOTO_PYTHON at a Python that has it.`,
    );
  }
  const { child, port } = await startServer(python);
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin!.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { endpoint: `http://127.0.0.1:${port}`, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { endpoint, stop } = await startMoto();
  project.provide("s3Endpoint", endpoint);
  return stop;
}
