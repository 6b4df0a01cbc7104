/**
 * The processes and commands a coordinator leaves behind: the watchdog (started, found, stopped)
 * and `stop-nix-builders`, the name users already know for `dnb stop`.
 */
import { dirname } from "node:path";
import type { Config } from "../config/config.ts";
import { STOP_ALIAS } from "../config/names.ts";
import type { Context } from "../core/context.ts";
import type { Files } from "../core/files.ts";
import { recordCreated } from "../core/system_files.ts";
import { warn } from "../core/log.ts";
import { statePath } from "../core/state_dir.ts";

export function watchdogPid(files: Files, stateDir: string): number | undefined {
  const text = files.readText(statePath(stateDir, "watchdogPid"));
  const pid = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function watchdogRunning(ctx: Context, stateDir: string): boolean {
  const pid = watchdogPid(ctx.files, stateDir);
  return pid !== undefined && ctx.processes.alive(pid);
}

/** Stops a running watchdog (SIGTERM, then SIGKILL after 5 s) and forgets its pid. */
export async function stopWatchdog(ctx: Context, stateDir: string): Promise<boolean> {
  const pid = watchdogPid(ctx.files, stateDir);
  ctx.files.remove(statePath(stateDir, "watchdogPid"));
  if (pid === undefined || !ctx.processes.alive(pid)) return false;
  ctx.processes.signal(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && ctx.processes.alive(pid); waited += 100) await ctx.sleep(100);
  if (ctx.processes.alive(pid)) ctx.processes.signal(pid, "SIGKILL");
  return true;
}

/** Installs `stop-nix-builders`: a link next to a compiled dnb, or a small script in the state folder when run from source. */
export function installStopCommand(config: Config, ctx: Context): string | undefined {
  const self = ctx.selfCommand;
  const compiled = self.length === 1;
  const path = compiled
    ? `${dirname(self[0]!)}/${STOP_ALIAS}`
    : `${statePath(config.stateDir, "stopCommand")}/${STOP_ALIAS}`;
  if (ctx.files.exists(path)) return path;
  try {
    if (compiled) {
      ctx.files.symlink(self[0]!, path);
    } else {
      const quoted = [...self, "stop", "--state-dir", config.stateDir].map((arg) =>
        `'${arg.replaceAll("'", `'\\''`)}'`
      );
      ctx.files.writeAtomic(path, `#!/bin/sh\nexec ${quoted.join(" ")} "$@"\n`, 0o755);
    }
    recordCreated(ctx.files, config.stateDir, path);
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
  ctx.files.writeAtomic(statePath(config.stateDir, "watchdogPid"), `${pid}\n`);
  return pid;
}
