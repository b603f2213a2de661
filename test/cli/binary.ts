/**
 * The real `fsspec-ts` binary (`node dist/src/cli/main.js`, built by the build globalSetup) as a
 * shell runs it: separate processes with real pipes, exit codes and signals, and a terminal
 * (util-linux `script` gives it a pseudo-terminal) for prompts, Ctrl+C and the progress bar.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
/** The built binary; FSSPEC_TS_CLI points the tests at another build (checking that a test fails without a fix). */
export const MAIN = process.env.FSSPEC_TS_CLI ?? join(REPO, "dist/src/cli/main.js");

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  bytes: Buffer;
}

export interface RunOptions {
  input?: string | Uint8Array;
  cwd?: string;
  timeoutMs?: number;
}

/** Collect a child's output and wait for it to end. */
export function finished(child: ChildProcess, timeoutMs = 60_000): Promise<Run> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (c: Buffer) => out.push(c));
  child.stderr?.on("data", (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the command did not end within ${timeoutMs} ms; stderr: ${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolve({ code, signal, out: bytes.toString(), err: Buffer.concat(err).toString(), bytes });
    });
  });
}

/** Start `fsspec-ts <args>` (stdin a pipe, closed at once unless `input` is given or the caller writes). */
export function start(args: readonly string[], options: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { cwd: options.cwd ?? REPO, stdio: ["pipe", "pipe", "pipe"] });
}

/** Run `fsspec-ts <args>` to the end. */
export async function fsspec(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const child = start(args, options);
  const done = finished(child, options.timeoutMs);
  child.stdin!.end(options.input ?? "");
  return done;
}

/** Quote for sh. */
export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run a bash command line (pipes, redirections) in which `fsspec` is the binary. */
export async function shell(line: string, timeoutMs = 60_000): Promise<Run> {
  const define = `fsspec() { ${sh(process.execPath)} ${sh(MAIN)} "$@"; }; `;
  const child = spawn("bash", ["-c", define + line], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  return finished(child, timeoutMs);
}

export interface TerminalStep {
  /** Wait until the screen so far matches this, then type `keys`. */
  waitFor: RegExp;
  keys: string;
}

/**
 * Run `fsspec-ts <args>` in a pseudo-terminal (stdin, stdout and stderr all a TTY), typing
 * each step's keys once the screen shows what it waits for ("\x03" is Ctrl+C). The screen is
 * everything written, escape sequences included; the exit code is the binary's.
 */
export async function inTerminal(args: readonly string[], steps: readonly TerminalStep[], timeoutMs = 60_000): Promise<{ screen: string; code: number }> {
  // The binary alone is the command (the shell script runs it execs it), and `script -e` exits
  // with its status: no `; echo $?` after it, which a shell that also saw the Ctrl+C may skip.
  const command = [process.execPath, MAIN, ...args].map(sh).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let next = 0;
  child.stdout!.on("data", (c: Buffer) => {
    screen += c.toString();
    while (next < steps.length && steps[next]!.waitFor.test(screen)) child.stdin!.write(steps[next++]!.keys);
  });
  const { code, signal } = await finished(child, timeoutMs);
  if (code === null) throw new Error(`script ended by ${signal}; the terminal showed: ${JSON.stringify(screen)}`);
  return { screen, code };
}
