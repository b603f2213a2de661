/**
 * URLs to filesystems: `urlToFs("filecache::s3://bucket/key", {s3: {...}, filecache: {...}})`
 * builds the innermost layer first and wraps it outward; `open` and `openFiles` sit on top.
 */
import { inspect, type InspectOptions } from "node:util";
import type { AbstractFileSystem, FileSystemClass } from "./abstract.js";
import { FsError } from "./errors.js";
import { hasMagic } from "./glob.js";
import { mapBounded } from "./limiter.js";
import { splitChain, splitProtocol } from "./paths.js";
import { inspectRedacted } from "./redact.js";
import { availableProtocols, filesystem, getFilesystemClass } from "./registry.js";
import {
  checkArg,
  checkOptions,
  checkPaths,
  either,
  isFunction,
  isPlainObject,
  isPositiveInteger,
  isRecord,
  isString,
  mergeSpecs,
  oneOf,
  optionSpec,
  unknownOption,
  type OptionSpec,
} from "./validate.js";
import { BufferedFile, FILE_OPEN_OPTIONS, parseMode, type FileOpenOptions, type OpenMode, type TextMode } from "../files/buffered-file.js";
import { CompressedFile, resolveCompression } from "../files/compression.js";
import { TextFile } from "../files/text-file.js";

/**
 * What `urlToFs` resolves to: the filesystem of the URL (the outermost layer of a chain) and the path
 * on it.
 */
export interface UrlToFsResult {
  /** The filesystem (cached: the same options give the same instance). */
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
  if (typeof url !== "string") throw FsError.einval(`urlToFs: url must be a string, got ${url === null ? "null" : typeof url}`);
  if (url === "") throw FsError.einval("empty URL");
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

/**
 * Split a chain's options into one object per layer. A key naming a layer's protocol (or
 * another name of the same class: `https` for an `http` layer) holds that layer's options, the
 * exact name winning; a key naming another registered protocol is options for a filesystem not
 * in this chain, left unused (one options object may serve several URLs, as the CLI's do); any
 * other key is an option of the outermost layer. A key that is none of these is refused with
 * the closest known name, so `{filecach: {...}}` is not passed on as an option nobody takes.
 */
function splitChainOptions(layers: Layer[], classes: readonly FileSystemClass[], options: unknown): Array<Record<string, unknown>> {
  if (!isPlainObject(options)) checkOptions("urlToFs", options, {});
  const given = options as Record<string, unknown>;
  const perLayer = layers.map((): Record<string, unknown> => ({}));
  const blocks = protocolKeys(layers, classes);
  const outer: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    const block = blocks.has(key) || isProtocolBlock(key, classes[0]!);
    if (block && value !== undefined && !isPlainObject(value)) throw FsError.einval(`options for '${key}' must be an object`);
    if (block) continue;
    if (classes[0]!.acceptedOptions[key] === undefined) {
      const names = Object.fromEntries([...blocks].map((p) => [p, isRecord]));
      throw unknownOption(`urlToFs (options of '${layers[0]!.protocol}', or keyed by a protocol of the chain)`, key, classes[0]!.acceptedOptions, names);
    }
    outer[key] = value;
  }
  layers.forEach((layer, i) => {
    const aliases = classes[i]!.protocols.filter((p) => p !== layer.protocol && given[p] !== undefined);
    Object.assign(perLayer[i]!, ...aliases.map((p) => given[p]), given[layer.protocol]);
  });
  // The outermost layer's top-level options win over its own block, as they always have.
  Object.assign(perLayer[0]!, outer);
  return perLayer;
}

/** The keys that hold a layer's options: each layer's protocol and its class's other names. */
function protocolKeys(layers: Layer[], classes: readonly FileSystemClass[]): Set<string> {
  return new Set(classes.flatMap((cls, i) => [layers[i]!.protocol, ...cls.protocols]));
}

/** A registered protocol's name, unless the outermost class takes an option of that name. */
function isProtocolBlock(key: string, outer: FileSystemClass): boolean {
  return outer.acceptedOptions[key] === undefined && availableProtocols().includes(key);
}

/** The filesystem and path for a URL, chained layers included. */
export async function urlToFs(url: string, options: Record<string, unknown> = {}): Promise<UrlToFsResult> {
  const layers = parseLayers(url);
  const classes = await Promise.all(layers.map((l) => getFilesystemClass(l.protocol)));
  const perLayer = splitChainOptions(layers, classes, options);
  let fs: AbstractFileSystem | undefined;
  let path = "";
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const opts = perLayer[i]!;
    if (fs === undefined) {
      if (!layer.url) throw FsError.einval(`'${url}' has no path for its innermost layer '${layer.protocol}'`);
      fs = await filesystem(layer.protocol, opts);
      path = fs.normalizePath(layer.url);
      continue;
    }
    const outerPath = layer.url ? splitProtocol(layer.url)[1] : "";
    const chained = classes[i]!.chainOptions({ fs, path }, outerPath, opts);
    fs = await filesystem(layer.protocol, chained.options);
    path = chained.path === "" ? path : fs.normalizePath(chained.path);
  }
  return { fs: fs!, path };
}

/** The opened-file options `open()` / `openFiles()` take besides filesystem options. */
export interface OpenOptions extends FileOpenOptions {
  /**
   * "infer" (from the extension), a codec name (gzip, brotli, deflate), or null (the default: none).
   */
  compression?: string | null;
}

