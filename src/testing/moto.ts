/**
 * moto's S3 server for tests and benchmarks, on 127.0.0.1 and a free port: `startMoto()` finds a
 * Python that has moto's server and runs it as a child process that exits when its stdin closes,
 * so it dies with the process that started it (even one that is killed: the pipe closes with it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { findPython, pythonCandidates } from "./python.js";

/** The server: prints its port, then serves until stdin closes. Inline, so the package ships no .py file. */
const SERVER_SCRIPT = `
import logging
import sys

from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)
logging.getLogger("werkzeug").disabled = True

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
try:
    sys.stdin.read()
finally:
    server.stop()
`;
const PROBE = "import moto.server, flask, flask_cors";

/**
 * A Python that can run moto's server: `$MOTO_PYTHON`, else `python3`, else pyenv's; undefined when
 * none has `moto[server]`.
 */
export function findMotoPython(): string | undefined {
  return findPython(PROBE, "MOTO_PYTHON");
}

function startServer(python: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-c", SERVER_SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
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
      "startMoto needs moto's server (moto with flask and flask_cors) in some Python: none of " +
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
