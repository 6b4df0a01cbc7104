import { DnbError } from "./errors.ts";
import type { Redactor } from "./redact.ts";

/** One external command: an argv array (never a shell string), its input and a hard deadline. */
export interface CommandSpec {
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Data for the command's stdin; how dnb passes anything user-controlled to a remote side. */
  readonly stdin?: string;
  readonly cwd?: string;
}

export interface CommandResult {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** A long-lived process (a daemon) that outlives dnb; its output goes to a log file. */
export interface StartSpec {
  readonly argv: readonly string[];
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Every external command dnb runs goes through a Runner, so tests can fake it and logs can redact. */
export interface Runner {
  run(spec: CommandSpec): Promise<CommandResult>;
  /** Starts a detached process and returns its pid. */
  start(spec: StartSpec): number;
}

/** Exit code a shell gives a command it cannot find; the runner reports a missing program the same way. */
export const COMMAND_NOT_FOUND = 127;

const STDERR_TAIL_LINES = 5;

/** Shell-like rendering of an argv for humans to read; it is never executed. */
export function displayArgv(argv: readonly string[]): string {
  return argv.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

/** A command that failed or overran: carries the redacted command line and the tail of its stderr. */
export class CommandError extends DnbError {
  readonly result: CommandResult;

  constructor(result: CommandResult, redactor: Redactor, hint?: string) {
    const what = result.timedOut
      ? "timed out and was killed"
      : result.code === COMMAND_NOT_FOUND
      ? "was not found"
      : `exited ${result.code}`;
    const tail = result.stderr.trim().split("\n").slice(-STDERR_TAIL_LINES).join(" | ");
    super(redactor.redact(`${displayArgv(result.argv)} ${what}${tail ? `: ${tail}` : ""}`), { hint });
    this.name = "CommandError";
    this.result = result;
  }
}

/** Whether a command did its job: exit 0 within its deadline. */
export function succeeded(result: CommandResult): boolean {
  return result.code === 0 && !result.timedOut;
}

/** Why a command failed, in one line: that it overran, else its last line on stderr, else its exit code. */
export function failureLine(result: CommandResult): string {
  if (result.timedOut) return "timed out";
  return result.stderr.trim().split("\n").pop()?.trim() || `exit ${result.code}`;
}

/** Returns the result when the command succeeded, else throws a redacted CommandError. */
export function expectSuccess(result: CommandResult, redactor: Redactor, hint?: string): CommandResult {
  if (!succeeded(result)) throw new CommandError(result, redactor, hint);
  return result;
}

/** The real runner: Deno.Command in its own process group, so a timeout kills the command's children too. */
export class DenoRunner implements Runner {
  start(spec: StartSpec): number {
    return startDetached(spec);
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const [program, ...args] = spec.argv;
    if (program === undefined) throw new DnbError("internal: empty argv");
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, {
        args,
        env: spec.env ? { ...spec.env } : undefined,
        cwd: spec.cwd,
        stdin: spec.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return {
          argv: spec.argv,
          code: COMMAND_NOT_FOUND,
          stdout: "",
          stderr: `${program}: not found`,
          timedOut: false,
        };
      }
      throw error;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killProcessGroup(child.pid);
    }, spec.timeoutMs);
    try {
      if (spec.stdin !== undefined) {
        const writer = child.stdin.getWriter();
        // A command that exits without reading its stdin closes the pipe; that is its business, not an error here.
        await writer.write(new TextEncoder().encode(spec.stdin)).catch(() => {});
        await writer.close().catch(() => {});
      }
      const output = await child.output();
      const decoder = new TextDecoder();
      return {
        argv: spec.argv,
        code: output.code,
        stdout: decoder.decode(output.stdout),
        stderr: decoder.decode(output.stderr),
        timedOut,
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts a detached daemon in its own session; `sh` only redirects its output, the argv is passed as is. */
export function startDetached(spec: StartSpec): number {
  const child = new Deno.Command("sh", {
    args: ["-c", 'log=$1; shift; exec "$@" >>"$log" 2>&1', "sh", spec.logFile, ...spec.argv],
    env: spec.env ? { ...spec.env } : undefined,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  // dnb may exit while the daemon runs on (the coordinator's tailscaled serves the user's builds).
  child.unref();
  return child.pid;
}

function killProcessGroup(pid: number): void {
  try {
    // A detached child leads its own process group; a negative pid signals the whole group.
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
