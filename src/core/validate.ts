/**
 * Argument checks for the public API. Each public method checks what it was given before it
 * does anything, so a wrong type or value is EINVAL naming the argument (never a TypeError from
 * deep inside, never a silent no-op), and an option name nobody knows is EINVAL naming the
 * closest known one instead of being ignored. The checks are plain functions over plain data,
 * cheap enough for the hot paths (an empty options object costs one loop that never runs).
 */
import { FsError } from "./errors.js";

/** What is wrong with a value ("must be true or false"), or undefined when it is fine. */
export type Check = (value: unknown) => string | undefined;

/** Option name -> the check of its value. An option given as `undefined` counts as not given. */
export type OptionSpec = Readonly<Record<string, Check>>;

/**
 * The spec of an options type: one check per key, every key listed (the compiler refuses a
 * missing or an extra one, so the type and the names the code accepts cannot drift apart).
 * With `Base`, only the keys `T` adds to it.
 */
export function optionSpec<T, Base = {}>(checks: { readonly [K in Exclude<keyof T, keyof Base>]-?: Check }): OptionSpec {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, Check>, checks));
}

/** The entries of `spec` for `names` only (a backend passing some of another's options on). */
export function pickSpec(spec: OptionSpec, names: readonly string[]): OptionSpec {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, Check>, Object.fromEntries(names.map((n) => [n, spec[n] ?? anyValue]))));
}

/** Several specs as one (later ones add names). */
export function mergeSpecs(...specs: ReadonlyArray<OptionSpec | undefined>): OptionSpec {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, Check>, ...specs.filter(Boolean)));
}

// ---------------------------------------------------------------- value checks

/** Any value (the option is checked where it is used). */
export const anyValue: Check = () => undefined;
/** true or false. */
export const isBoolean: Check = (v) => (typeof v === "boolean" ? undefined : "must be true or false");
/** Any string. */
export const isString: Check = (v) => (typeof v === "string" ? undefined : "must be a string");
/** A string other than "". */
export const isNonEmptyString: Check = (v) => (typeof v === "string" && v !== "" ? undefined : "must be a non-empty string");
/** A function. */
export const isFunction: Check = (v) => (typeof v === "function" ? undefined : "must be a function");
/** A safe integer >= 1. */
export const isPositiveInteger: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? undefined : "must be a positive integer");
/** A safe integer >= 0. */
export const isNonNegativeInteger: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : "must be a non-negative integer");
/** A number >= 0 (not NaN). */
export const isNonNegativeNumber: Check = (v) =>
  typeof v === "number" && v >= 0 && !Number.isNaN(v) ? undefined : "must be a non-negative number";
/** A number > 0 (not NaN). */
export const isPositiveNumber: Check = (v) => (typeof v === "number" && v > 0 && !Number.isNaN(v) ? undefined : "must be a positive number");
/** A plain object (`{...}`, not an array or a class instance). */
export const isRecord: Check = (v) => (isPlainObject(v) ? undefined : "must be a plain object");
/** An `AbortSignal`. */
export const isSignal: Check = (v) => (v instanceof AbortSignal ? undefined : "must be an AbortSignal");
/** A Buffer encoding name Node knows (utf8, latin1, base64...). */
export const isEncoding: Check = (v) =>
  typeof v === "string" && Buffer.isEncoding(v) ? undefined : "must be a Node.js encoding (utf8, latin1, base64, hex...)";
/** A plain object whose values are all strings (headers). */
export const isStringRecord: Check = (v) =>
  isPlainObject(v) && Object.values(v).every((x) => typeof x === "string") ? undefined : "must be an object of strings";

/** One of the given values. */
export function oneOf(...values: readonly unknown[]): Check {
  const shown = values.map((v) => (typeof v === "string" ? `"${v}"` : String(v))).join(", ");
  return (v) => (values.includes(v) ? undefined : `must be one of ${shown}`);
}

/** Fine when any of the checks is ("must be a function or one of ..." otherwise). */
export function either(...checks: readonly Check[]): Check {
  return (v) => {
    const problems: string[] = [];
    for (const check of checks) {
      const problem = check(v);
      if (problem === undefined) return undefined;
      problems.push(problem.replace(/^must be /, ""));
    }
    return `must be ${problems.join(" or ")}`;
  };
}

/** An object whose listed members, when present, are functions (a progress callback...). */
export function hasMethods(...names: readonly string[]): Check {
  return (v) => {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return `must be an object with methods ${names.join(", ")}`;
    const bad = names.find((n) => (v as Record<string, unknown>)[n] !== undefined && typeof (v as Record<string, unknown>)[n] !== "function");
    return bad === undefined ? undefined : `must have a function as ${bad}`;
  };
}

