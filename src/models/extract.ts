/**
 * Extracting a zip or tar (plain or gzip) archive into an empty folder on the local disk,
 * refusing any member that could land outside it. Every member is checked before anything is
 * written; one unsafe member refuses the whole archive (EACCES naming it). The folder gets only
 * regular files and directories: a symlink or hardlink whose target is a file of the archive
 * becomes a copy of that file, and one pointing anywhere else refuses the archive.
 */
import { posix } from "node:path";
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError, isFsError, throwIfAborted } from "../core/errors.js";
import { LocalFileSystem } from "../implementations/local.js";
import { TarFileSystem } from "../implementations/tar.js";
import { ZipFileSystem } from "../implementations/zip.js";
import type { ArchiveMember } from "../implementations/archive/members.js";

/** The archive formats `extractArchive` reads. */
export type ArchiveFormat = "zip" | "tar";

/** What `extractArchive` extracts, and where. */
export interface ExtractJob {
  /** The filesystem holding the archive and the folder: a LocalFileSystem. */
  fs: AbstractFileSystem;
  /** The archive's path on `fs`. */
  archive: string;
  /** An empty folder the members are written under. */
  into: string;
  /** Stops the extraction: EABORT. */
  signal?: AbortSignal;
  /** Default: zip when the archive starts like one (or is named `.zip`), else tar (plain or gzip). */
  format?: ArchiveFormat;
}

/** What an extraction wrote. */
export interface Extracted {
  /** Files written. */
  files: number;
  /** Bytes written. */
  bytes: number;
}

const CHUNK = 4 * 2 ** 20;
/** Bits of a member's mode an extracted file keeps: permissions only (no setuid, setgid, sticky). */
const PERMISSION_BITS = 0o777;

/** Why a stored name would not land inside the folder, if it would not. */
function unsafeName(raw: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(raw)) return "its name holds a control character";
  if (raw.includes("\\")) return "its name holds a backslash";
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return "its name is an absolute path";
  if (raw.split("/").includes("..")) return "its name climbs out with '..'";
  return undefined;
}

/** A link target that leaves the archive however the links around it resolve. */
function leavingTarget(target: string): boolean {
  return target.startsWith("/") || target.startsWith("\\") || /^[A-Za-z]:/.test(target) || target.includes("\0");
}

async function detectFormat(fs: AbstractFileSystem, archive: string): Promise<ArchiveFormat> {
  const head = await fs.catFile(archive, 0, 4);
  if (head[0] === 0x50 && head[1] === 0x4b) return "zip"; // "PK": a local header or an empty archive's end record
  return archive.toLowerCase().endsWith(".zip") ? "zip" : "tar";
}

function refuse(member: ArchiveMember, why: string, cause?: unknown): FsError {
  return new FsError("EACCES", `archive member '${member.rawName}' cannot be extracted safely: ${why}; nothing was extracted`, { path: member.rawName, cause });
}

/**
 * Why a link member cannot become a copy of a file of the archive, if it cannot. The archive
 * filesystem follows links inside the archive only, so what it opens is a file of it.
 */
async function linkProblem(archive: ZipFileSystem | TarFileSystem, m: ArchiveMember): Promise<{ why: string; cause?: unknown } | undefined> {
  try {
    if (m.kind === "hardlink" && (await archive.info(m.path!)).type !== "file") return { why: `it links to '${m.linkname}', which is no file of the archive` };
    await (await archive.open(m.path!)).close();
    return undefined;
  } catch (cause) {
    if (isFsError(cause, "EACCES")) return { why: "it links outside the archive", cause };
    if (isFsError(cause, "EISDIR")) return { why: "it links to a directory", cause };
    if (isFsError(cause, "ENOENT")) return { why: "it links to no member of the archive", cause };
    throw cause;
  }
}

/**
 * Check every member: the plan of directories and files to write (links resolved to the file
 * they name inside the archive), or EACCES for the first member that is unsafe.
 */
async function plan(archive: ZipFileSystem | TarFileSystem, members: ArchiveMember[]): Promise<{ dirs: string[]; files: ArchiveMember[] }> {
  const dirs: string[] = [];
  const files: ArchiveMember[] = [];
  for (const m of members) {
    const why = unsafeName(m.rawName);
    if (why) throw refuse(m, why);
    if (m.path === undefined) throw refuse(m, m.problem ?? "it has no path");
    if (m.shadowed || m.path === "") continue; // a later member of the same path wins; "./" is the folder itself
    if (m.kind === "directory") {
      dirs.push(m.path);
      continue;
    }
    if (m.kind === "other") throw new FsError("ENOTSUP", `archive member '${m.rawName}' is not a file, directory or link (a device or FIFO); nothing was extracted`, { path: m.rawName });
    if ((m.kind === "symlink" || m.kind === "hardlink") && m.linkname !== undefined && (leavingTarget(m.linkname) || (m.kind === "hardlink" && unsafeName(m.linkname)))) {
      throw refuse(m, `it links to '${m.linkname}', outside the archive`);
    }
    if (m.kind !== "file") {
      const problem = await linkProblem(archive, m);
      if (problem) throw refuse(m, problem.why, problem.cause);
    }
    files.push(m);
  }
  return { dirs, files };
}

/** Extract `job.archive` under `job.into`; see the module comment for what is refused. */
export async function extractArchive(job: ExtractJob): Promise<Extracted> {
  if (!(job.fs instanceof LocalFileSystem)) throw FsError.enotsup("archives are extracted on the local disk", job.archive);
  const disk = job.fs.fs;
  const format = job.format ?? (await detectFormat(job.fs, job.archive));
  const options = { fo: job.archive, fs: job.fs, skipInstanceCache: true };
  const archive = format === "zip" ? new ZipFileSystem(options) : new TarFileSystem(options);
  try {
    const { dirs, files } = await plan(archive, await archive.members());
    const target = (p: string) => posix.join(job.into, p);
    for (const d of dirs.sort()) await disk.mkdir(target(d), { recursive: true });
    let bytes = 0;
    for (const m of files) {
      throwIfAborted(job.signal, job.archive);
      const dest = target(m.path!);
      await disk.mkdir(posix.dirname(dest), { recursive: true });
      const mode = ((m.mode ?? 0o644) & PERMISSION_BITS) | 0o600;
      const out = await disk.open(dest, "wx", mode);
      try {
        await using file = await archive.open(m.path!, "rb", { cacheType: "none", blockSize: CHUNK, signal: job.signal });
        for (;;) {
          const data = await file.read(CHUNK);
          if (data.byteLength === 0) break;
          let done = 0;
          while (done < data.byteLength) done += (await out.write(data, done, data.byteLength - done)).bytesWritten;
          bytes += data.byteLength;
        }
      } finally {
        await out.close();
      }
      if (m.mtime instanceof Date && Number.isFinite(m.mtime.getTime())) await disk.utimes(dest, m.mtime, m.mtime);
    }
    return { files: files.length, bytes };
  } finally {
    await archive.close();
  }
}
