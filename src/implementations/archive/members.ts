/**
 * An archive's members as stored, and the tree a filesystem shows of them. Member names come
 * from whoever made the archive, so each is checked before it becomes a path: backslashes are
 * separators, a leading `/` or drive letter is dropped, and a name with a `..` segment, a NUL
 * byte or another control character is not listed at all (`members()` still reports it, with the
 * reason).
 */
import type { FileInfo } from "../../core/types.js";

/** What an archive member is. */
export type ArchiveMemberKind = "file" | "directory" | "symlink" | "hardlink" | "other";

/** One member as the archive stores it: what an extractor needs to decide what to write. */
export interface ArchiveMember {
  /** The name as stored (decoded to text), unchanged. */
  rawName: string;
  /** The path the filesystem lists it under; undefined when the name is unsafe and the member is not listed. */
  path: string | undefined;
  /** Why the member is not listed (unsafe name, or a file where a directory must be). */
  problem?: string;
  /** A later member of the same path replaces this one (tar appends; duplicate zip names). */
  shadowed?: boolean;
  /** What the member is. */
  kind: ArchiveMemberKind;
  /** Bytes of content (for a hardlink, of the file it names). */
  size: number;
  /** What a symlink or hardlink points to, as stored (zip keeps a symlink's target in its data: undefined here). */
  linkname?: string;
  /** Its modification time, where the archive records one. */
  mtime?: Date;
  /** Permission bits, where the archive records them. */
  mode?: number;
}

/** The listed path for a stored name, or why it cannot be one. */
export function memberPath(rawName: string): { path: string } | { problem: string } {
  if (rawName.includes("\0")) return { problem: "the name holds a NUL byte" };
  // Paths with control characters are refused everywhere, so such a member could not be addressed.
  if (/[\u0001-\u001f\u007f]/.test(rawName)) return { problem: "the name holds a control character" };
  const segments = rawName
    .replace(/\\/g, "/")
    .replace(/^[A-Za-z]:(?=\/|$)/, "")
    .split("/")
    .filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) return { problem: "the name holds a '..' segment (it would land outside the archive root)" };
  return { path: segments.join("/") };
}

interface Node<E> {
  info: FileInfo;
  entry?: E;
  /** Present for directories. */
  children?: Map<string, Node<E>>;
}

/** A member with the archive-specific data needed to read it. */
export interface IndexedEntry {
  /** The member as stored. */
  member: ArchiveMember;
  /** The entry's info without `name` (the tree sets it). */
  info: Pick<FileInfo, "size" | "type" | "mtime" | "mode" | "islink"> & { [key: string]: unknown };
}

/**
 * Paths to entries, directories implied by member paths. Later members replace earlier ones
 * of the same path; a directory (explicit or implied) wins over a file of the same path.
 */
export class MemberTree<E extends IndexedEntry> {
  private readonly root: Node<E> = { info: { name: "", size: 0, type: "directory" }, children: new Map() };
  readonly entries: readonly E[];
  /** Members not listed because their names are unsafe as paths. */
  readonly refused: ArchiveMember[] = [];

  constructor(entries: readonly E[]) {
    this.entries = entries;
    for (const entry of entries) this.add(entry);
  }

  private add(entry: E): void {
    const m = entry.member;
    const checked = memberPath(m.rawName);
    if ("problem" in checked) {
      m.path = undefined;
      m.problem = checked.problem;
      this.refused.push(m);
      return;
    }
    m.path = checked.path;
    const isDir = m.kind === "directory";
    if (m.path === "") {
      // "./" or "/": the root itself.
      if (!isDir) {
        m.path = undefined;
        m.problem = "the name is empty";
      }
      return;
    }
    const segments = m.path.split("/");
    let dir = this.root;
    for (let i = 0; i < segments.length - 1; i++) {
      const name = segments.slice(0, i + 1).join("/");
      let child = dir.children!.get(segments[i]!);
      if (!child?.children) {
        if (child?.entry) this.displace(child.entry, "a later member needs this path as a directory");
        child = { info: { name, size: 0, type: "directory" }, children: new Map() };
        dir.children!.set(segments[i]!, child);
      }
      dir = child;
    }
    const base = segments[segments.length - 1]!;
    const existing = dir.children!.get(base);
    const info: FileInfo = { ...entry.info, name: m.path };
    if (existing?.children) {
      if (!isDir) {
        m.path = undefined;
        m.problem = "a directory of the same path exists";
        return;
      }
      if (existing.entry) existing.entry.member.shadowed = true;
      existing.info = info;
      existing.entry = entry;
      return;
    }
    if (existing?.entry) existing.entry.member.shadowed = true;
    dir.children!.set(base, isDir ? { info, entry, children: new Map() } : { info, entry });
  }

  private displace(entry: E, problem: string): void {
    entry.member.path = undefined;
    entry.member.problem = problem;
  }

  private node(path: string): Node<E> | undefined {
    if (path === "") return this.root;
    let node: Node<E> | undefined = this.root;
    for (const seg of path.split("/")) {
      node = node.children?.get(seg);
      if (!node) return undefined;
    }
    return node;
  }

  /** The entry's info and its member data (undefined for the root and implied directories). */
  lookup(path: string): { info: FileInfo; entry: E | undefined; isDir: boolean } | undefined {
    const node = this.node(path);
    return node && { info: { ...node.info }, entry: node.entry, isDir: node.children !== undefined };
  }

  /** The children of a directory, sorted by name; undefined when `path` is not a directory. */
  children(path: string): FileInfo[] | undefined {
    const node = this.node(path);
    if (!node?.children) return undefined;
    return [...node.children.keys()].sort().map((k) => ({ ...node.children!.get(k)!.info }));
  }
}
