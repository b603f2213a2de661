/**
 * Real web servers for the HTTP tests: nginx, Apache httpd, lighttpd and `python3 -m
 * http.server`, each on a free port of 127.0.0.1, serving one document root (with the tree of
 * served-tree.ts at `/tree/`) from the configs in test/support/servers/. Each server runs under
 * a small shell guard that stops it when our end of its stdin closes, so a killed test run
 * never leaves one behind; `stop` ends each by its PID.
 *
 *   npx tsx test/support/real-servers.ts     # start them all, print their URLs, stop on Enter
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeServedTree } from "./served-tree.js";

export type RealServerName = "nginx" | "apache2" | "lighttpd" | "python";

/** What one running server offers, beyond serving the document root with listings. */
export interface RealServer {
  name: RealServerName;
  /** `http://127.0.0.1:<port>`; the tree is at `${url}/tree`. */
  url: string;
  /** `/noindex/` serves the tree without listings (directories answer 403). */
  noindex: boolean;
  /** Uploads: PUT below `${url}/dav/` lands in `davDir` on disk. */
  dav?: { url: string; dir: string; makesParents: boolean };
  /** `/gz/<name>` sends `<name>.gz` as stored, with Content-Encoding: gzip. */
  gzipStatic: boolean;
  /** `/redir/<path>` redirects to `/tree/<path>`; `/redir/gone.bin` to a missing `/redir/gone.bin/`. */
  redirects: boolean;
  /** Honours Range (python's http.server does not). */
  ranges: boolean;
}

export interface RealServers {
  /** The document root on disk; `tree` holds the served tree, `scratch` is for tests' own files. */
  root: string;
  tree: string;
  scratch: string;
  servers: RealServer[];
  /** Servers that could not start on this machine, with the reason. */
  skipped: Array<{ name: RealServerName; reason: string }>;
}

const CONFIGS = join(dirname(fileURLToPath(import.meta.url)), "servers");
const APACHE_MODULES = "/usr/lib/apache2/modules";
const START_TIMEOUT_MS = 15_000;

/**
 * Runs the server in the background, prints its PID, stops it (SIGTERM) when stdin closes, and
 * exits with the server's status when it ends by itself. (A background job's stdin is /dev/null
 * unless redirected: the watcher reads a copy of it.)
 */
const GUARD = `exec 3<&0
"$@" & pid=$!
echo "$pid"
( cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null ) &
exec 3<&-
wait "$pid"`;

/** An executable on PATH or in the sbin directories (not on a normal user's PATH). */
function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Lines for the config that drop root to nobody (servers refuse or misbehave as root otherwise). */
function userLines(name: RealServerName): string {
  if (process.getuid?.() !== 0) return "";
  const group = readFileSync("/etc/group", "utf8").split("\n").some((l) => l.startsWith("nogroup:")) ? "nogroup" : "nobody";
  if (name === "nginx") return `user nobody ${group};`;
  if (name === "apache2") return `User nobody\nGroup ${group}`;
  return `server.username = "nobody"\nserver.groupname = "${group}"`;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z]+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Resolves when `GET /tree/` answers (any status), rejects when the process exits first. */
