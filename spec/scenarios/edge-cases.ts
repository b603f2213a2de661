/**
 * Expected results of glob, expandPath and copy on the edge-case tree below, one row per
 * call. Rows were checked against Python fsspec 2026.9.0 run on the same tree; the spec suite
 * replays them on every backend.
 */

/** Files of the tree, under `src/` in each test's scratch root (content = the relative path). */
export const EDGE_TREE = ["file1", "file2", "subdir0/subfile1", "subdir0/subfile2", "subdir0/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2", "subdir1/nesteddir/nestedfile"];

/** One `glob` call on the edge tree. */
export interface GlobRow {
  /** The pattern, relative to `src/`. */
  pattern: string;
  /** The call's `maxDepth`, if any. */
  maxDepth?: number;
  /** The matches, relative to `src/`, sorted. */
  result: string[];
}

/** One `expandPath` call on the edge tree. */
export interface ExpandRow {
  /** The path or pattern, relative to `src/`. */
  pattern: string;
  /** The call's `recursive`. */
  recursive: boolean;
  /** The call's `maxDepth`, if any. */
  maxDepth?: number;
  /** The expanded paths, relative to `src/` ("." is `src` itself), sorted. */
  result: string[];
}

/** One `copy` call from the edge tree into an existing `tgt/`. */
export interface CopyRow {
  /** The source, relative to `src/`. */
  pattern: string;
  /** The call's `recursive`. */
  recursive: boolean;
  /** The call's `maxDepth`, if any. */
  maxDepth?: number;
  /** The destination, relative to `tgt/`. */
  dst: string;
  /** The files under `tgt/` afterwards, sorted. */
  result: string[];
}