/** A filesystem (checked by shape: this module cannot import the class without an import cycle). */
export const isFileSystem: Check = (v) =>
  v !== null && typeof v === "object" && ["normalizePath", "open", "info", "pipeFile", "catFile"].every((m) => typeof (v as Record<string, unknown>)[m] === "function")
    ? undefined
    : "must be a filesystem";

/** An instance of `cls` (checked by `instanceof`). */
export function instanceOf(cls: abstract new (...args: never[]) => unknown, what: string): Check {
  return (v) => (v instanceof cls ? undefined : `must be ${what}`);
}

/** Whether `v` is a plain object: its prototype is Object.prototype or null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------- failing

/** A short, safe description of a value for a message (long strings are cut). */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return v.length <= 32 ? `'${v}'` : `a string of ${v.length} characters`;
    case "number":
    case "boolean":
      return String(v);
    case "bigint":
      return `${v}n (a BigInt)`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default: {
      const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
      return name && name !== "Object" ? `a ${name}` : "an object";
    }
  }
}

/** EINVAL for argument `name` of `where`: "where: name problem, got value". */
export function invalidArgument(where: string, name: string, problem: string, value: unknown, path?: string): FsError {
  return FsError.einval(`${where}: ${name} ${problem}, got ${describeValue(value)}`, path);
}

/** Throw EINVAL when `check` finds something wrong with argument `name`. */
export function checkArg(where: string, name: string, value: unknown, check: Check, path?: string): void {
  const problem = check(value);
  if (problem !== undefined) throw invalidArgument(where, name, problem, value, path);
}

// ---------------------------------------------------------------- positional arguments

/** A path argument: a string (emptiness and the rest are the filesystem's to judge). */
export function checkPath(where: string, value: unknown, name = "path"): asserts value is string {
  if (typeof value !== "string") throw invalidArgument(where, name, "must be a string", value);
}

/** A path or a list of paths (an array of strings). */
export function checkPaths(where: string, value: unknown, name = "path"): asserts value is string | readonly string[] {
  if (typeof value === "string") return;
  if (!Array.isArray(value)) throw invalidArgument(where, name, "must be a string or an array of strings", value);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== "string") throw invalidArgument(where, `${name}[${i}]`, "must be a string", value[i]);
  }
}

/** A byte offset: an integer (negative counts from the end where the method says so), null or undefined. */
export function checkOffset(where: string, name: string, value: unknown, path?: string): asserts value is number | null | undefined {
  if (value === undefined || value === null || Number.isSafeInteger(value)) return;
  throw invalidArgument(where, name, "must be an integer or null", value, path);
}

// ---------------------------------------------------------------- options

/**
 * Check an options argument: undefined or a plain object whose every key is known to `spec`
 * (or to `extra`, a backend's own additions) with a value its check accepts.
 */
export function checkOptions(where: string, options: unknown, spec: OptionSpec, extra?: OptionSpec, path?: string): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw invalidArgument(where, "options", "must be a plain object", options, path);
  for (const key in options) {
    const check = spec[key] ?? extra?.[key];
    if (check === undefined) throw unknownOption(where, key, spec, extra, path);
    const value = options[key];
    if (value === undefined) continue;
    const problem = check(value);
    if (problem !== undefined) throw invalidArgument(where, `option '${key}'`, problem, value, path);
  }
}

/**
 * Durations that took seconds under these names and take milliseconds under the new ones: the
 * old name is refused (never read in the new unit), and the refusal says what it became.
 */
const RENAMED_DURATIONS: Readonly<Record<string, string>> = {
  expiryTime: "expiryMs",
  listingsExpiryTime: "listingsExpiryMs",
  cacheCheck: "cacheCheckMs",
  expiration: "expirationMs",
  timeout: "timeoutMs",
};

/** EINVAL for an option nobody knows, naming the closest known one. */
export function unknownOption(where: string, key: string, spec: OptionSpec, extra?: OptionSpec, path?: string): FsError {
  const known = [...new Set([...Object.keys(spec), ...Object.keys(extra ?? {})])].sort();
  const renamed = Object.hasOwn(RENAMED_DURATIONS, key) ? RENAMED_DURATIONS[key] : undefined;
  if (renamed !== undefined && known.includes(renamed)) {
    return FsError.einval(`${where}: unknown option '${key}'; durations are milliseconds: use '${renamed}' (seconds x 1000)`, path);
  }
  const close = closestName(key, known);
  const hint = close === undefined ? "it takes no options" : `did you mean '${close}'? (known: ${known.join(", ")})`;
  return FsError.einval(`${where}: unknown option '${key}'; ${hint}`, path);
}

/** The candidate nearest to `name` (edit distance, ignoring case); undefined without candidates. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit ("trucate", "recurisve"). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
