/**
 * fsspec-ts/testing: the local servers the project's own suite runs against, for users' tests of
 * code built on fsspec-ts. Each binds 127.0.0.1 on a free port and is torn down by its `close()`
 * (moto: `stop()`); nothing reaches beyond the machine.
 *
 * - `startHttpServer`: static files with ETag/Range, directory indexes, redirects, auth, uploads
 *   and injectable faults (error statuses, stalls, resets, throttling, changed content).
 * - `startHfServer`: the Hugging Face Hub API subset `hf://` uses (tree listings, resolve, LFS).
 * - `startNgcServer`: the NVIDIA NGC registry API subset `ngc://` uses (tokens, listings, downloads).
 * - `startMoto`: moto's S3 server, from a Python that has `moto[server]` (found on $MOTO_PYTHON,
 *   python3 or pyenv).
 * @module fsspec-ts/testing
 */
export { startHttpServer } from "./http-server.js";
export type { FaultSpec, HttpServerOptions, IndexStyle, RecordedRequest, TestHttpServer } from "./http-server.js";
export { startHfServer } from "./hf-server.js";
export type { HfFileSpec, HfRecordedRequest, HfServerOptions, TestHfServer } from "./hf-server.js";
export { startNgcServer } from "./ngc-server.js";
export type { NgcRequest, NgcRequestKind, NgcServerOptions, NgcVersionOptions, TestNgcServer } from "./ngc-server.js";
export { findMotoPython, startMoto } from "./moto.js";