/** Names relative to `src/`; "." is `src` itself. */
export const GLOB_ROWS: GlobRow[] = [
  { "pattern": "fil?1", "result": ["file1"] },
  { "pattern": "fil?1", "maxDepth": 1, "result": ["file1"] },
  { "pattern": "fil?1", "maxDepth": 2, "result": ["file1"] },
  { "pattern": "file[1-2]", "result": ["file1", "file2"] },
  { "pattern": "file[1-2]", "maxDepth": 1, "result": ["file1", "file2"] },
  { "pattern": "file[1-2]", "maxDepth": 2, "result": ["file1", "file2"] },
  { "pattern": "*", "result": ["file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "*", "maxDepth": 1, "result": ["file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "*", "maxDepth": 2, "result": ["file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "**", "result": [".", "file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"] },
  { "pattern": "**", "maxDepth": 1, "result": [".", "file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "**", "maxDepth": 2, "result": [".", "file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/subfile1", "subdir1/subfile2"] },
  { "pattern": "**/*1", "result": ["file1", "subdir0/subfile1", "subdir1", "subdir1/subfile1"] },
  { "pattern": "**/*1", "maxDepth": 1, "result": ["file1", "subdir1"] },
  { "pattern": "**/*1", "maxDepth": 2, "result": ["file1", "subdir0/subfile1", "subdir1", "subdir1/subfile1"] },
  { "pattern": "subdir[0-1]/*fil[e]*", "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"] },
  { "pattern": "subdir[0-1]/*fil[e]*", "maxDepth": 1, "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"] },
  { "pattern": "subdir[0-1]/*fil[e]*", "maxDepth": 2, "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"] },
  { "pattern": "subdir[1-2]", "result": ["subdir1"] },
  { "pattern": "subdir[1-2]", "maxDepth": 1, "result": ["subdir1"] },
  { "pattern": "subdir[1-2]", "maxDepth": 2, "result": ["subdir1"] },
  { "pattern": "*/", "result": ["subdir0", "subdir1"] },
  { "pattern": "*/", "maxDepth": 1, "result": ["subdir0", "subdir1"] },
  { "pattern": "*/", "maxDepth": 2, "result": ["subdir0", "subdir1"] },
  { "pattern": "**/", "result": [".", "subdir0", "subdir0/nesteddir", "subdir1", "subdir1/nesteddir"] },
  { "pattern": "**/", "maxDepth": 1, "result": [".", "subdir0", "subdir1"] },
  { "pattern": "**/", "maxDepth": 2, "result": [".", "subdir0", "subdir0/nesteddir", "subdir1", "subdir1/nesteddir"] },
  { "pattern": "subdir0/*", "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"] },
  { "pattern": "subdir0/*", "maxDepth": 1, "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"] },
  { "pattern": "subdir0/*", "maxDepth": 2, "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"] },
  { "pattern": "subdir0/**", "result": ["subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"] },
  { "pattern": "subdir0/**", "maxDepth": 1, "result": ["subdir0", "subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"] },
  { "pattern": "subdir0/**", "maxDepth": 2, "result": ["subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"] },
  { "pattern": "sub*/nest*/*", "result": ["subdir0/nesteddir/nestedfile", "subdir1/nesteddir/nestedfile"] },
  { "pattern": "sub*/nest*/*", "maxDepth": 1, "result": ["subdir0/nesteddir/nestedfile", "subdir1/nesteddir/nestedfile"] },
  { "pattern": "sub*/nest*/*", "maxDepth": 2, "result": ["subdir0/nesteddir/nestedfile", "subdir1/nesteddir/nestedfile"] },
  { "pattern": "file[!1]", "result": ["file2"] },
  { "pattern": "file[!1]", "maxDepth": 1, "result": ["file2"] },
  { "pattern": "file[!1]", "maxDepth": 2, "result": ["file2"] },
  { "pattern": "[sf]*", "result": ["file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "[sf]*", "maxDepth": 1, "result": ["file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "[sf]*", "maxDepth": 2, "result": ["file1", "file2", "subdir0", "subdir1"] },
  { "pattern": "subdir?/nesteddir/nestedfile", "result": ["subdir0/nesteddir/nestedfile", "subdir1/nesteddir/nestedfile"] },
  { "pattern": "subdir?/nesteddir/nestedfile", "maxDepth": 1, "result": ["subdir0/nesteddir/nestedfile", "subdir1/nesteddir/nestedfile"] },
  { "pattern": "subdir?/nesteddir/nestedfile", "maxDepth": 2, "result": ["subdir0/nesteddir/nestedfile", "subdir1/nesteddir/nestedfile"] },
  { "pattern": "*/*1", "result": ["subdir0/subfile1", "subdir1/subfile1"] },
  { "pattern": "*/*1", "maxDepth": 1, "result": ["subdir0/subfile1", "subdir1/subfile1"] },
  { "pattern": "*/*1", "maxDepth": 2, "result": ["subdir0/subfile1", "subdir1/subfile1"] },
  { "pattern": "**/nesteddir", "result": ["subdir0/nesteddir", "subdir1/nesteddir"] },
  { "pattern": "**/nesteddir", "maxDepth": 1, "result": [] },
  { "pattern": "**/nesteddir", "maxDepth": 2, "result": ["subdir0/nesteddir", "subdir1/nesteddir"] },
  { "pattern": "nope*", "result": [] },
  { "pattern": "nope*", "maxDepth": 1, "result": [] },
  { "pattern": "nope*", "maxDepth": 2, "result": [] },
];

