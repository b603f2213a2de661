/** The reusable conformance suite (import from "fsspec-ts/spec" in a vitest test file). */
export { describeFileSystem } from "./describe-filesystem.js";
export type { FileSystemCapabilities, FileSystemFixture } from "./describe-filesystem.js";
export { COPY_ROWS, EDGE_TREE, EXPAND_ROWS, GLOB_ROWS } from "./scenarios/edge-cases.js";
export type { CopyRow, ExpandRow, GlobRow } from "./scenarios/edge-cases.js";
