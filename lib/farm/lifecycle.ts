/**
 * The processes and commands a coordinator leaves behind: the watchdog (started, found, stopped)
 * and `stop-nix-builders`, the name users already know for `dnb stop`.
 */
import { dirname } from "node:path";
import type { Config } from "../config/config.ts";
import { STOP_ALIAS } from "../config/names.ts";
import type { Context } from "../core/context.ts";
import { pathExists, readIfExists, recordCreated, removeIfPresent, writeFileAtomic } from "../core/files.ts";
import { warn } from "../core/log.ts";
import { statePath } from "../core/state_dir.ts";

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

export function watchdogPid(stateDir: string): number | undefined {
  const text = readIfExists(statePath(stateDir, "watchdogPid"));
  const pid = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function watchdogRunning(stateDir: string): boolean {
  const pid = watchdogPid(stateDir);
  return pid !== undefined && alive(pid);
}

/** Stops a running watchdog (SIGTERM, then SIGKILL after 5 s) and forgets its pid. */
export async function stopWatchdog(stateDir: string): Promise<boolean> {
  const pid = watchdogPid(stateDir);
  removeIfPresent(statePath(stateDir, "watchdogPid"));
  if (pid === undefined || !alive(pid)) return false;
  Deno.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && alive(pid); waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) Deno.kill(pid, "SIGKILL");
  return true;
}

/** Installs `stop-nix-builders`: a link next to a compiled dnb, or a small script in the state folder when run from source. */
export function installStopCommand(config: Config, ctx: Context): string | undefined {
  const self = ctx.selfCommand;
  const compiled = self.length === 1;
  const path = compiled
    ? `${dirname(self[0]!)}/${STOP_ALIAS}`
    : `${statePath(config.stateDir, "stopCommand")}/${STOP_ALIAS}`;
  if (pathExists(path)) return path;
  try {
    if (compiled) {
      Deno.symlinkSync(self[0]!, path);
    } else {
      const quoted = [...self, "stop", "--state-dir", config.stateDir].map((arg) =>
        `'${arg.replaceAll("'", `'\\''`)}'`
      );
      writeFileAtomic(path, `#!/bin/sh\nexec ${quoted.join(" ")} "$@"\n`, 0o755);
    }
    recordCreated(config.stateDir, path);
    return path;
  } catch (error) {
    warn(ctx, `could not install ${path}: ${(error as Error).message}; run dnb stop instead`);
    return undefined;
  }
}

/** Starts the watchdog: a detached `dnb watchdog` that renews leases, drops lost builders and claims late ones. */
export function startWatchdog(config: Config, ctx: Context): number {
  const pid = ctx.runner.start({
    argv: [...ctx.selfCommand, "watchdog", "--state-dir", config.stateDir],
    logFile: statePath(config.stateDir, "watchdogLog"),
  });
  writeFileAtomic(statePath(config.stateDir, "watchdogPid"), `${pid}\n`);
  return pid;
}
