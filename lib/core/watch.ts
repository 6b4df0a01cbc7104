/**
 * Processes whose output is read as it comes, line by line (an event stream such as `tailscale debug
 * watch-ipn`), and the process-group kill every runner path shares.
 */

/** A process read line by line until it ends or is stopped. */
export interface WatchSpec {
  readonly argv: readonly string[];
  /** Each line of stdout, without its newline. */
  readonly onLine: (line: string) => void;
  /** A line longer than this ends the watch: a stream is bounded like every other read. */
  readonly maxLineBytes: number;
}

export interface Watched {
  /** Resolves once the process has ended, on its own or stopped. */
  readonly ended: Promise<void>;
  stop(): void;
}

export function killProcessGroup(pid: number): void {
  try {
    // A detached child leads its own process group; a negative pid signals the whole group.
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Starts `spec.argv` with `env` and hands each line of its stdout to `spec.onLine`; stderr is dropped. */
export function watchLines(spec: WatchSpec, env: Record<string, string>): Watched {
  const [program, ...args] = spec.argv;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program ?? "", {
      args,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      detached: true,
    }).spawn();
  } catch {
    // Not found or not runnable: a watch that ended at once, and the caller falls back.
    return { ended: Promise.resolve(), stop: () => {} };
  }
  const stop = () => killProcessGroup(child.pid);
  const ended = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    try {
      for await (const chunk of child.stdout) {
        pending += decoder.decode(chunk, { stream: true });
        for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
          spec.onLine(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
        }
        if (pending.length > spec.maxLineBytes) {
          stop();
          break;
        }
      }
    } catch {
      // The stream broke as the process was stopped.
    }
    await child.status;
  })();
  return { ended, stop };
}
