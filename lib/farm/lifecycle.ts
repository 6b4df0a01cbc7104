/**
 * The processes and commands a coordinator leaves behind: the watchdog (started, found, stopped)
 * and `stop-nix-builders`, the name users already know for `dnb stop`.
 */
import { dirname, normalize } from "node:path";
import type { Config } from "../config/config.ts";
import { STOP_ALIAS } from "../config/names.ts";
import type { Context } from "../core/context.ts";
import type { Files } from "../core/files.ts";
import { recordCreated } from "../core/system_files.ts";
import { warn } from "../core/log.ts";
import { statePath } from "../core/state_dir.ts";
import { isOwnProcess } from "../core/own_process.ts";

export function watchdogPid(files: Files, stateDir: string): number | undefined {
  const text = files.readText(statePath(stateDir, "watchdogPid"));
  const pid = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** How the watchdog's command line ends: `… watchdog --state-dir <the folder>` (startWatchdog's argv). */
export function isWatchdogOf(stateDir: string): (commandLine: string) => boolean {
  const same = (path: string) => normalize(`${path}/`);
  return (commandLine) => {
    const given = / watchdog --state-dir (\S+)$/.exec(commandLine)?.[1];
    return given !== undefined && same(given) === same(stateDir);
  };
}

/** Whether the pid file names a running watchdog of this state folder (not a process that got its pid since). */
export async function watchdogRunning(ctx: Context, stateDir: string): Promise<boolean> {
  const pid = watchdogPid(ctx.files, stateDir);
  return pid !== undefined && await isOwnProcess(ctx, pid, isWatchdogOf(stateDir));
}

/**
 * Stops a running watchdog (SIGTERM, then SIGKILL after 5 s) and forgets its pid. A pid that is
 * not this folder's watchdog (gone, reused, or never dnb's) is left alone.
 */
export async function stopWatchdog(ctx: Context, stateDir: string): Promise<boolean> {
  const pid = watchdogPid(ctx.files, stateDir);
  ctx.files.remove(statePath(stateDir, "watchdogPid"));
  const ours = () => pid !== undefined && isOwnProcess(ctx, pid, isWatchdogOf(stateDir));
  if (pid === undefined || !(await ours())) return false;
  ctx.processes.signal(pid, "SIGTERM");
  for (let waited = 0; waited < 5000 && ctx.processes.alive(pid); waited += 100) await ctx.sleep(100);
  if (await ours()) ctx.processes.signal(pid, "SIGKILL");
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
