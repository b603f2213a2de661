/**
 * `--include` / `--exclude` of cp, mv and sync: shell-style globs (minimatch: `*`, `?`, `[a-z]`,
 * `{a,b}`, `**`; dotfiles match) over each file's path relative to the source it came from. A
 * pattern without `/` matches the base name at any depth (`*.txt`), one with `/` the whole
 * relative path (`logs/*.txt`, `**\/tmp/**`). Filters apply in command-line order and the last
 * one that matches decides; a file no filter matches is copied unless the first filter is an
 * --include (`--include '*.txt'` alone copies only .txt files).
 */
import type { Minimatch } from "minimatch";

export interface Filter {
  include: boolean;
  pattern: string;
}

/** Commander collectors that keep --include and --exclude in one list, in command-line order. */
export function filterCollectors(): { filters: Filter[]; include: (p: string) => Filter[]; exclude: (p: string) => Filter[] } {
  const filters: Filter[] = [];
  return {
    filters,
    include: (pattern) => (filters.push({ include: true, pattern }), filters),
    exclude: (pattern) => (filters.push({ include: false, pattern }), filters),
  };
}

/** A predicate over relative paths, or undefined when there are no filters (minimatch is loaded only then). */
export async function compileFilters(filters: readonly Filter[]): Promise<((relative: string) => boolean) | undefined> {
  if (filters.length === 0) return undefined;
  const { Minimatch } = await import("minimatch");
  const compiled: Array<{ include: boolean; matcher: Minimatch }> = filters.map((f) => ({
    include: f.include,
    matcher: new Minimatch(f.pattern, { dot: true, matchBase: !f.pattern.includes("/"), nocomment: true, nonegate: true }),
  }));
  const fallback = !compiled[0]!.include;
  return (relative) => {
    let verdict = fallback;
    for (const { include, matcher } of compiled) if (matcher.match(relative)) verdict = include;
    return verdict;
  };
}
