/**
 * `dnb watchdog`, left running by the coordinator: every lease/4 it renews each builder's lease,
 * drops a builder from the machines file after 3 missed heartbeats, and claims builders that join
 * late. Heartbeats keep their own beat: the look at the tailnet, host-key scans and claims of late
 * joiners all run beside them (one look at a time, claims within --probe-concurrency, each builder
 * that is not ready tried again after a growing pause), never in their way, and never beyond what
 * was wanted: `expect` builders by prefix, the wanted names by name.
 * Ends on SIGTERM (from `dnb stop`) or when the farm record is gone.
 */
import type { Context } from "../core/context.ts";
import { REMOTE_OUTPUT_BYTES, succeeded } from "../core/exec.ts";
import { say, warn } from "../core/log.ts";
import { statePath } from "../core/state_dir.ts";
import { localNix } from "../nix/probe.ts";
import { HEARTBEAT_SCRIPT, remoteArgv } from "../protocol/scripts.ts";
import { parseUsage } from "../protocol/usage.ts";
import { discover, NOTHING_FOUND, type Wanted, wantedFromRecord } from "../tailnet/discovery.ts";
import { dnbSession, tailnetStatus } from "../tailnet/session.ts";
import { Claimer, type ClaimVoice } from "./claimer.ts";
import { type Cluster, type ClusterMember, type Member, readCluster, writeCluster } from "./cluster.ts";
import { writeNixFiles } from "./configure.ts";
import { endSshMasters } from "./release.ts";

/** Heartbeats a builder may miss in a row before it leaves the machines file. */
export const MISSES_TO_DROP = 3;
/** The longest pause between tries of a late joiner that is not ready (the pause doubles up to it). */
export const LATE_RETRY_MAX_MS = 30_000;
/** How long a stop waits for late joiners' claims in flight: each has its own deadline besides. */
const STOP_GRACE_MS = 5_000;

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
    maxOutputBytes: REMOTE_OUTPUT_BYTES,
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
  const lost = beaten.filter((member, index) => member.state === "lost" && before[index]?.state === "ready");
  // Its master, if still up, would carry sessions to a builder that no longer answers.
  await endSshMasters(ctx, cluster.settings, lost.map((member) => member.alias));
  const late = claimer.takeAdmitted().map((member) => joined(ctx, member));
  const builders = [...beaten, ...late].sort((a, b) => a.alias.localeCompare(b.alias));
  if (lost.length > 0 || late.length > 0) {
    writeNixFiles(
      ctx.files,
      cluster.settings,
      builders.filter((member) => member.state === "ready"),
    );
  }
  return builders;
}

/**
 * Looks at the tailnet once and offers the wanted nodes that are not in the farm yet; their claims run
 * beside the heartbeats. Never awaited by a tick: a slow or hanging `tailscale status` costs no heartbeat.
 */
async function lookForLateJoiners(ctx: Context, watched: () => Cluster, wanted: Wanted, claimer: Claimer) {
  const stateDir = watched().settings.stateDir;
  const session = dnbSession(ctx, stateDir);
  const status = session ? await tailnetStatus(ctx, session.bin, session.socket).catch(() => undefined) : undefined;
  const inFarm = new Set(watched().builders.map((member) => member.alias));
  claimer.consider(status ? discover(status, wanted) : NOTHING_FOUND, inFarm);
}

/** How many more builders the farm may take: by prefix, `expect` less those in it; by name, the names bound it. */
function room(wanted: Wanted, watched: () => Cluster): (() => number) | undefined {
  if (wanted.kind !== "prefix") return undefined;
  return () => wanted.expect - watched().builders.filter((member) => member.state !== "lost").length;
}

export async function runWatchdog(stateDir: string, ctx: Context): Promise<number> {
  let cluster = readCluster(ctx.files, stateDir);
  if (cluster === undefined) {
    say(ctx, `watchdog: no coordinator state in ${stateDir}; nothing to watch`);
    return 1;
  }
  const watched = () => cluster!;
  const wanted = wantedFromRecord(cluster.wanted);
  const intervalMs = Math.max(1000, cluster.settings.leaseSeconds * 250);
  const claimer = new Claimer(cluster.settings, ctx, {
    started: Date.parse(cluster.startedAt ?? cluster.readyAt),
    coordinatorNix: await localNix(ctx),
    voice: watchdogVoice(ctx),
    members: cluster.builders,
    room: room(wanted, watched),
    maxRetryMs: LATE_RETRY_MAX_MS,
  });
  let stopping: string | undefined;
  let looking: Promise<void> | undefined;
  const stopListening = ctx.onSignal((signal) => stopping = signal);
  say(ctx, `watchdog: renewing ${cluster.builders.length} lease(s) every ${intervalMs / 1000}s`);
  try {
    while (stopping === undefined && readCluster(ctx.files, stateDir) !== undefined) {
      const tickStarted = ctx.now();
      cluster = { ...cluster, builders: await tick(ctx, cluster, claimer, intervalMs) };
      looking ??= lookForLateJoiners(ctx, watched, wanted, claimer)
        .catch((error: Error) => warn(ctx, `watchdog: could not look for late builders: ${error.message}`))
        .finally(() => looking = undefined);
      writeCluster(ctx.files, cluster);
      while (stopping === undefined && ctx.now() - tickStarted < intervalMs) await ctx.sleep(100);
    }
    // No claim starts after the stop; one claimed just now must be on record, so the stop releases it.
    claimer.close();
    await claimer.allSettled(STOP_GRACE_MS);
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
