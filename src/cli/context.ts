/**
 * What every command of one run shares: the streams, the run's abort signal (SIGINT/SIGTERM, a
 * closed stdout), the global flags, the filesystem options checked per URL, the progress bars
 * (so an interrupted run can restore the terminal), and the failures a command reported while
 * going on (cat of many files) that decide the exit code.
 */
import type { AbstractFileSystem } from "../core/abstract.js";
import { FsError } from "../core/errors.js";
import { redactText } from "../core/redact.js";
import { urlToFs } from "../core/url-chain.js";
import { progressBar, type ProgressBar } from "../models/progress.js";
import { combinedExitCode, exitCodeOf } from "./exit-codes.js";
import { println, write, type CliIO } from "./io.js";
import { optionsForUrls, parseStorageOptions } from "./options.js";

export interface GlobalFlags {
  option: string[];
  storageOptions?: string;
  quiet?: boolean;
  progress?: boolean;
}

export interface Resolved {
  fs: AbstractFileSystem;
  path: string;
}

export class CliContext {
  private readonly controller = new AbortController();
  private readonly bars = new Set<ProgressBar>();
  private readonly failures: number[] = [];
  /** Set when stdout's reader went away (EPIPE): the run ends quietly. */
  outputClosed = false;

  constructor(
    readonly io: CliIO,
    private readonly flags: () => GlobalFlags,
  ) {
    io.signal?.addEventListener("abort", () => this.controller.abort(io.signal!.reason), { once: true });
    if (io.signal?.aborted) this.controller.abort(io.signal.reason);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get quiet(): boolean {
    return this.flags().quiet === true;
  }

  /** stdout failed (the reader of the pipe left): stop everything, and end without a message. */
  outputFailed(err: unknown): void {
    if ((err as { code?: string }).code === "EPIPE") this.outputClosed = true;
    this.controller.abort(err);
  }

  /**
   * Filesystem and path for each of a command's URLs, with the `-o` options checked against
   * their layers at once (so a typo fails before anything runs). A trailing "/" is kept: it
   * changes the copy rules.
   */
  async resolveAll(urls: readonly string[]): Promise<Resolved[]> {
    const flags = this.flags();
    const optionsOf = await optionsForUrls(parseStorageOptions(flags.option, flags.storageOptions), urls);
    return Promise.all(
      urls.map(async (url) => {
        const { fs, path } = await urlToFs(url, optionsOf(url));
        return { fs, path: url.endsWith("/") && !path.endsWith("/") ? `${path}/` : path };
      }),
    );
  }

  async resolve(url: string): Promise<Resolved> {
    return (await this.resolveAll([url]))[0]!;
  }

  /** The `-o` options for `url`'s chain, checked against its layers (for callers that build their own filesystem). */
  async optionsFor(url: string): Promise<Record<string, unknown>> {
    const flags = this.flags();
    return (await optionsForUrls(parseStorageOptions(flags.option, flags.storageOptions), [url]))(url);
  }

  /** Whether progress may be shown at all (not with -q or --no-progress); a batch then picks a bar or a summary line itself. */
  get progressAllowed(): boolean {
    const flags = this.flags();
    return !flags.quiet && flags.progress !== false;
  }

  /** Whether a progress bar is drawn: not with -q or --no-progress; without a terminal only with --progress. */
  get wantsProgress(): boolean {
    const flags = this.flags();
    return !flags.quiet && (flags.progress ?? this.io.progress ?? Boolean((this.io.stderr as { isTTY?: boolean }).isTTY));
  }

  /** A progress bar for a transfer, unless -q or --no-progress (or no terminal without --progress). */
  async progress(label: string): Promise<ProgressBar | undefined> {
    const bar = progressBar(label, this.wantsProgress);
    if (!bar) return undefined;
    this.bars.add(bar);
    await bar.ready;
    return bar;
  }

  /** Stop a bar (and forget it); with no argument every bar still drawing (cursor and line wrap restored). */
  stopProgress(bar?: ProgressBar): void {
    for (const b of bar ? [bar] : [...this.bars]) {
      b.stop();
      this.bars.delete(b);
    }
  }

  async out(line: string): Promise<void> {
    await println(this.io.stdout, line, this.signal);
  }

  async bytes(data: Uint8Array | string): Promise<void> {
    await write(this.io.stdout, data, this.signal);
  }

  /** An informational line on stderr (what was removed, a summary); none with -q. */
  note(line: string): void {
    if (!this.quiet) this.io.stderr.write(`${redactText(line)}\n`);
  }

  /** Report one failure and go on (the command goes on with its other operands). */
  fail(err: unknown): void {
    if (this.signal.aborted) throw err; // an interrupted run stops here, not at the next operand
    this.failures.push(exitCodeOf(err));
    this.io.stderr.write(`fsspec-ts: ${describeError(err)}\n`);
  }

  /** The exit code of the failures reported with fail() (0 when there were none). */
  get exitCode(): number {
    return combinedExitCode(this.failures);
  }
}

export function describeError(err: unknown): string {
  return redactText(err instanceof FsError ? err.message : ((err as Error)?.stack ?? String(err)));
}
