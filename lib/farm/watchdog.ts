/**
 * `dnb watchdog`, left running by the coordinator: every lease/4 it renews each builder's lease,
 * drops a builder from the machines file after 3 missed heartbeats, and claims builders that join
 * late. Heartbeats keep their own beat: late joiners are claimed beside them, never in their way.
 * Ends on SIGTERM (from `dnb stop`) or when the farm record is gone.
 */
import type { Context } from "../core/context.ts";
import { succeeded } from "../core/exec.ts";
import { say, warn } from "../core/log.ts";
import { statePath } from "../core/state_dir.ts";
import { localNixVersion } from "../nix/probe.ts";
import { HEARTBEAT_SCRIPT, remoteArgv } from "../protocol/scripts.ts";
import { parseUsage } from "../protocol/usage.ts";
import { findCandidates } from "../tailnet/discovery.ts";
import { dnbSession, tailnetStatus } from "../tailnet/session.ts";
import { Claimer, type ClaimVoice } from "./claimer.ts";
import { type Cluster, type ClusterMember, type Member, readCluster, writeCluster } from "./cluster.ts";
import { writeNixFiles } from "./configure.ts";

/** Heartbeats a builder may miss in a row before it leaves the machines file. */
export const MISSES_TO_DROP = 3;

function watchdogVoice(ctx: Context): ClaimVoice {
  return {
    admitted: (member) => say(ctx, `watchdog: claimed late builder ${member.alias} (${member.info.systems.join(",")})`),
    warning: (line) => warn(ctx, `watchdog: ${line}`),
    retry: () => {},
    refused: (alias, reason) => warn(ctx, `watchdog: refusing late builder ${alias}: ${reason}`),
    note: () => {},
  };
}

/** One heartbeat: renews the lease and brings back the builder's usage reading; three misses drop it. */
async function heartbeat(ctx: Context, cluster: Cluster, member: ClusterMember, timeoutMs: number) {
  if (member.state !== "ready") return member;
  const beat = await ctx.runner.run({
    argv: remoteArgv(statePath(cluster.settings.stateDir, "sshConfig"), member.alias, HEARTBEAT_SCRIPT),
    stdin: `${cluster.settings.builderStateDir}\n`,
    timeoutMs,
  });
  if (succeeded(beat)) {
    // A builder that sends no valid reading (an older dnb) keeps the last one it sent.
    const usage = parseUsage(beat.stdout) ?? member.usage;
    return { ...member, missed: 0, lastHeartbeat: new Date(ctx.now()).toISOString(), usage };
  }
  const missed = member.missed + 1;
  if (missed < MISSES_TO_DROP) return { ...member, missed };
  warn(ctx, `watchdog: dropping ${member.alias}: ${missed} heartbeats missed; removed from the machines file`);
  return { ...member, missed, state: "lost" as const };
}

function joined(ctx: Context, member: Member): ClusterMember {
  const now = new Date(ctx.now()).toISOString();
  return { ...member, claimedAt: now, lastHeartbeat: now, missed: 0, state: "ready" };
}

/** The farm as one tick leaves it: heartbeats answered or missed, late joiners added; Nix told of any change. */
async function tick(ctx: Context, cluster: Cluster, claimer: Claimer, intervalMs: number): Promise<ClusterMember[]> {
  const before = cluster.builders;
  const beaten = await Promise.all(
    before.map((member) => heartbeat(ctx, cluster, member, Math.min(intervalMs, 10_000))),
  );
  const lost = beaten.some((member, index) => member.state === "lost" && before[index]?.state === "ready");
  const late = claimer.takeAdmitted().map((member) => joined(ctx, member));
  const builders = [...beaten, ...late].sort((a, b) => a.alias.localeCompare(b.alias));
  if (lost || late.length > 0) {
    writeNixFiles(
      ctx.files,
      cluster.settings,
      builders.filter((member) => member.state === "ready"),
    );
  }
  return builders;
}

/** Offers the tailnet's wanted nodes that are not in the farm yet; their claims run beside the heartbeats. */
async function lookForLateJoiners(ctx: Context, cluster: Cluster, claimer: Claimer): Promise<void> {
  const session = dnbSession(ctx, cluster.settings.stateDir);
  const status = session ? await tailnetStatus(ctx, session.bin, session.socket) : undefined;
  const inFarm = new Set(cluster.builders.map((member) => member.alias));
  await claimer.offer((status ? findCandidates(status, cluster.wanted) : []).filter((c) => !inFarm.has(c.alias)));
}

export async function runWatchdog(stateDir: string, ctx: Context): Promise<number> {
  let cluster = readCluster(ctx.files, stateDir);
  if (cluster === undefined) {
    say(ctx, `watchdog: no coordinator state in ${stateDir}; nothing to watch`);
    return 1;
  }
  const intervalMs = Math.max(1000, cluster.settings.leaseSeconds * 250);
  const claimer = new Claimer(cluster.settings, ctx, {
    started: Date.parse(cluster.startedAt ?? cluster.readyAt),
    coordinatorNix: await localNixVersion(ctx),
    voice: watchdogVoice(ctx),
    members: cluster.builders,
  });
  let stopping: string | undefined;
  const stopListening = ctx.onSignal((signal) => stopping = signal);
  say(ctx, `watchdog: renewing ${cluster.builders.length} lease(s) every ${intervalMs / 1000}s`);
  try {
    while (stopping === undefined && readCluster(ctx.files, stateDir) !== undefined) {
      const tickStarted = ctx.now();
      cluster = { ...cluster, builders: await tick(ctx, cluster, claimer, intervalMs) };
      await lookForLateJoiners(ctx, cluster, claimer);
      writeCluster(ctx.files, cluster);
      while (stopping === undefined && ctx.now() - tickStarted < intervalMs) await ctx.sleep(100);
    }
    // A late joiner claimed just now must be on record, so the stop that follows releases it.
    await claimer.allSettled();
    const late = claimer.takeAdmitted().map((member) => joined(ctx, member));
    if (late.length > 0 && readCluster(ctx.files, stateDir) !== undefined) {
      writeCluster(ctx.files, { ...cluster, builders: [...cluster.builders, ...late] });
    }
    say(ctx, `watchdog: stopped${stopping ? ` by ${stopping}` : ""}`);
    return 0;
  } finally {
    stopListening();
  }
}
