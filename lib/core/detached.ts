/** Daemons dnb leaves running (tailscaled, the watchdog, ssh masters): detached, their output to a log file. */

/** A long-lived process (a daemon) that outlives dnb; its output goes to a log file. */
export interface StartSpec {
  readonly argv: readonly string[];
  readonly logFile: string;
  /** Added to the allow-listed environment, as for run. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts a detached daemon in its own session; `sh` only redirects its output, the argv is passed as is. */
export function startDetached(spec: StartSpec): number {
  const child = new Deno.Command("sh", {
    args: ["-c", 'log=$1; shift; exec "$@" >>"$log" 2>&1', "sh", spec.logFile, ...spec.argv],
    clearEnv: spec.env !== undefined,
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
