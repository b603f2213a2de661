/**
 * A property test over the public API: sequences of generated calls (mostly valid, some with a
 * wrong argument or option) on a small seeded tree, per backend. Every call must settle within
 * a time limit; every rejection must be an FsError with a known code; and a call may change only
 * the paths it names, their descendants, and their ancestors (a parent made or left empty),
 * nothing else in the tree. Runs with fast-check on memory, file (a temp dir), dir over memory,
 * filecache over memory, and S3 on moto when the run has it (a thirtieth as many sequences:
 * each call there costs requests). FSSPEC_TS_PROPERTY_RUNS sets the number of sequences per
 * backend (default 80, each of 20-40 calls: about 2,400 calls).
 *
 * It lives in test/, not spec/: it needs fast-check (a dev dependency, which "fsspec-ts/spec"
 * would otherwise make every backend author install) and knows the built-in fixtures' trees.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { FsError, NETWORK_ERROR_CODES, paths, type AbstractFileSystem } from "../../src/index.js";
import {
  API,
  FIXTURES,
  OPTION_VALUES,
  WRONG,
  changed,
  invoke,
  join,
  misspellingsOf,
  scratchLocal,
  seed,
  snapshot,
  type ApiArg,
  type ApiFixture,
  type ApiMethod,
  type ArgKind,
} from "../support/public-api.js";
import { bucketName, createBucket, makeFs } from "../s3/helpers.js";

const RUNS = Number(process.env.FSSPEC_TS_PROPERTY_RUNS ?? 80);
const CALL_TIMEOUT_MS = 5_000;
const CODES = new Set<string>(["ENOENT", "EEXIST", "EISDIR", "ENOTDIR", "ENOTEMPTY", "EINVAL", "EACCES", "ENOTSUP", "ETIMEDOUT", "EIO", "ECLOSED", "EABORT", "EPROTO", "ECHANGED", ...NETWORK_ERROR_CODES]);
const TRANSFERS_WITH_LOCAL_SIDE = new Set(["get", "put", "getFile", "putFile"]);

interface Call {
  method: ApiMethod;
  args: unknown[];
}

/** Mostly a valid value, sometimes a wrong one: both must be handled. */
const mostly = <T,>(valid: fc.Arbitrary<T>, wrong: readonly unknown[]): fc.Arbitrary<unknown> =>
  wrong.length === 0 ? valid : fc.oneof({ arbitrary: valid, weight: 9 }, { arbitrary: fc.constantFrom(...wrong), weight: 1 });

function validOf(kind: ArgKind, f: ApiFixture): fc.Arbitrary<unknown> {
  const at = (rel: string) => join(f.root, rel);
  const existing = fc.constantFrom(at("d/f"), at("d/g.txt"), at("d/sub/h"), at("e/x"), at("top"), at("d"), at("d/sub"), f.root, at("nope"), at("d/f/"));
  const fresh = fc.constantFrom(at("n1"), at("d/n2"), at("new/deep/n3"), at("e/n4"), at("d/f"), at("d"), at("e/x"), at("d/sub/h"));
  const data = fc.constantFrom<unknown>("", "abc", "a longer line\nand another\n", new Uint8Array([1, 2, 3]), new Uint8Array(4).buffer);
  switch (kind) {
    case "path":
      return existing;
    case "dirPath":
      return fc.constantFrom(at("d"), at("d/sub"), at("e"), f.root, at("nope"), at("d/f"));
    case "newPath":
      return fresh;
    case "paths":
      return fc.oneof(existing, fc.array(fc.oneof(existing, fresh), { maxLength: 3 }));
    case "pattern":
      return fc.constantFrom(at("d/*"), at("*/f"), at("**"), at("d/?"), at("d/*.txt"), at("**/h"), at("d/sub"), at("*"));
    case "data":
      return data;
    case "record":
      return fc.dictionary(fresh, data, { minKeys: 1, maxKeys: 3 });
    case "offset":
      return fc.oneof(fc.integer({ min: -8, max: 12 }), fc.constant(null), fc.constant(undefined));
    case "offsets":
      return fc.oneof(validOf("offset", f), fc.array(fc.oneof(fc.integer({ min: -8, max: 12 }), fc.constant(null)), { minLength: 1, maxLength: 3 }));
    case "count":
      return fc.nat({ max: 12 });
    case "length":
      return fc.oneof(fc.nat({ max: 12 }), fc.constant(null));
    case "encoding":
      return fc.constantFrom("utf8", "latin1", "base64", "hex");
    case "text":
      return fc.string({ maxLength: 8 });
    case "delimiter":
      return fc.constantFrom<unknown>("\n", "-", new Uint8Array([10]), undefined);
    case "mode":
      return fc.constantFrom("rb", "wb", "ab", "xb", "r", "w", "a", "x");
    case "boolean":
      return fc.boolean();
    case "function":
      return fc.constant(async () => undefined);
    case "options":
      return fc.constant({});
  }
}

/** An options argument: known names with valid (or wrong) values, now and then a misspelled one. */
function optionsOf(m: ApiMethod): fc.Arbitrary<unknown> {
  const names = m.options ?? [];
  const entry = (name: string) => {
    const values = m.own?.[name] ?? OPTION_VALUES[name]!;
    const valid = name === "signal" ? [new AbortController().signal, AbortSignal.abort()] : values.valid;
    return fc.tuple(fc.constant(name), valid.length ? mostly(fc.constantFrom(...valid), values.wrong) : fc.constantFrom(...values.wrong));
  };
  const typo = names.length
    ? fc.tuple(fc.constantFrom(...names.flatMap(misspellingsOf)), fc.constant<unknown>(true))
    : fc.constant<[string, unknown]>(["unknown", 1]);
  const record = fc
    .array(names.length ? fc.oneof({ arbitrary: fc.constantFrom(...names).chain(entry), weight: 12 }, { arbitrary: typo, weight: 1 }) : typo, { maxLength: 3 })
    .map((entries) => Object.fromEntries(entries));
  return fc.oneof({ arbitrary: record, weight: 9 }, { arbitrary: fc.constantFrom(...WRONG.options, undefined), weight: 1 });
}

