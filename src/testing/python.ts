/**
 * Finding a Python that has what a test needs (moto's server, huggingface_hub): the Python an
 * environment variable names, then any extra places a setup step installs one, python3 on PATH,
 * pyenv's shim, and every pyenv version; the first that imports the probe wins.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export function pythonCandidates(envVar: string, extra: readonly string[] = []): string[] {
  const out: string[] = [];
  if (process.env[envVar]) out.push(process.env[envVar]!);
  out.push(...extra, "python3");
  const pyenv = process.env.PYENV_ROOT ?? join(homedir(), ".pyenv");
  out.push(join(pyenv, "shims", "python3"));
  try {
    for (const v of readdirSync(join(pyenv, "versions")).sort().reverse()) out.push(join(pyenv, "versions", v, "bin", "python3"));
  } catch {
    // no pyenv
  }
  return [...new Set(out)];
}

/** The first candidate for which `python -c probe` succeeds. */
export function findPython(probe: string, envVar: string, extra: readonly string[] = []): string | undefined {
  for (const python of pythonCandidates(envVar, extra)) {
    const run = spawnSync(python, ["-c", probe], { stdio: "ignore", timeout: 60_000 });
    if (run.status === 0) return python;
  }
  return undefined;
}
