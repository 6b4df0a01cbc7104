import { DnbError } from "./errors.ts";
import type { Redactor } from "./redact.ts";
import { childEnvironment, isSecretName } from "./child_env.ts";
import { killProcessGroup, type Watched, watchLines, type WatchSpec } from "./watch.ts";
import { startDetached, type StartSpec } from "./detached.ts";

export type { StartSpec };

export type { Watched, WatchSpec };

/** One external command: an argv array (never a shell string), its input and a hard deadline. */
export interface CommandSpec {
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  /** Added to the allow-listed environment every child gets (see childEnvironment). */
  readonly env?: Readonly<Record<string, string>>;
  /** Data for the command's stdin; how dnb passes anything user-controlled to a remote side. */
  readonly stdin?: string;
  readonly cwd?: string;
  /** Bytes of stdout and stderr together past which the command is killed (default DEFAULT_MAX_OUTPUT_BYTES). */
  readonly maxOutputBytes?: number;
}

export interface CommandResult {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** It printed more than its output limit and was killed; stdout and stderr hold what came before. */
  readonly overflowed?: boolean;
}

/** Every external command dnb runs goes through a Runner, so tests can fake it and logs can redact. */
export interface Runner {
  run(spec: CommandSpec): Promise<CommandResult>;
  /** Starts a detached process and returns its pid. */
  start(spec: StartSpec): number;
  /** Starts a process whose stdout is read line by line as it comes; the caller stops it. */
  watch(spec: WatchSpec): Watched;
}

/** Exit code a shell gives a command it cannot find; the runner reports a missing program the same way. */
export const COMMAND_NOT_FOUND = 127;

/** What a local command may print: far more than any of dnb's reads of its own tools, far less than memory. */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** What a peer's answer may be (claim, heartbeat, done, store info, host keys, whois): a few hundred bytes each. */
export const REMOTE_OUTPUT_BYTES = 64 * 1024;

const STDERR_TAIL_LINES = 5;

/** Shell-like rendering of an argv for humans to read; it is never executed. */
export function displayArgv(argv: readonly string[]): string {
  return argv.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

function whatHappened(result: CommandResult): string {
  if (result.overflowed) return "printed more than its output limit and was killed";
  if (result.timedOut) return "timed out and was killed";
  return result.code === COMMAND_NOT_FOUND ? "was not found" : `exited ${result.code}`;
}

/** A command that failed or overran: carries the redacted command line and the tail of its stderr. */
export class CommandError extends DnbError {
  readonly result: CommandResult;

  constructor(result: CommandResult, redactor: Redactor, hint?: string) {
    const tail = result.stderr.slice(-16_384).trim().split("\n").slice(-STDERR_TAIL_LINES).map(plainLine).join(" | ");
    super(redactor.redact(`${displayArgv(result.argv)} ${whatHappened(result)}${tail ? `: ${tail}` : ""}`), { hint });
    this.name = "CommandError";
    this.result = result;
  }
}

/** Whether a command did its job: exit 0 within its deadline and its output limit. */
export function succeeded(result: CommandResult): boolean {
  return result.code === 0 && !result.timedOut && !result.overflowed;
}

/** Control characters, C1 controls, line and paragraph separators and bidirectional overrides. */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const MAX_LINE_CHARS = 300;

/** Another program's words made one plain line: unprintable characters as `?`, at most 300 characters. */
export function plainLine(text: string): string {
  const line = text.slice(0, MAX_LINE_CHARS * 4).replace(UNPRINTABLE, "?");
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}

/** Why a command failed, in one line: that it overran, else its last line on stderr, else its exit code. */
export function failureLine(result: CommandResult): string {
  if (result.overflowed) return "printed more than its output limit";
  if (result.timedOut) return "timed out";
  return plainLine(result.stderr.slice(-16_384).trim().split("\n").pop()?.trim() ?? "") || `exit ${result.code}`;
}

/** Returns the result when the command succeeded, else throws a redacted CommandError. */
export function expectSuccess(result: CommandResult, redactor: Redactor, hint?: string): CommandResult {
  if (!succeeded(result)) throw new CommandError(result, redactor, hint);
  return result;
}

export interface RunnerOptions {
  /** The environment children start from, allow-listed; default: this process's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Drop secret-named variables a command passes explicitly too (default): dnb hands secrets to tailscale
   * through 0600 files, never the environment. Test harnesses that run dnb itself pass its key on purpose.
   */
  readonly withholdSecrets?: boolean;
}

/**
 * Reads one of a child's pipes into `chunks` while the shared byte budget lasts; past it, calls `overflow`.
 * Stops at `deadline` too: a process outside the child's group may hold the pipe open (an ssh master holds
 * the pipes of every session riding it until that session ends), and killing the group does not close it.
 */
async function drain(
  stream: ReadableStream<Uint8Array>,
  budget: { left: number },
  overflow: () => void,
  deadline: AbortSignal,
): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  deadline.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return chunks;
      if (value.length > budget.left) {
        chunks.push(value.subarray(0, Math.max(0, budget.left)));
        budget.left = 0;
        overflow();
        // Not waiting for the end of a stream a grandchild may still hold open.
        await reader.cancel().catch(() => {});
        return chunks;
      }
      budget.left -= value.length;
      chunks.push(value);
    }
  } catch {
    return chunks;
  }
}

