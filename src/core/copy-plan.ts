/**
 * fsspec's destination rules for copy / get / put / mv, as a pure function
 * (see the table in README and the spec suite's copy scenarios).
 */
import { basename, commonPathPrefix, trimTrailingSlashes } from "./paths.js";

/**
 * What `planDestinations` decides from: the caller's source and destination and what the lookups found.
 */
export interface PlanInput {
  /** What the caller passed as source: a single path (string) or a list. */
  source: string | readonly string[];
  /** Expanded (and, for a single string source, filtered) source paths. */
  sources: readonly string[];
  /** Destination as the caller wrote it (may end with "/"). */
  destination: string;
  /** Whether the destination is an existing directory or ends with "/". */
  destinationIsDir: boolean;
  /** Whether the source pattern had glob magic. */
  sourceHasMagic: boolean;
  /** Whether the caller's single source path ended with "/". */
  sourceTrailingSlash: boolean;
}

/** Destination path for each source, in the same order. */
export function planDestinations(input: PlanInput): string[] {
  const { source, sources } = input;
  const dst = trimTrailingSlashes(input.destination);
  if (Array.isArray(source)) {
    // List sources are flattened into the destination directory.
    return sources.map((p) => joinDst(dst, basename(p)));
  }
  const exists =
    (input.sourceHasMagic && sources.length === 1) ||
    (!input.sourceHasMagic && input.destinationIsDir && !input.sourceTrailingSlash);
  let prefix = commonPathPrefix(sources);
  if (exists) {
    const idx = prefix.lastIndexOf("/");
    prefix = idx < 0 ? "" : prefix.slice(0, idx);
  }
  return sources.map((p) => {
    if (prefix === "" && !p.startsWith("/")) return joinDst(dst, p);
    // The root as destination ("/") already ends with the separator the rest starts with.
    const rest = p.slice(prefix.length);
    return dst.endsWith("/") && rest.startsWith("/") ? dst + rest.slice(1) : dst + rest;
  });
}

function joinDst(dst: string, name: string): string {
  return dst === "" ? name : dst.endsWith("/") ? dst + name : `${dst}/${name}`;
}
