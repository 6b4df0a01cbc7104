import { type Cluster, readCluster, writeCluster } from "../farm/cluster.ts";
import type { Context } from "../core/context.ts";
import { DnbError, EXIT_FAILURE, EXIT_OK } from "../core/errors.ts";
import { describeRestore, readIfExists, restoreSystemFiles, writeFileAtomic } from "../core/files.ts";
import { say, warn } from "../core/log.ts";

import { releaseBuilder } from "../farm/release.ts";
import { leaveTailnet, readSession } from "../tailnet/session.ts";
import { usageMarkdown, usageRows, usageText, usageTotals } from "../report/usage.ts";
import { writeSummary } from "../core/actions.ts";

import { restartNixDaemon } from "../nix/apply.ts";
import { statePath } from "../core/state_dir.ts";
import { stopWatchdog, watchdogPid, watchdogRunning } from "../farm/lifecycle.ts";

/**
 * `dnb stop` (and `stop-nix-builders`): stop the watchdog, tell every claimed builder it is done,
 * put back every file dnb changed and restart the Nix daemon where one runs. A second stop says so
 * and does nothing.
 */
export async function runStop(stateDir: string, ctx: Context): Promise<number> {
  const cluster = readCluster(stateDir);
  if (cluster === undefined) {
    say(ctx, `stop: nothing to do: no coordinator state in ${stateDir}`);
    return EXIT_OK;
  }
  const stopped = readIfExists(statePath(stateDir, "stopped"));
  if (stopped !== undefined) {
    say(ctx, `stop: already stopped at ${(JSON.parse(stopped) as { at: string }).at}; nothing to do`);
    return EXIT_OK;
  }
  if (await stopWatchdog(stateDir)) say(ctx, "stop: watchdog stopped");
  const ready = cluster.builders.filter((member) => member.state === "ready");
  const releases = new Map(
    await Promise.all(
      ready.map(async (member) => [member.alias, await releaseBuilder(ctx, cluster.settings, member.alias)] as const),
    ),
  );
  const released = ready.filter((member) => releases.get(member.alias)?.released).map((member) => member.alias);
  const unreachable = ready.filter((member) => !releases.get(member.alias)?.released).map((member) => member.alias);
  const restore = restoreSystemFiles(stateDir);
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
  writeCluster({ ...cluster, builders });
  const at = new Date(ctx.now()).toISOString();
  writeFileAtomic(statePath(stateDir, "stopped"), JSON.stringify({ at, released, unreachable }) + "\n");
  say(ctx, `stop: released ${released.length > 0 ? released.join(", ") : "no builder"}`);
  say(ctx, `stop: ${describeRestore(restore)}`);
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

/**
 * `dnb post`, the action's post step on success, failure and cancel: stop if it has not run, then
 * log out a node dnb logged in. Teardown hiccups are warnings; it always exits 0.
 */
export async function runPost(stateDir: string, ctx: Context): Promise<number> {
  if (readCluster(stateDir) !== undefined && readIfExists(statePath(stateDir, "stopped")) === undefined) {
    try {
      await runStop(stateDir, ctx);
    } catch (error) {
      warn(ctx, `post: ${(error as Error).message}`);
    }
  } else {
    say(ctx, readCluster(stateDir) ? "post: stop already ran" : `post: no coordinator state in ${stateDir}`);
    // A builder killed before it could clean up (its udev rule, its build-dir block) is tidied here.
    const restore = restoreSystemFiles(stateDir);
    if (restore.restored.length + restore.removed.length > 0) say(ctx, `post: ${describeRestore(restore)}`);
  }
  const session = readSession(stateDir);
  if (session === undefined) {
    say(ctx, "post: no tailnet session of dnb's here");
  } else if (!session.ours) {
    say(ctx, "post: the tailnet node was not started by dnb; left as it is");
  } else {
    await leaveTailnet(session, ctx, stateDir);
    say(ctx, "post: logged this node out of the tailnet");
  }
  // The end of the job: the step summary gets the farm's utilization, final readings included.
  const cluster = readCluster(stateDir);
  if (cluster !== undefined) {
    const rows = usageRows(cluster.builders);
    writeSummary(ctx, usageMarkdown(rows, usageTotals(rows)));
  }
  return EXIT_OK;
}

/** The versioned shape of `dnb status --json` (documented in the README). */
export function statusReport(stateDir: string, cluster: Cluster | undefined) {
  const stopped = readIfExists(statePath(stateDir, "stopped"));
  const usage = usageRows(cluster?.builders ?? []);
  return {
    version: 1,
    stateDir,
    coordinator: cluster?.settings.hostname ?? null,
    readyAt: cluster?.readyAt ?? null,
    stoppedAt: stopped === undefined ? null : (JSON.parse(stopped) as { at: string }).at,
    leaseSeconds: cluster?.settings.leaseSeconds ?? null,
    watchdog: { pid: watchdogPid(stateDir) ?? null, running: watchdogRunning(stateDir) },
    builders: (cluster?.builders ?? []).map((member, index) => ({
      name: member.alias,
      address: member.address,
      systems: member.info.systems,
      cores: member.info.cores,
      maxJobs: member.info.cores * (cluster?.settings.jobsPerCore ?? 1),
      features: member.info.features,
      claimedAt: member.claimedAt,
      lastHeartbeat: member.lastHeartbeat,
      state: member.state,
      usage: usage[index]!.usage,
    })),
    utilization: usageTotals(usage),
  };
}

/** `dnb status [--json]`: what the coordinator knows; exit 1 when there is no coordinator state. */
export function runStatus(stateDir: string, json: boolean, ctx: Context): number {
  const cluster = readCluster(stateDir);
  const report = statusReport(stateDir, cluster);
  if (json) ctx.out(JSON.stringify(report, null, 2) + "\n");
  if (cluster === undefined) {
    ctx.err(`dnb status: no coordinator state in ${stateDir}`);
    return EXIT_FAILURE;
  }
  if (!json) {
    const lines = [
      `coordinator ${report.coordinator}, ready at ${report.readyAt}, lease ${report.leaseSeconds}s, watchdog ${
        report.watchdog.running ? `running (pid ${report.watchdog.pid})` : "not running"
      }${report.stoppedAt ? `, stopped at ${report.stoppedAt}` : ""}`,
      ...report.builders.map((builder) =>
        `${builder.name.padEnd(24)} ${builder.state.padEnd(6)} ${builder.address.padEnd(16)} ${
          builder.systems.join(",")
        } ` +
        `${builder.cores} cores, ${builder.maxJobs} jobs, features ${builder.features.join(",") || "-"}, ` +
        `last heartbeat ${builder.lastHeartbeat}`
      ),
      "",
      "utilization, as each builder saw it:",
      ...usageText(report.builders, report.utilization),
    ];
    ctx.out(lines.join("\n") + "\n");
  }
  return EXIT_OK;
}