const OPEN_OPTIONS = mergeSpecs(
  FILE_OPEN_OPTIONS,
  optionSpec<OpenOptions, FileOpenOptions>({ compression: either(isString, oneOf(null)) }),
);

/**
 * The file's options (those of `spec`, and what the URL's filesystems add to their `open`, such
 * as HTTP's `streaming`) and the rest, which configure the filesystems of the URL. A name that is
 * neither is refused with the closest of both.
 */
async function splitOpenOptions(
  where: string,
  url: string,
  options: Record<string, unknown>,
  spec: OptionSpec,
): Promise<{ fileOptions: OpenOptions; fsOptions: Record<string, unknown> }> {
  if (!isPlainObject(options)) checkOptions(where, options, {});
  const layers = parseLayers(url);
  const classes = await Promise.all(layers.map((l) => getFilesystemClass(l.protocol)));
  const fileSpec = mergeSpecs(spec, ...classes.map((c) => c.callOptions.open));
  const protocols = new Set([...protocolKeys(layers, classes), ...availableProtocols()]);
  const fsSpec = mergeSpecs(classes[0]!.acceptedOptions, Object.fromEntries([...protocols].map((p) => [p, isRecord])));
  const fileOptions: Record<string, unknown> = {};
  const fsOptions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (fileSpec[k] !== undefined) fileOptions[k] = v;
    else if (fsSpec[k] !== undefined) fsOptions[k] = v;
    else throw unknownOption(`${where} (options of the file, of '${layers[0]!.protocol}', or keyed by a protocol of the chain)`, k, fileSpec, fsSpec);
  }
  return { fileOptions: fileOptions as OpenOptions, fsOptions };
}

/** What `open` gives in a binary mode: a `BufferedFile`, or a `CompressedFile` with `compression`. */
export type OpenedFile = BufferedFile | CompressedFile;

async function openOn(fs: AbstractFileSystem, path: string, mode: OpenMode, options: OpenOptions): Promise<OpenedFile | TextFile> {
  const { kind, text } = parseMode(mode);
  const { compression, ...fileOptions } = options;
  const codec = resolveCompression(compression, path);
  if (!codec) return fs.open(path, mode, fileOptions);
  const raw = await fs.open(path, `${kind}b` as "rb", fileOptions);
  const file = new CompressedFile(raw, codec);
  return text ? new TextFile(file, options.encoding ?? "utf8") : file;
}

/**
 * Open one URL or chain (`filecache::https://...`) in `mode` (default "rb"). Options are split between
 * the file (blockSize, cacheType, compression, encoding...) and the filesystems of the URL (by name, or
 * keyed by protocol); a name that is neither is EINVAL. Errors are those of `AbstractFileSystem.open`.
 */
export function open(url: string, mode: TextMode, options?: OpenOptions & Record<string, unknown>): Promise<TextFile>;
export function open(url: string, mode?: "rb" | "wb" | "ab" | "xb", options?: OpenOptions & Record<string, unknown>): Promise<OpenedFile>;
export function open(url: string, mode?: OpenMode, options?: OpenOptions & Record<string, unknown>): Promise<OpenedFile | TextFile>;
export async function open(url: string, mode: OpenMode = "rb", options: OpenOptions & Record<string, unknown> = {}): Promise<OpenedFile | TextFile> {
  parseMode(mode);
  const { fileOptions, fsOptions } = await splitOpenOptions("open", url, options, OPEN_OPTIONS);
  const { fs, path } = await urlToFs(url, fsOptions);
  checkOptions("open", fileOptions, OPEN_OPTIONS, fs.callOptionsOf("open"));
  return openOn(fs, path, mode, fileOptions);
}

/** A file not yet opened: `await f.open()` opens it; `using` style via `withFile`. */
export class OpenFile {
  constructor(
    /** The filesystem the file is on. */
    readonly fs: AbstractFileSystem,
    /** Its path on `fs`. */
    readonly path: string,
    /** The mode it opens in. */
    readonly mode: OpenMode,
    /** The file options it opens with. */
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

  /** Open the file (each call opens it anew); close what it gives. */
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
  checkPaths("openFiles", urlpath, "urlpath");
  if (!isPlainObject(options)) checkOptions("openFiles", options, {});
  const { num, nameFunction, ...rest } = options;
  if (num !== undefined) checkArg("openFiles", "option 'num'", num, isPositiveInteger);
  if (nameFunction !== undefined) checkArg("openFiles", "option 'nameFunction'", nameFunction, isFunction);
  const urls = typeof urlpath === "string" ? [urlpath] : [...urlpath];
  if (urls.length === 0) throw FsError.einval("openFiles needs at least one path");
  const { fileOptions, fsOptions } = await splitOpenOptions("openFiles", urls[0]!, rest, OPEN_OPTIONS);
  // Each URL resolved once; every file is opened on the first URL's filesystem.
  const resolved = await Promise.all(urls.map((u) => urlToFs(u, fsOptions)));
  const fs = resolved[0]!.fs;
  checkOptions("openFiles", fileOptions, OPEN_OPTIONS, fs.callOptionsOf("open"));
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
    const width = String(count - 1).length;
    const name = nameFunction ?? ((i: number) => String(i).padStart(width, "0"));
    paths = Array.from({ length: count }, (_, i) => stripped[0]!.replace("*", name(i)));
  } else {
    paths = stripped;
  }
  return paths.map((p) => new OpenFile(fs, p, mode, fileOptions));
}
