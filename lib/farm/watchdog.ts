import { admitBuilder } from "./admission.ts";
import { scanHostKeys } from "./claim.ts";
import { type ClusterMember, readCluster, writeCluster } from "./cluster.ts";
import type { Context } from "../core/context.ts";
import { findCandidates } from "../tailnet/discovery.ts";
import { readIfExists, removeIfPresent } from "../core/files.ts";
import { say, warn } from "../core/log.ts";
import { localNixVersion } from "../nix/probe.ts";
import { writeNixFiles, writeSshState } from "./configure.ts";
import { HEARTBEAT_SCRIPT, remoteArgv } from "../protocol/scripts.ts";
import { readSession, tailnetStatus } from "../tailnet/session.ts";
import { parseUsage } from "../protocol/usage.ts";
import { succeeded } from "../core/exec.ts";
import { statePath } from "../core/state_dir.ts";

/** Heartbeats a builder may miss in a row before it leaves the machines file. */
export const MISSES_TO_DROP = 3;

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

/**
 * `dnb watchdog`, left running by the coordinator: every lease/4 it renews each builder's lease,
 * drops a builder from the machines file after 3 missed heartbeats, and claims builders that join
 * late. Ends on SIGTERM (from `dnb stop`) or when the farm record is gone.
 */
export async function runWatchdog(stateDir: string, ctx: Context): Promise<number> {
  const initial = readCluster(stateDir);
  if (initial === undefined) {
    say(ctx, `watchdog: no coordinator state in ${stateDir}; nothing to watch`);
    return 1;
  }
  const { settings, wanted } = initial;
  let builders: ClusterMember[] = [...initial.builders];
  const refused = new Set<string>();
  const session = readSession(stateDir);
  const intervalMs = Math.max(1000, settings.leaseSeconds * 250);
  const coordinatorNix = await localNixVersion(ctx);
  let stopping: string | undefined;
  const stopListening = ctx.onSignal((signal) => stopping = signal);
  say(ctx, `watchdog: renewing ${builders.length} lease(s) every ${intervalMs / 1000}s`);
  try {
    while (stopping === undefined && readCluster(stateDir) !== undefined) {
      const tickStarted = ctx.now();
      const results = await Promise.all(builders.map(async (member) => {
        if (member.state !== "ready") return member;
        const beat = await ctx.runner.run({
          argv: remoteArgv(statePath(stateDir, "sshConfig"), member.alias, HEARTBEAT_SCRIPT),
          stdin: `${settings.builderStateDir}\n`,
          timeoutMs: Math.min(intervalMs, 10_000),
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
      }));
      const lostNow = results.some((member, index) => member.state === "lost" && builders[index]?.state === "ready");
      builders = results;
      if (lostNow) writeNixFiles(settings, builders.filter((member) => member.state === "ready"));

      const status = session ? await tailnetStatus(ctx, session.bin, session.socket) : undefined;
      const known = new Set(builders.map((member) => member.alias));
      const late = (status ? findCandidates(status, wanted) : [])
        .filter((candidate) => !known.has(candidate.alias) && !refused.has(candidate.alias));
      for (const candidate of late) {
        let hostKeys = candidate.node.sshHostKeys;
        if (hostKeys.length === 0 && settings.sshKey !== undefined) {
          hostKeys = await scanHostKeys(ctx, candidate.node.ipv4);
        }
        if (hostKeys.length === 0) continue;
        writeSshState(settings, [...builders, { alias: candidate.alias, address: candidate.node.ipv4, hostKeys }]);
        const admission = await admitBuilder(settings, ctx, candidate, hostKeys, coordinatorNix);
        if (admission.kind === "refused") {
          refused.add(candidate.alias);
          warn(ctx, `watchdog: refusing late builder ${candidate.alias}: ${admission.reason}`);
        } else if (admission.kind === "admitted") {
          for (const line of admission.warnings) warn(ctx, `watchdog: ${line}`);
          const now = new Date(ctx.now()).toISOString();
          builders = [...builders, {
            ...admission.member,
            claimedAt: now,
            lastHeartbeat: now,
            missed: 0,
            state: "ready" as const,
          }]
            .sort((a, b) => a.alias.localeCompare(b.alias));
          writeNixFiles(settings, builders.filter((member) => member.state === "ready"));
          say(ctx, `watchdog: claimed late builder ${candidate.alias} (${admission.member.info.systems.join(",")})`);
        }
      }
      writeSshState(settings, builders);
      writeCluster({ ...initial, builders });
      while (stopping === undefined && ctx.now() - tickStarted < intervalMs) await ctx.sleep(100);
    }
    say(ctx, `watchdog: stopped${stopping ? ` by ${stopping}` : ""}`);
    return 0;
  } finally {
    stopListening();
  }
}
