/**
 * The peers the benchmarks compare against, each optional: Python fsspec (and pyarrow) in a
 * long-lived child process that times its own runs, and OpenDAL's Node binding in this
 * process. A missing peer is skipped with a note, never an error.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

/**
 * A Python with fsspec: $FSSPEC_PYTHON when set (set it empty, or to a path that is not a Python
 * with fsspec, to run without the Python peer), else the venv the guide describes under /tmp.
 */
export function findPython(): string | undefined {
  const env = process.env.FSSPEC_PYTHON;
  const candidates = env !== undefined ? [env] : ["/tmp/fsvenv/bin/python"];
  return candidates.find((c) => c !== "" && existsSync(c) && spawnSync(c, ["-c", "import fsspec"]).status === 0);
}

interface Answer {
  ok?: boolean;
  ms?: number;
  size?: number | null;
  error?: string;
}

/** Python code run on request; see bench/support/python_peer.py for the protocol. */
export class PythonPeer {
  private readonly lines: AsyncIterator<string>;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly reader: Interface,
    readonly python: string,
  ) {
    this.lines = reader[Symbol.asyncIterator]();
  }

  /** A peer process, or undefined (with the reason in `notes`) when no Python with fsspec is found. */
  static start(notes: string[]): PythonPeer | undefined {
    const python = findPython();
    if (!python) {
      notes.push("no Python with fsspec found (set FSSPEC_PYTHON); Python comparisons skipped");
      return undefined;
    }
    const script = fileURLToPath(new URL("./python_peer.py", import.meta.url));
    const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] });
    return new PythonPeer(child, createInterface({ input: child.stdout }), python);
  }

  private async ask(msg: object): Promise<Answer> {
    this.child.stdin.write(JSON.stringify(msg) + "\n");
    const next = await this.lines.next();
    if (next.done) throw new Error("the Python peer exited");
    const answer = JSON.parse(next.value) as Answer;
    if (answer.error && answer.ok === undefined) throw new Error(`Python peer: ${answer.error}`);
    return answer;
  }

  /** Whether `module` imports in the peer (e.g. "pyarrow"). */
  async has(module: string): Promise<boolean> {
    return (await this.ask({ probe: module })).ok === true;
  }

  /** Run `setup` once now; `expr` is what each timed run evaluates. */
  async define(name: string, setup: string, expr: string): Promise<void> {
    await this.ask({ define: name, setup, expr });
  }

  /** One timed run of `name`: the peer's own milliseconds, and len() of what it returned. */
  async run(name: string): Promise<{ ms: number; size: number | null }> {
    const a = await this.ask({ run: name });
    return { ms: a.ms!, size: a.size ?? null };
  }

  /** A measureInterleaved variant timing `name` in the peer. */
  variant(label: string, name: string): { label: string; timed: () => Promise<number> } {
    return { label, timed: async () => (await this.run(name)).ms };
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    this.reader.close();
    if (this.child.exitCode === null) await new Promise((resolve) => this.child.once("exit", resolve));
  }
}

/** The part of OpenDAL's Node binding the cases use. */
export interface OpenDAL {
  Operator: new (scheme: string, options: Record<string, string>) => { list(path: string, options?: { recursive?: boolean }): Promise<unknown[]> };
}

/** Not a dependency of the repository: its lock entries name native builds for every platform, which an offline mirror may lack. */
const OPENDAL = "opendal";

/**
 * OpenDAL's Node binding when installed (`npm install --no-save opendal@0.49.2`), or undefined
 * with the reason in `notes`: it is absent, or its native library does not load here (it needs
 * a recent glibc).
 */
export async function loadOpenDAL(notes: string[]): Promise<OpenDAL | undefined> {
  try {
    const mod = (await import(OPENDAL)) as OpenDAL & { default?: OpenDAL };
    return mod.Operator ? mod : mod.default;
  } catch (err) {
    notes.push(`OpenDAL's Node binding did not load (${(err as Error).message.split("\n")[0]}); its comparisons skipped`);
    return undefined;
  }
}