async function waitUntilServing(port: number, child: ChildProcess, diagnose: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  child.once("exit", () => (exited = true));
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path: "/tree/", timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on("error", () => resolve(false)).on("timeout", () => req.destroy());
      req.end();
    });
    if (answered) return;
    if (exited) throw new Error(`exited during startup. ${diagnose()}`);
    if (Date.now() > deadline) throw new Error(`did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s. ${diagnose()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Running {
  server: RealServer;
  stop: () => Promise<void>;
}

/** Start one guarded process; its first stdout line is the server's PID. */
async function launch(argv: string[], port: number, logFile: string | undefined): Promise<{ stop: () => Promise<void> }> {
  const child = spawn("sh", ["-c", GUARD, "sh", ...argv], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  // Always drained: a full pipe would stall the server.
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stderr!.on("data", keep);
  const pid = await new Promise<number>((resolve, reject) => {
    let first = "";
    const onData = (d: Buffer) => {
      first += d.toString();
      const nl = first.indexOf("\n");
      if (nl < 0) return;
      child.stdout!.off("data", onData);
      child.stdout!.on("data", keep);
      keep(Buffer.from(first.slice(nl + 1)));
      resolve(Number(first.slice(0, nl)));
    };
    child.stdout!.on("data", onData);
    child.once("error", reject);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      child.stdin!.end();
      const timer = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  /** The command, its output and the tail of its error log: what a failed start prints. */
  const diagnose = () => {
    const log = logFile && existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "";
    return `${argv.join(" ")}\n${output}${log}`.trim();
  };
  try {
    await waitUntilServing(port, child, diagnose);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

interface Layout {
  base: string;
  root: string;
}

/** nginx, Apache or lighttpd from its config template; a port taken meanwhile gets another try. */
async function startConfigured(name: Exclude<RealServerName, "python">, layout: Layout): Promise<Running> {
  const binary = findBinary(name);
  if (!binary) throw new Error(`${name} is not installed (Debian: apt-get install ${name})`);
  const prefix = join(layout.base, "run", name);
  const dav = join(layout.base, "dav", name);
  await mkdir(prefix, { recursive: true });
  await mkdir(dav, { recursive: true });
  // Servers started as root write logs and uploads as nobody.
  await chmod(prefix, 0o777);
  await chmod(dav, 0o777);
  const template = await readFile(join(CONFIGS, `${name}.conf`), "utf8");
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(prefix, `${name}.conf`);
    await writeFile(conf, fill(template, { PORT: String(port), ROOT: layout.root, PREFIX: prefix, DAV: dav, MODULES: APACHE_MODULES, USER: userLines(name) }));
    const argv =
      name === "nginx" ? [binary, "-p", prefix, "-c", conf] : name === "apache2" ? [binary, "-f", conf, "-DFOREGROUND"] : [binary, "-D", "-f", conf];
    try {
      const { stop } = await launch(argv, port, join(prefix, "error.log"));
      const url = `http://127.0.0.1:${port}`;
      const server: RealServer = {
        name,
        url,
        noindex: true,
        dav: name === "lighttpd" ? undefined : { url: `${url}/dav`, dir: dav, makesParents: name === "nginx" },
        gzipStatic: name === "nginx",
        redirects: name === "nginx",
        ranges: true,
      };
      return { server, stop };
    } catch (err) {
      if (attempt < 2 && /in use/i.test(String(err))) continue;
      throw err;
    }
  }
}

async function startPython(layout: Layout): Promise<Running> {
  const python = findBinary("python3");
  if (!python) throw new Error("python3 is not installed");
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      const { stop } = await launch([python, "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", layout.root], port, undefined);
      return { server: { name: "python", url: `http://127.0.0.1:${port}`, noindex: false, gzipStatic: false, redirects: false, ranges: false }, stop };
    } catch (err) {
      if (attempt < 2 && /in use/i.test(String(err))) continue;
      throw err;
    }
  }
}

export const REAL_SERVER_NAMES: readonly RealServerName[] = ["nginx", "apache2", "lighttpd", "python"];

/**
 * Write the tree and start every server. `required`: a server that cannot start is an error
 * naming it (CI); otherwise it is listed in `skipped` with the reason.
 */
export async function startRealServers(options: { required: boolean }): Promise<{ context: RealServers; stop: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), "fsspec-real-servers-"));
  await chmod(base, 0o755);
  const root = join(base, "www");
  const layout: Layout = { base, root };
  const tree = join(root, "tree");
  const scratch = join(root, "scratch");
  await mkdir(scratch, { recursive: true });
  await chmod(root, 0o755);
  await chmod(scratch, 0o777);
  try {
    await writeServedTree(tree);
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw err;
  }
  const results = await Promise.allSettled(
    REAL_SERVER_NAMES.map((name) => (name === "python" ? startPython(layout) : startConfigured(name, layout))),
  );
  const running = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async () => {
    await Promise.all(running.map((r) => r.stop()));
    await rm(base, { recursive: true, force: true });
  };
  const skipped = results.flatMap((r, i) => (r.status === "rejected" ? [{ name: REAL_SERVER_NAMES[i]!, reason: String((r.reason as Error)?.message ?? r.reason) }] : []));
  if (options.required && skipped.length > 0) {
    await stop();
    throw new Error(skipped.map((s) => `real HTTP server ${s.name} could not start: ${s.reason}`).join("\n"));
  }
  return { context: { root, tree, scratch, servers: running.map((r) => r.server), skipped }, stop };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { context, stop } = await startRealServers({ required: false });
  for (const s of context.servers) console.log(`${s.name.padEnd(9)} ${s.url}/tree/`);
  for (const s of context.skipped) console.log(`${s.name.padEnd(9)} not started: ${s.reason}`);
  console.log(`document root ${context.root}; press Enter to stop`);
  process.stdin.once("data", () => void stop().then(() => process.exit(0)));
}
