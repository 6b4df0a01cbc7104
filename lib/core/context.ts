import type { MachineFacts } from "./facts.ts";
import type { Runner } from "./exec.ts";
import type { Redactor } from "./redact.ts";

/** Everything a command may touch, handed in by main.ts; tests hand in fakes. */
export interface Context {
  readonly runner: Runner;
  readonly redactor: Redactor;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Standard output, for results (plans, status). */
  readonly out: (text: string) => void;
  /** Standard error, for progress and problems; one call per line. */
  readonly err: (line: string) => void;
  readonly readTextFile: (path: string) => string;
  readonly fileExists: (path: string) => boolean;
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
