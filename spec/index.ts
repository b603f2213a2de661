/**
 * The reusable conformance suite (import from "fsspec-ts/spec" in a vitest test file).
 * @module fsspec-ts/spec
 */
export { describeFileSystem } from "./describe-filesystem.js";
export type { FileSystemCapabilities, FileSystemFixture } from "./describe-filesystem.js";
export { COPY_ROWS, EDGE_TREE, EXPAND_ROWS, GLOB_ROWS } from "./scenarios/edge-cases.js";
export type { CopyRow, ExpandRow, GlobRow } from "./scenarios/edge-cases.js";
export { EXPAND_LITERAL_ROWS, GLOB_LITERAL_ROWS, LITERAL_TREE, OVERLAP_ROWS, OVERLAP_TREE, QUESTION_TREE } from "./scenarios/data-safety.js";
export type { ExpandLiteralRow, OverlapRow } from "./scenarios/data-safety.js";
