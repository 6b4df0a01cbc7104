import type { MachineFacts } from "./facts.ts";
import type { Runner } from "./exec.ts";
import type { Files } from "./files.ts";
import type { Redactor } from "./redact.ts";

/** Other processes, by pid: the watchdog and the daemons dnb started. */
export interface Processes {
  /** Whether the process exists (a zombie still does). */
  alive(pid: number): boolean;
  /** Sends a signal; a process that is already gone is not an error. */
  signal(pid: number, signal: "SIGTERM" | "SIGKILL"): void;
}

/** What the machine says about itself. */
export interface Host {
  readonly uid: () => number;
  readonly cores: () => number;
  /** Bytes. */
  readonly memory: () => { readonly total: number; readonly available: number };
  /** The one-minute load average. */
  readonly load: () => number;
}

/** Everything a command may touch, handed in by main.ts; tests hand in fakes. */
export interface Context {
  readonly runner: Runner;
  readonly redactor: Redactor;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Standard output, for results (plans, status). */
  readonly out: (text: string) => void;
  /** Standard error, for progress and problems; one call per line. */
  readonly err: (line: string) => void;
  /** Every file dnb reads or writes. */
  readonly files: Files;
  readonly processes: Processes;
  readonly host: Host;
  /** HTTP, for the one request dnb makes itself: GitHub's OIDC token for a keyless join. */
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly gatherFacts: () => MachineFacts;
  readonly randomSuffix: () => string;
  readonly platform: { readonly os: string; readonly arch: string };
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** The argv that runs this dnb again (the binary, or deno run … main.ts from source). */
  readonly selfCommand: readonly string[];
  /** Calls `handler` on SIGINT/SIGTERM; returns a function that stops listening. */
  readonly onSignal: (handler: (signal: "SIGINT" | "SIGTERM") => void) => () => void;
}
