/**
 * The environment variables of the cache layers, read in this one place and at call time (so
 * a process can switch to offline mode after the layers were built).
 */

/** `FSSPEC_TS_OFFLINE=1` (or true/yes/on): cache layers never touch their targets. */
export const OFFLINE_ENV = "FSSPEC_TS_OFFLINE";
/** huggingface_hub's own offline switch, which the Hugging Face cache layer honours too. */
export const HF_OFFLINE_ENV = "HF_HUB_OFFLINE";

const TRUE_VALUES = new Set(["1", "true", "yes", "on"]);

/** A boolean environment variable: 1, true, yes or on (any case), as huggingface_hub reads them too. */
export function envFlag(name: string): boolean {
  return TRUE_VALUES.has(process.env[name]?.trim().toLowerCase() ?? "");
}

export function offlineFromEnv(): boolean {
  return envFlag(OFFLINE_ENV);
}
