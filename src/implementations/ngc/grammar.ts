/**
 * The `ngc://` grammar as pure functions:
 *
 *   ngc://models/[<org>/[<team>/]]<name>@<version>[/<path in the package>]
 *
 * `name`, `org` and `team` are `[\w-]+`, `version` is `[A-Za-z0-9.]+`. A name this backend
 * hands out is the canonical form without the protocol (`models/org/team/name@1.0/a/b`), so
 * `normalizePath(unstripProtocol(name)) === name`.
 */
import { FsError } from "../../core/errors.js";

/** One model version and a path inside it ("" for the version itself). */
export interface NgcPath {
  /** The org, when the path names one (public NVIDIA models have none). */
  org?: string;
  /** The team within the org, when the path names one. */
  team?: string;
  /** The model's name. */
  name: string;
  /** The model version. */
  version: string;
  /** `/`-separated, no leading or trailing slash, no `.` or `..` segments; "" is the package root. */
  path: string;
}

const WORD = /^[\w-]+$/;
const VERSION = /^[A-Za-z0-9.]+$/;
const EXAMPLE = "ngc://models/[<org>/[<team>/]]<name>@<version>[/<path>]";

function invalid(why: string, input: string): FsError {
  return FsError.einval(`not an NGC model path (${why}); expected ${EXAMPLE}`, input);
}

/**
 * Parse a path with or without `ngc://` (or `ngc::`). Repeated slashes and `.` segments of the
 * path in the package are dropped and `..` is resolved inside the package; anything that does
 * not fit the grammar, or climbs out of the package, is EINVAL.
 */
export function parseNgcPath(input: string): NgcPath {
  if (typeof input !== "string") throw FsError.einval(`path must be a string, got ${typeof input}`);
  const rest = input.replace(/^ngc(:\/\/|::)/i, "");
  const segments = rest.split("/");
  if (segments[0] !== "models") throw invalid("it must start with 'models/'", input);
  const at = segments.findIndex((s) => s.includes("@"));
  if (at < 0) throw invalid("no '<name>@<version>'", input);
  const owners = segments.slice(1, at);
  if (owners.length > 2) throw invalid("at most an org and a team come before the name", input);
  for (const owner of owners) if (!WORD.test(owner)) throw invalid(`bad org or team '${owner}'`, input);
  const spec = segments[at]!;
  const sep = spec.indexOf("@");
  const name = spec.slice(0, sep);
  const version = spec.slice(sep + 1);
  if (!WORD.test(name)) throw invalid(`bad model name '${name}'`, input);
  if (!VERSION.test(version)) throw invalid(`bad version '${version}'`, input);
  const inside: string[] = [];
  for (const seg of segments.slice(at + 1)) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (inside.length === 0) throw invalid("'..' leaves the package", input);
      inside.pop();
      continue;
    }
    inside.push(seg);
  }
  const out: NgcPath = { name, version, path: inside.join("/") };
  if (owners[0] !== undefined) out.org = owners[0];
  if (owners[1] !== undefined) out.team = owners[1];
  return out;
}

/** The package part: `models/[org/[team/]]name@version`. */
export function packageName(p: Pick<NgcPath, "org" | "team" | "name" | "version">): string {
  return ["models", p.org, p.team, `${p.name}@${p.version}`].filter((s) => s !== undefined).join("/");
}

/** The canonical name (no protocol) of a parsed path. */
export function formatNgcPath(p: NgcPath): string {
  const pkg = packageName(p);
  return p.path === "" ? pkg : `${pkg}/${p.path}`;
}
