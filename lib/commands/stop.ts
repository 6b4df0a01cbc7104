import { readCluster, writeCluster } from "../farm/cluster.ts";
import { checkStateDir, statePath } from "../core/state_dir.ts";
import type { Context } from "../core/context.ts";
import { DnbError, EXIT_OK } from "../core/errors.ts";
import { say, warn } from "../core/log.ts";

import { endSshMasters, releaseBuilder } from "../farm/release.ts";
import { usageRows, usageText, usageTotals } from "../report/usage.ts";
import { stopWatchdog } from "../farm/lifecycle.ts";
import { restartNixDaemon } from "../nix/apply.ts";
import { describeRestore, restoreSystemFiles } from "../core/system_files.ts";
import type { Files } from "../core/files.ts";

/** Stop's record that it ran; undefined when it has not. */
export function readStopped(files: Files, stateDir: string): { readonly at: string } | undefined {
  const stopped = files.readText(statePath(stateDir, "stopped"));
  return stopped === undefined ? undefined : JSON.parse(stopped);
}

/**
 * `dnb stop` (and `stop-nix-builders`): stop the watchdog, tell every claimed builder it is done,
 * put back every file dnb changed and restart the Nix daemon where one runs. A second stop says so
 * and does nothing.
 */
export async function runStop(stateDir: string, ctx: Context): Promise<number> {
  // Another user's folder (or one they could swap) is refused before anything in it is trusted.
  if (!checkStateDir(ctx, stateDir) || readCluster(ctx.files, stateDir) === undefined) {
    say(ctx, `stop: nothing to do: no coordinator state in ${stateDir}`);
    return EXIT_OK;
  }
  const stopped = readStopped(ctx.files, stateDir);
  if (stopped !== undefined) {
    say(ctx, `stop: already stopped at ${stopped.at}; nothing to do`);
    return EXIT_OK;
  }
  if (await stopWatchdog(ctx, stateDir)) say(ctx, "stop: watchdog stopped");
  // Read after the watchdog has gone: a late joiner it claimed on its way out is on record now.
  const cluster = readCluster(ctx.files, stateDir);
  if (cluster === undefined) return EXIT_OK;
  const ready = cluster.builders.filter((member) => member.state === "ready");
  const releases = new Map(
    await Promise.all(
      ready.map(async (member) => [member.alias, await releaseBuilder(ctx, cluster.settings, member.alias)] as const),
    ),
  );
  const released = ready.filter((member) => releases.get(member.alias)?.released).map((member) => member.alias);
  const unreachable = ready.filter((member) => !releases.get(member.alias)?.released).map((member) => member.alias);
  await endSshMasters(ctx, cluster.settings, cluster.builders.map((member) => member.alias));
  const restore = restoreSystemFiles(ctx.files, stateDir);
  try {
    if (await restartNixDaemon(ctx)) say(ctx, "stop: restarted the Nix daemon");
  } catch (error) {
    warn(ctx, `stop: ${(error as Error).message}`);
  }
  // The final reading comes with `done`; a builder that could not be reached keeps its last heartbeat's.
  const builders = cluster.builders.map((member) =>
    released.includes(member.alias)
      ? { ...member, state: "done" as const, usage: releases.get(member.alias)?.usage ?? member.usage }
      : member
  );
  writeCluster(ctx.files, { ...cluster, builders });
  const at = new Date(ctx.now()).toISOString();
  ctx.files.writeAtomic(statePath(stateDir, "stopped"), JSON.stringify({ at, released, unreachable }) + "\n");
  say(ctx, `stop: released ${released.length > 0 ? released.join(", ") : "no builder"}`);
  say(ctx, `stop: ${describeRestore(restore)}`);
  for (const refused of restore.refused) warn(ctx, `stop: left alone: ${refused}`);
  const rows = usageRows(builders);
  say(ctx, "stop: utilization, as each builder saw it:");
  for (const line of usageText(rows, usageTotals(rows))) say(ctx, `stop:   ${line}`);
  if (unreachable.length > 0) {
    throw new DnbError(`stop: could not reach ${unreachable.join(", ")}`, {
      hint: `its lease ends it within ${cluster.settings.leaseSeconds}s`,
    });
  }
  return EXIT_OK;
}
