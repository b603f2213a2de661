/**
 * Argument checking, table-driven: every parameter of every public method gets each wrong
 * value of its kind, every option a wrong value and three misspellings of its name. Each call
 * must be EINVAL naming the argument (or the option, with the closest known name for an
 * unknown one) and must leave the tree as it was. On memory, the local disk, dir over memory
 * and a cache layer over memory.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsError } from "../../src/index.js";
import {
  API,
  FIXTURES,
  OPTION_VALUES,
  WRONG,
  baseOptions,
  changed,
  invoke,
  misspellingsOf,
  seed,
  snapshot,
  validArg,
  type ApiFixture,
  type ApiMethod,
} from "../support/public-api.js";

const show = (v: unknown): string => {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "function") return "fn";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/** The seeded tree as the fixture lists it: every call is compared with it. */
const seeded = new WeakMap<ApiFixture, Map<string, string>>();

/** What is wrong with the outcome of a call that should be EINVAL mentioning `mention`. */
async function problemWith(f: ApiFixture, method: string, args: unknown[], mention: string): Promise<string | undefined> {
  const before = seeded.get(f)!;
  let problem: string | undefined;
  try {
    await invoke(f.fs, method, args);
    problem = "was accepted";
  } catch (err) {
    if (!(err instanceof FsError)) problem = `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`;
    else if (err.code !== "EINVAL") problem = `was ${err.code}: ${err.message}`;
    else if (!err.message.includes(mention)) problem = `EINVAL without '${mention}': ${err.message}`;
  }
  const diff = changed(before, await snapshot(f.fs, f.root));
  if (diff.length > 0) {
    problem = `${problem ?? "EINVAL"}, and changed ${diff.join(", ")}`;
    await seed(f.fs, f.root);
  }
  return problem && `${method}(${args.map(show).join(", ")}) ${problem}`;
}

function validArgs(m: ApiMethod, f: ApiFixture): unknown[] {
  return m.args.map((a) => ("valid" in a ? a.valid : a.kind === "options" ? baseOptions(m.name, f) : validArg(a.kind, f)));
}

for (const { name, make } of FIXTURES) {
  describe(`wrong arguments are EINVAL naming them, and change nothing: ${name}`, () => {
    let f: ApiFixture;
    beforeAll(async () => {
      f = await make();
      await seed(f.fs, f.root);
      seeded.set(f, await snapshot(f.fs, f.root));
    });
    afterAll(() => f.cleanup());

    for (const m of API) {
      it(`${m.name}: wrong types and values of each parameter`, async () => {
        const problems: string[] = [];
        for (const [i, arg] of m.args.entries()) {
          for (const wrong of WRONG[arg.kind]) {
            if (wrong === undefined && arg.optional) continue;
            const args = validArgs(m, f);
            args[i] = wrong;
            const problem = await problemWith(f, m.name, args, arg.name);
            if (problem) problems.push(problem);
          }
        }
        expect(problems).toEqual([]);
      });

      if (!m.options) continue;
      const optionsAt = m.args.findIndex((a) => a.kind === "options");

      it(`${m.name}: wrong option values name the option`, async () => {
        const problems: string[] = [];
        for (const option of m.options!) {
          for (const wrong of (m.own?.[option] ?? OPTION_VALUES[option]!).wrong) {
            const args = validArgs(m, f);
            args[optionsAt] = { ...baseOptions(m.name, f), [option]: wrong };
            const problem = await problemWith(f, m.name, args, `'${option}'`);
            if (problem) problems.push(problem);
          }
        }
        expect(problems).toEqual([]);
      });

      it(`${m.name}: misspelled options are refused with the closest known name`, async () => {
        const problems: string[] = [];
        for (const option of m.options!) {
          const value = (m.own?.[option] ?? OPTION_VALUES[option]!).valid[0] ?? 1;
          for (const typo of misspellingsOf(option)) {
            const args = validArgs(m, f);
            args[optionsAt] = { ...baseOptions(m.name, f), [typo]: value };
            const problem = await problemWith(f, m.name, args, `did you mean '${option}'`);
            if (problem) problems.push(problem);
          }
        }
        expect(problems).toEqual([]);
      });
    }
  });
}