function text(chunks: readonly Uint8Array[]): string {
  const decoder = new TextDecoder();
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join("") + decoder.decode();
}

/** The real runner: Deno.Command in its own process group, so a timeout or an overflow kills its children too. */
export class DenoRunner implements Runner {
  readonly #base: Record<string, string>;
  readonly #withholdSecrets: boolean;

  constructor(options: RunnerOptions = {}) {
    this.#base = childEnvironment(options.env ?? Deno.env.toObject());
    this.#withholdSecrets = options.withholdSecrets ?? true;
  }

  /** The allow-listed environment plus what the command passes (secrets withheld unless told otherwise). */
  #env(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    const passed = Object.entries(extra).filter(([name]) => !this.#withholdSecrets || !isSecretName(name));
    return { ...this.#base, ...Object.fromEntries(passed) };
  }

  start(spec: StartSpec): number {
    return startDetached({ ...spec, env: this.#env(spec.env) });
  }

  watch(spec: WatchSpec): Watched {
    return watchLines(spec, this.#env());
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const [program, ...args] = spec.argv;
    if (program === undefined) throw new DnbError("internal: empty argv");
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, {
        args,
        clearEnv: true,
        env: this.#env(spec.env),
        cwd: spec.cwd,
        stdin: spec.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      return { argv: spec.argv, code: COMMAND_NOT_FOUND, stdout: "", stderr: `${program}: not found`, timedOut: false };
    }
    return await collect(child, spec);
  }
}

/** Feeds stdin, reads stdout and stderr within the output limit, and waits for the exit or the deadline. */
async function collect(child: Deno.ChildProcess, spec: CommandSpec): Promise<CommandResult> {
  let timedOut = false;
  let overflowed = false;
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    timedOut = true;
    killProcessGroup(child.pid);
    deadline.abort();
  }, spec.timeoutMs);
  const budget = { left: spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES };
  const overflow = () => {
    overflowed = true;
    killProcessGroup(child.pid);
  };
  try {
    const reading = Promise.all([
      drain(child.stdout, budget, overflow, deadline.signal),
      drain(child.stderr, budget, overflow, deadline.signal),
    ]);
    if (spec.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      // A command that exits without reading its stdin closes the pipe; that is its business, not an error here.
      await writer.write(new TextEncoder().encode(spec.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const [stdout, stderr] = await reading;
    const status = await child.status;
    return { argv: spec.argv, code: status.code, stdout: text(stdout), stderr: text(stderr), timedOut, overflowed };
  } finally {
    clearTimeout(timer);
  }
}