function argOf(m: ApiMethod, a: ApiArg, f: ApiFixture): fc.Arbitrary<unknown> {
  if (a.kind === "options") return optionsOf(m);
  const valid = "valid" in a ? fc.constant(a.valid) : validOf(a.kind, f);
  return mostly(a.optional ? fc.oneof(valid, fc.constant(undefined)) : valid, WRONG[a.kind].filter((w) => !(a.optional && w === undefined)));
}

function callOf(f: ApiFixture): fc.Arbitrary<Call> {
  return fc.constantFrom(...API).chain((method) =>
    fc.tuple(...method.args.map((a) => argOf(method, a, f))).map((args) => ({
      method,
      args,
      // How fast-check prints a counterexample: as the call it is.
      [fc.toStringMethod]: () => `${method.name}(${args.map(show).join(", ")})`,
    })),
  );
}

/** get/put always name the fixture's local side: a generated call must never touch the real disk. */
function withLocalSide(call: Call, f: ApiFixture): unknown[] {
  if (!TRANSFERS_WITH_LOCAL_SIDE.has(call.method.name)) return call.args;
  const args = [...call.args];
  const at = call.method.args.findIndex((a) => a.kind === "options");
  const given = args[at];
  if (given === undefined) args[at] = { localFs: f.localFs };
  else if (given !== null && typeof given === "object" && !Array.isArray(given) && (given as { localFs?: unknown }).localFs === undefined) {
    args[at] = { ...given, localFs: f.localFs };
  }
  return args;
}

/** The paths a call names (globs cut at their first wildcard), as the filesystem names them. */
function namedPaths(fs: AbstractFileSystem, args: readonly unknown[]): string[] {
  const strings: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === "string") strings.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v !== null && typeof v === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(v))) strings.push(...Object.keys(v));
  };
  args.forEach(collect);
  const out: string[] = [];
  for (const s of strings) {
    const magic = s.search(/[*?[]/);
    const literal = magic < 0 ? s : s.slice(0, Math.max(0, s.lastIndexOf("/", magic)));
    try {
      out.push(fs.normalizePath(literal === "" ? fs.rootMarker || "/" : literal));
    } catch {
      // not a path this filesystem takes: it cannot have changed anything
    }
  }
  return out;
}

function allowed(change: string, named: readonly string[]): boolean {
  return named.some((n) => change === n || paths.isInside(change, n) || paths.isInside(n, change));
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

const show = (v: unknown): string => {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "fn";
  if (v instanceof AbortSignal) return v.aborted ? "<aborted signal>" : "<signal>";
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return `<${v.byteLength} bytes>`;
  if (v !== null && typeof v === "object" && "protocol" in v && typeof (v as AbstractFileSystem).open === "function") return "<fs>";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof AbortSignal ? "<signal>" : x)) ?? String(v);
  } catch {
    return String(v);
  }
};

/** Run one call against the tree as `before` shows it; returns the tree after it. */
async function check(f: ApiFixture, call: Call, before: Map<string, string>): Promise<Map<string, string>> {
  const args = withLocalSide(call, f);
  const label = `${call.method.name}(${args.map(show).join(", ")})`;
  try {
    await withTimeout(invoke(f.fs, call.method.name, args), label);
  } catch (err) {
    if (!(err instanceof FsError)) throw new Error(`${label} threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    if (!CODES.has(err.code)) throw new Error(`${label} failed with an unknown code ${String(err.code)}`);
  }
  const after = await snapshot(f.fs, f.root);
  const named = namedPaths(f.fs, args);
  const stray = changed(before, after).filter((c) => !allowed(c, named));
  if (stray.length > 0) throw new Error(`${label} changed ${stray.join(", ")}, which it did not name`);
  return after;
}

/** S3 on moto, when the run has it: fewer sequences, each call costing a few requests. */
const S3_RUNS = Math.max(1, Math.round(RUNS / 30));
const s3Fixture = {
  name: "s3 (moto)",
  runs: S3_RUNS,
  make: async (): Promise<ApiFixture> => {
    const bucket = bucketName("props");
    await createBucket(bucket);
    const fs = makeFs({ skipInstanceCache: true });
    return { name: "s3", fs, root: `${bucket}/t`, localFs: scratchLocal(), cleanup: () => fs.close() };
  },
};

const backends = [...FIXTURES.map((x) => ({ ...x, runs: RUNS })), ...(inject("s3Endpoint") ? [s3Fixture] : [])];

for (const { name, make, runs } of backends) {
  describe(`public API properties: ${name}`, () => {
    let f: ApiFixture;
    beforeAll(async () => {
      f = await make();
    });
    afterAll(() => f.cleanup());

    it(`${runs} sequences of 20-40 generated calls: FsErrors only, no hang, nothing unnamed changes`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(callOf(f), { minLength: 20, maxLength: 40 }), async (calls) => {
          await seed(f.fs, f.root);
          let tree = await snapshot(f.fs, f.root);
          for (const call of calls) tree = await check(f, call, tree);
        }),
        { numRuns: runs },
      );
    }, 120_000);
  });
}
