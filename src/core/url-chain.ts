/**
 * URLs to filesystems: `urlToFs("filecache::s3://bucket/key", {s3: {...}, filecache: {...}})`
 * builds the innermost layer first and wraps it outward; `open` and `openFiles` sit on top.
 */
import { inspect, type InspectOptions } from "node:util";
import type { AbstractFileSystem } from "./abstract.js";
import { FsError } from "./errors.js";
import { hasMagic } from "./glob.js";
import { mapBounded } from "./limiter.js";
import { splitChain, splitProtocol } from "./paths.js";
import { inspectRedacted } from "./redact.js";
import { filesystem, getFilesystemClass } from "./registry.js";
import type { FileSystemOptions } from "./types.js";
import { BufferedFile, parseMode, type FileOpenOptions, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { CompressedFile, resolveCompression } from "../files/compression.js";
import { TextFile } from "../files/text-file.js";

export interface UrlToFsResult {
  fs: AbstractFileSystem;
  /** The path within `fs` (protocol stripped). */
  path: string;
}

interface Layer {
  protocol: string;
  /** The URL part as written (protocol included), "" for a bare protocol word. */
  url: string;
}

function parseLayers(url: string): Layer[] {
  if (typeof url !== "string" || url === "") throw FsError.einval("empty URL");
  const parts = splitChain(url);
  return parts.map((part, i) => {
    if (part === "") throw FsError.einval(`malformed chained URL '${url}' (empty part)`);
    const [protocol] = splitProtocol(part);
    if (protocol) return { protocol, url: part };
    const innermost = i === parts.length - 1;
    if (!innermost) {
      if (!/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(part)) throw FsError.einval(`malformed layer '${part}' in '${url}'`);
      return { protocol: part.toLowerCase(), url: "" };
    }
    return { protocol: "file", url: part };
  });
}

/** Split options into per-layer ones (keyed by protocol) and the rest (for the outermost layer). */
function layerOptions(layers: Layer[], options: Record<string, unknown>, index: number): FileSystemOptions {
  const protocols = new Set(layers.map((l) => l.protocol));
  const own = options[layers[index]!.protocol];
  if (own !== undefined && (own === null || typeof own !== "object" || Array.isArray(own))) {
    throw FsError.einval(`options for '${layers[index]!.protocol}' must be an object`);
  }
  const merged: FileSystemOptions = { ...((own as FileSystemOptions | undefined) ?? {}) };
  if (index === 0) {
    for (const [k, v] of Object.entries(options)) if (!protocols.has(k)) merged[k] = v;
  }
  return merged;
}

/** The filesystem and path for a URL, chained layers included. */
export async function urlToFs(url: string, options: Record<string, unknown> = {}): Promise<UrlToFsResult> {
  const layers = parseLayers(url);
  let fs: AbstractFileSystem | undefined;
  let path = "";
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const opts = layerOptions(layers, options, i);
    if (fs === undefined) {
      if (!layer.url) throw FsError.einval(`'${url}' has no path for its innermost layer '${layer.protocol}'`);
      fs = await filesystem(layer.protocol, opts);
      path = fs.normalizePath(layer.url);
      continue;
    }
    const cls = await getFilesystemClass(layer.protocol);
    const outerPath = layer.url ? splitProtocol(layer.url)[1] : "";
    const chained = cls.chainOptions({ fs, path }, outerPath, opts);
    fs = await filesystem(layer.protocol, chained.options);
    path = chained.path === "" ? path : fs.normalizePath(chained.path);
  }
  return { fs: fs!, path };
}

/** The opened-file options `open()` / `openFiles()` take besides filesystem options. */
export interface OpenOptions extends FileOpenOptions {
  /** "infer" (from the extension), a codec name (gzip, brotli, deflate), or null. */
  compression?: string | null;
}

const FILE_OPTION_KEYS = ["blockSize", "cacheType", "cacheOptions", "autocommit", "size", "encoding", "signal", "compression"] as const;

function splitOpenOptions(options: Record<string, unknown>): { fileOptions: OpenOptions; fsOptions: Record<string, unknown> } {
  const fileOptions: Record<string, unknown> = {};
  const fsOptions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if ((FILE_OPTION_KEYS as readonly string[]).includes(k)) fileOptions[k] = v;
    else fsOptions[k] = v;
  }
  return { fileOptions: fileOptions as OpenOptions, fsOptions };
}

export type OpenedFile = BufferedFile | CompressedFile;

