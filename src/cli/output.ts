/**
 * Output shapes shared by the commands: `--json` is one JSON document (an array of objects),
 * `--jsonl` one object per line; dates are ISO strings. Names in `ls` are relative to the
 * listed directory unless `--full` asks for URLs.
 */
import type { Command } from "commander";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import type { FileInfo } from "../core/types.js";
import type { CliContext } from "./context.js";

export interface JsonFlags {
  json?: boolean;
  jsonl?: boolean;
}

/** Add --json and --jsonl to a command. */
export function jsonOptions(command: Command): Command {
  return command.option("--json", "one JSON document: an array of objects").option("--jsonl", "one JSON object per line");
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, replacer, indent);
}

/** Whether the command was asked for JSON (and not for both shapes at once). */
export function wantsJson(flags: JsonFlags): boolean {
  if (flags.json && flags.jsonl) throw FsError.einval("--json and --jsonl exclude each other");
  return Boolean(flags.json || flags.jsonl);
}

/** Print objects as --json or --jsonl asked. */
export async function printObjects(ctx: CliContext, flags: JsonFlags, objects: readonly object[]): Promise<void> {
  if (flags.jsonl) {
    for (const o of objects) await ctx.out(toJson(o, 0));
  } else {
    await ctx.out(toJson(objects));
  }
}

/** `entry` as `ls` shows it: relative to the listed directory `listed` (a file listed by itself: its base name). */
export function relativeName(entry: string, listed: string): string {
  const dir = listed.replace(/\/+$/, "");
  if (dir !== "" && entry.startsWith(`${dir}/`)) return entry.slice(dir.length + 1);
  if (dir === "" && !entry.includes("://")) return entry.replace(/^\/+/, "");
  const trimmed = entry.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** The URL of a path of `fs` (its protocol put back), as `--full` prints it. */
export function fullName(fs: AbstractFileSystem, info: FileInfo): string {
  return fs.unstripProtocol(info.name);
}