/** `expandPath("src/" + pattern, {recursive, maxDepth})`, as Python fsspec expands it. */
export const EXPAND_ROWS: ExpandRow[] = [
  {"pattern": "*", "recursive": false, "result": ["file1", "file2", "subdir0", "subdir1"]},
  {"pattern": "*", "recursive": false, "maxDepth": 1, "result": ["file1", "file2", "subdir0", "subdir1"]},
  {"pattern": "*", "recursive": false, "maxDepth": 2, "result": ["file1", "file2", "subdir0", "subdir1"]},
  {"pattern": "*", "recursive": true, "result": ["file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "*", "recursive": true, "maxDepth": 1, "result": ["file1", "file2", "subdir0", "subdir1"]},
  {"pattern": "*", "recursive": true, "maxDepth": 2, "result": ["file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "subdir0", "recursive": false, "result": ["subdir0"]},
  {"pattern": "subdir0", "recursive": false, "maxDepth": 1, "result": ["subdir0"]},
  {"pattern": "subdir0", "recursive": false, "maxDepth": 2, "result": ["subdir0"]},
  {"pattern": "subdir0", "recursive": true, "result": ["subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "maxDepth": 1, "result": ["subdir0", "subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "maxDepth": 2, "result": ["subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0/*", "recursive": false, "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0/*", "recursive": false, "maxDepth": 1, "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0/*", "recursive": false, "maxDepth": 2, "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "result": ["subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "maxDepth": 1, "result": ["subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "maxDepth": 2, "result": ["subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "**", "recursive": false, "result": [".", "file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**", "recursive": false, "maxDepth": 1, "result": [".", "file1", "file2", "subdir0", "subdir1"]},
  {"pattern": "**", "recursive": false, "maxDepth": 2, "result": [".", "file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**", "recursive": true, "result": [".", "file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**", "recursive": true, "maxDepth": 1, "result": [".", "file1", "file2", "subdir0", "subdir1"]},
  {"pattern": "**", "recursive": true, "maxDepth": 2, "result": [".", "file1", "file2", "subdir0", "subdir0/nesteddir", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1", "subdir1/nesteddir", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
];

/** `copy("src/" + pattern, "tgt/" + dst)` with `tgt/` existing; result = files under `tgt/`. */
export const COPY_ROWS: CopyRow[] = [
  {"pattern": "fil?1", "recursive": false, "dst": "", "result": ["file1"]},
  {"pattern": "fil?1", "recursive": false, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "fil?1", "recursive": true, "dst": "", "result": ["file1"]},
  {"pattern": "fil?1", "recursive": true, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "fil?1", "recursive": true, "maxDepth": 1, "dst": "", "result": ["file1"]},
  {"pattern": "fil?1", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "fil?1", "recursive": true, "maxDepth": 2, "dst": "", "result": ["file1"]},
  {"pattern": "fil?1", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "file[1-2]", "recursive": false, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "file[1-2]", "recursive": false, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "file[1-2]", "recursive": true, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "file[1-2]", "recursive": true, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "file[1-2]", "recursive": true, "maxDepth": 1, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "file[1-2]", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "file[1-2]", "recursive": true, "maxDepth": 2, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "file[1-2]", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "*", "recursive": false, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "*", "recursive": false, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "*", "recursive": true, "dst": "", "result": ["file1", "file2", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "*", "recursive": true, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2", "newdir/subdir0/nesteddir/nestedfile", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/nesteddir/nestedfile", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "*", "recursive": true, "maxDepth": 1, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "*", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "*", "recursive": true, "maxDepth": 2, "dst": "", "result": ["file1", "file2", "subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "*", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "**", "recursive": false, "dst": "", "result": ["file1", "file2", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**", "recursive": false, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2", "newdir/subdir0/nesteddir/nestedfile", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/nesteddir/nestedfile", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "**", "recursive": true, "dst": "", "result": ["file1", "file2", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**", "recursive": true, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2", "newdir/subdir0/nesteddir/nestedfile", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/nesteddir/nestedfile", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "**", "recursive": true, "maxDepth": 1, "dst": "", "result": ["file1", "file2"]},
  {"pattern": "**", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2"]},
  {"pattern": "**", "recursive": true, "maxDepth": 2, "dst": "", "result": ["file1", "file2", "subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/file1", "newdir/file2", "newdir/subdir0/nesteddir/nestedfile", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/nesteddir/nestedfile", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "**/*1", "recursive": false, "dst": "", "result": ["file1", "subdir0/subfile1", "subdir1/subfile1"]},
  {"pattern": "**/*1", "recursive": false, "dst": "newdir/", "result": ["newdir/file1", "newdir/subdir0/subfile1", "newdir/subdir1/subfile1"]},
  {"pattern": "**/*1", "recursive": true, "dst": "", "result": ["file1", "subdir0/subfile1", "subdir1/nesteddir/nestedfile", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**/*1", "recursive": true, "dst": "newdir/", "result": ["newdir/file1", "newdir/subdir0/subfile1", "newdir/subdir1/nesteddir/nestedfile", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "**/*1", "recursive": true, "maxDepth": 1, "dst": "", "result": ["file1"]},
  {"pattern": "**/*1", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "**/*1", "recursive": true, "maxDepth": 2, "dst": "", "result": ["file1", "subdir0/subfile1", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "**/*1", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/file1", "newdir/subdir0/subfile1", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": false, "dst": "", "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": false, "dst": "newdir/", "result": ["newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": true, "dst": "", "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": true, "dst": "newdir/", "result": ["newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": true, "maxDepth": 1, "dst": "", "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": true, "maxDepth": 2, "dst": "", "result": ["subdir0/subfile1", "subdir0/subfile2", "subdir1/subfile1", "subdir1/subfile2"]},
  {"pattern": "subdir[0-1]/*fil[e]*", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/subdir0/subfile1", "newdir/subdir0/subfile2", "newdir/subdir1/subfile1", "newdir/subdir1/subfile2"]},
  {"pattern": "subdir0", "recursive": false, "dst": "", "result": []},
  {"pattern": "subdir0", "recursive": false, "dst": "newdir/", "result": []},
  {"pattern": "subdir0", "recursive": true, "dst": "", "result": ["subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "dst": "newdir/", "result": ["newdir/subdir0/nesteddir/nestedfile", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "maxDepth": 1, "dst": "", "result": ["subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/subdir0/subfile1", "newdir/subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "maxDepth": 2, "dst": "", "result": ["subdir0/nesteddir/nestedfile", "subdir0/subfile1", "subdir0/subfile2"]},
  {"pattern": "subdir0", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/subdir0/nesteddir/nestedfile", "newdir/subdir0/subfile1", "newdir/subdir0/subfile2"]},
  {"pattern": "subdir0/", "recursive": false, "dst": "", "result": []},
  {"pattern": "subdir0/", "recursive": false, "dst": "newdir/", "result": []},
  {"pattern": "subdir0/", "recursive": true, "dst": "", "result": ["nesteddir/nestedfile", "subfile1", "subfile2"]},
  {"pattern": "subdir0/", "recursive": true, "dst": "newdir/", "result": ["newdir/nesteddir/nestedfile", "newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "subdir0/", "recursive": true, "maxDepth": 1, "dst": "", "result": ["subfile1", "subfile2"]},
  {"pattern": "subdir0/", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "subdir0/", "recursive": true, "maxDepth": 2, "dst": "", "result": ["nesteddir/nestedfile", "subfile1", "subfile2"]},
  {"pattern": "subdir0/", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/nesteddir/nestedfile", "newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "subdir0/*", "recursive": false, "dst": "", "result": ["subfile1", "subfile2"]},
  {"pattern": "subdir0/*", "recursive": false, "dst": "newdir/", "result": ["newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "dst": "", "result": ["nesteddir/nestedfile", "subfile1", "subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "dst": "newdir/", "result": ["newdir/nesteddir/nestedfile", "newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "maxDepth": 1, "dst": "", "result": ["subfile1", "subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "maxDepth": 2, "dst": "", "result": ["nesteddir/nestedfile", "subfile1", "subfile2"]},
  {"pattern": "subdir0/*", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/nesteddir/nestedfile", "newdir/subfile1", "newdir/subfile2"]},
  {"pattern": "file1", "recursive": false, "dst": "", "result": ["file1"]},
  {"pattern": "file1", "recursive": false, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "file1", "recursive": true, "dst": "", "result": ["file1"]},
  {"pattern": "file1", "recursive": true, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "file1", "recursive": true, "maxDepth": 1, "dst": "", "result": ["file1"]},
  {"pattern": "file1", "recursive": true, "maxDepth": 1, "dst": "newdir/", "result": ["newdir/file1"]},
  {"pattern": "file1", "recursive": true, "maxDepth": 2, "dst": "", "result": ["file1"]},
  {"pattern": "file1", "recursive": true, "maxDepth": 2, "dst": "newdir/", "result": ["newdir/file1"]},
];