async function openOn(fs: AbstractFileSystem, path: string, mode: OpenMode, options: OpenOptions): Promise<OpenedFile | TextFile> {
  const { kind, text } = parseMode(mode);
  const codec = resolveCompression(options.compression, path);
  if (!codec) return fs.open(path, mode, options);
  const raw = await fs.open(path, `${kind}b` as "rb", options);
  const file = new CompressedFile(raw, codec);
  return text ? new TextFile(file, options.encoding ?? "utf8") : file;
}

/** Open one URL. Options are split between the file (blockSize, cacheType, compression...) and the filesystem. */
export function open(url: string, mode: TextMode, options?: OpenOptions & Record<string, unknown>): Promise<TextFile>;
export function open(url: string, mode?: "rb" | "wb" | "ab" | "xb", options?: OpenOptions & Record<string, unknown>): Promise<OpenedFile>;
export function open(url: string, mode?: OpenMode, options?: OpenOptions & Record<string, unknown>): Promise<OpenedFile | TextFile>;
export async function open(url: string, mode: OpenMode = "rb", options: OpenOptions & Record<string, unknown> = {}): Promise<OpenedFile | TextFile> {
  parseMode(mode);
  const { fileOptions, fsOptions } = splitOpenOptions(options);
  const { fs, path } = await urlToFs(url, fsOptions);
  return openOn(fs, path, mode, fileOptions);
}

/** A file not yet opened: `await f.open()` opens it; `using` style via `withFile`. */
export class OpenFile {
  constructor(
    readonly fs: AbstractFileSystem,
    readonly path: string,
    readonly mode: OpenMode,
    readonly options: OpenOptions,
  ) {}

  /** Printed with the credentials of its URL as `***` (the filesystem prints itself redacted). */
  [inspect.custom](depth: number, options: InspectOptions, show?: typeof inspect): string {
    return inspectRedacted(this, depth, options, show);
  }

  /** The path with its protocol. */
  get fullName(): string {
    return this.fs.unstripProtocol(this.path);
  }

  open(): Promise<OpenedFile | TextFile> {
    return openOn(this.fs, this.path, this.mode, this.options);
  }

  /** Open, run `fn`, and close even if it throws. */
  async use<T>(fn: (file: OpenedFile | TextFile) => Promise<T>): Promise<T> {
    const f = await this.open();
    try {
      return await fn(f);
    } finally {
      await f.close();
    }
  }
}

export interface OpenFilesOptions extends OpenOptions {
  /** Write mode: how many files a `*` in the path expands to (default 1). */
  num?: number;
  /** Write mode: the text put in place of `*` for file i (default: i zero-padded). */
  nameFunction?: (i: number) => string;
}

/**
 * Many files at once: in read mode globs are expanded; in write mode a `*` is numbered
 * per file (`part-*.csv` with `num: 3` gives part-0.csv, part-1.csv, part-2.csv).
 */
export async function openFiles(
  urlpath: string | readonly string[],
  mode: OpenMode = "rb",
  options: OpenFilesOptions & Record<string, unknown> = {},
): Promise<OpenFile[]> {
  const { kind } = parseMode(mode);
  const { num, nameFunction, ...rest } = options;
  const { fileOptions, fsOptions } = splitOpenOptions(rest);
  const urls = typeof urlpath === "string" ? [urlpath] : [...urlpath];
  if (urls.length === 0) throw FsError.einval("openFiles needs at least one path");
  // Each URL resolved once; every file is opened on the first URL's filesystem.
  const resolved = await Promise.all(urls.map((u) => urlToFs(u, fsOptions)));
  const fs = resolved[0]!.fs;
  const stripped = resolved.map((r) => r.path);
  let paths: string[];
  if (kind === "r") {
    if (stripped.some((p) => hasMagic(p))) {
      // Globs name files only; the listings already say which matches are files.
      const found = await fs.expandInfos(stripped);
      const names = [...found.keys()].sort();
      const types = await mapBounded(
        names,
        async (p) => found.get(p)?.type ?? (await fs.info(p).then((i) => i.type, () => "missing")),
        { concurrency: fs.concurrency },
      );
      paths = names.filter((_, i) => types[i] === "file");
    } else {
      paths = stripped;
    }
  } else if (typeof urlpath === "string" && urlpath.includes("*")) {
    if (urlpath.split("*").length > 2) throw FsError.einval("a write path may hold only one '*'", urlpath);
    const count = num ?? 1;
    if (!Number.isInteger(count) || count < 1) throw FsError.einval(`num must be a positive integer, got ${count}`);
    const width = String(count - 1).length;
    const name = nameFunction ?? ((i: number) => String(i).padStart(width, "0"));
    paths = Array.from({ length: count }, (_, i) => stripped[0]!.replace("*", name(i)));
  } else {
    paths = stripped;
  }
  return paths.map((p) => new OpenFile(fs, p, mode, fileOptions));
}
