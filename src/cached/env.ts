/**
 * The environment variables of the cache layers, read in this one place and at call time (so
 * a process can switch to offline mode after the layers were built).
 */

/** `FSSPEC_TS_OFFLINE=1` (or true/yes/on): cache layers never touch their targets. */
export const OFFLINE_ENV = "FSSPEC_TS_OFFLINE";

export function offlineFromEnv(): boolean {
  const v = process.env[OFFLINE_ENV]?.trim().toLowerCase();
  return v === "1" || v === "true" || v === "yes" || v === "on";
}
