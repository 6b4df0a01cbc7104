import { admitBuilder } from "../farm/admission.ts";
import { scanHostKeys } from "../farm/claim.ts";
import type { Config } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { type Candidate, findCandidates, missingNames, type Wanted } from "../tailnet/discovery.ts";
import { DnbError, EXIT_OK } from "../core/errors.ts";
import { findOnPath } from "../core/path_lookup.ts";
import {
  describeRestore,
  pathExists,
  readIfExists,
  recordCreated,
  removeIfPresent,
  restoreSystemFiles,
  writeFileAtomic,
} from "../core/files.ts";
import { notice, say, warn } from "../core/log.ts";
import { inGroup, writeOutputs, writeSummary } from "../core/actions.ts";
import { builderRows, coordinatorOutputs, diskText, farmSummary } from "../report/summary.ts";
import { MACHINES_FILE } from "../nix/conf.ts";
import { describeLink, relayWarning } from "../tailnet/link_quality.ts";
import { type Cluster, type Member, writeCluster } from "../farm/cluster.ts";
import { STOP_ALIAS } from "../config/names.ts";
import { dirname } from "node:path";
import { stopWatchdog } from "../farm/watchdog.ts";
import { signalDone } from "../farm/release.ts";
import { writeNixFiles, writeSshState } from "../farm/configure.ts";
import { localNixVersion } from "../nix/probe.ts";
import { requireRoot } from "../core/preflight.ts";
import { ensureStateDir } from "../core/state_dir.ts";
import { joinTailnet, NoCredentialsError, type TailnetSession, tailnetStatus } from "../tailnet/session.ts";
import { confirmBuilders, restartNixDaemon } from "../nix/apply.ts";
import { statePath } from "../core/state_dir.ts";

const POLL_MS = 1000;
const PROGRESS_EVERY_MS = 5000;
/** A builder seen but not yet answering (sshd starting, info.json not written) is tried again this soon. */
const RETRY_MS = 500;

export function wantedBuilders(config: Pick<Config, "builders" | "discoverPrefix" | "builderTag" | "expect">): Wanted {
  return config.builders.length > 0
    ? { kind: "names", names: config.builders }
    : { kind: "prefix", prefix: config.discoverPrefix!, tag: config.builderTag, expect: config.expect! };
}

interface Pending {
  readonly candidate: Candidate;
  readonly hostKeys: readonly string[];
}

/**
 * Polls the tailnet and claims each wanted builder as soon as it is online with host keys:
 * claims run in parallel (up to --probe-concurrency), pipelined with discovery.
 */
async function claimBuilders(
  config: Config,
  ctx: Context,
  session: TailnetSession,
  started: number,
  interrupted: () => boolean,
  coordinatorNix: string | undefined,
) {
  const wanted = wantedBuilders(config);
  const deadline = started + config.waitTimeoutSeconds * 1000;
  const claimed = new Map<string, Member>();
  const refused = new Map<string, string>();
  const inFlight = new Map<string, Promise<void>>();
  const retryAfter = new Map<string, number>();
  const known = new Map<string, Pending>();
  const noted = new Set<string>();
  const lastReason = new Map<string, string>();
  let lastProgress = started;

  const claimOne = async (pending: Pending) => {
    const { candidate } = pending;
    const admission = await admitBuilder(config, ctx, candidate, pending.hostKeys, coordinatorNix);
    if (admission.kind === "admitted") {
      for (const line of admission.warnings) warn(ctx, line);
      const member = { ...admission.member, readySeconds: (ctx.now() - started) / 1000 };
      claimed.set(candidate.alias, member);
      say(
        ctx,
        `claimed ${candidate.alias} (${member.address}): ${member.info.systems.join(",")}, ${member.info.cores} cores`,
      );
    } else if (admission.kind === "retry") {
      retryAfter.set(candidate.alias, ctx.now() + RETRY_MS);
      if (lastReason.get(candidate.alias) !== admission.reason) {
        lastReason.set(candidate.alias, admission.reason);
        say(ctx, `${candidate.alias} is not ready yet: ${admission.reason}`);
      }
    } else {
      refused.set(candidate.alias, admission.reason);
      warn(ctx, `refusing ${candidate.alias}: ${admission.reason}`);
    }
  };

  // Once every wanted builder has been seen, only claims and retries remain: the tailnet need not be asked again.
  const allSeen = () =>
    wanted.kind === "names"
      ? wanted.names.every((name) => known.has(name) || refused.has(name))
      : claimed.size + inFlight.size >= wanted.expect;

  for (;;) {
    const seen = allSeen();
    const status = seen ? undefined : await tailnetStatus(ctx, session.bin, session.socket);
    const candidates = seen
      ? [...known.values()].map((pending) => pending.candidate)
      : status
      ? findCandidates(status, wanted)
      : [];
    for (const candidate of candidates) {
      const alias = candidate.alias;
      if (claimed.has(alias) || refused.has(alias) || inFlight.has(alias)) continue;
      if ((retryAfter.get(alias) ?? 0) > ctx.now() || inFlight.size >= config.probeConcurrency) continue;
      if (candidate.note && !noted.has(alias)) {
        noted.add(alias);
        warn(ctx, candidate.note);
      }
      let hostKeys = known.get(alias)?.hostKeys ?? candidate.node.sshHostKeys;
      if (hostKeys.length === 0 && config.sshKey !== undefined) hostKeys = await scanHostKeys(ctx, candidate.node.ipv4);
      // Tailscale publishes a peer's keys a moment after it comes online; wait for them.
      if (hostKeys.length === 0) continue;
      known.set(alias, { candidate, hostKeys });
      writeSshState(
        config,
        [...known.values()].map((p) => ({
          alias: p.candidate.alias,
          address: p.candidate.node.ipv4,
          hostKeys: p.hostKeys,
        })),
      );
      const task = claimOne({ candidate, hostKeys }).finally(() => inFlight.delete(alias));
      inFlight.set(alias, task);
    }
    const missing = missingNames(wanted, new Set([...claimed.keys(), ...refused.keys()]));
    if ((missing.length === 0 || interrupted()) && inFlight.size === 0) break;
    const now = ctx.now();
    if (now > deadline) {
      await Promise.all(inFlight.values());
      break;
    }
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      say(
        ctx,
        `${claimed.size} builder(s) ready; waiting for ${missing.join(", ")} (${
          Math.round((now - started) / 1000)
        }s of ${config.waitTimeoutSeconds}s)`,
      );
    }
    await Promise.race([ctx.sleep(seen ? RETRY_MS : POLL_MS), ...inFlight.values()]);
  }
  return {
    // Sorted, so a re-run writes the same files whatever order the claims finished in.
    claimed: [...claimed.values()].sort((a, b) => a.alias.localeCompare(b.alias)),
    refused,
    missing: missingNames(wanted, new Set([...claimed.keys(), ...refused.keys()])),
  };
}

/** Installs `stop-nix-builders`: a link next to a compiled dnb, or a small script in the state folder when run from source. */
function installStopCommand(config: Config, ctx: Context): string | undefined {
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
function startWatchdog(config: Config, ctx: Context): number {
  const pid = ctx.runner.start({
    argv: [...ctx.selfCommand, "watchdog", "--state-dir", config.stateDir],
    logFile: statePath(config.stateDir, "watchdogLog"),
  });
  writeFileAtomic(statePath(config.stateDir, "watchdogPid"), `${pid}\n`);
  return pid;
}

/**
 * `dnb --role coordinator`: join, claim builders as they appear, point Nix at them and leave a
 * watchdog behind. The tailnet node stays up for the user's builds. A signal during set-up puts
 * back every file already changed.
 */
export async function runCoordinator(config: Config, ctx: Context): Promise<number> {
  requireRoot("coordinator");
  ensureStateDir(config.stateDir);
  if (findOnPath("ssh", ctx.env.PATH ?? "") === undefined) {
    throw new DnbError("ssh is not installed", {
      hint: "install OpenSSH's client: the Nix daemon reaches builders with it",
    });
  }
  let interrupted: string | undefined;
  const stopListening = ctx.onSignal((signal) => interrupted = signal);
  const checkpoint = () => {
    if (interrupted !== undefined) throw new DnbError(`coordinator stopped by ${interrupted}`);
  };
  let claimedSoFar: readonly Member[] = [];
  try {
    let session;
    try {
      session = await inGroup(ctx, "Join the tailnet", () => joinTailnet(config, ctx, false));
    } catch (error) {
      // A fork's pull request gets no secrets: build locally rather than fail the workflow.
      if (error instanceof NoCredentialsError && !config.requireBuilders) {
        notice(ctx, `${error.message}; Nix builds on this machine alone (--require-builders makes this an error)`);
        writeOutputs(ctx, { builders: "[]", systems: "", machines: "", ready_seconds: "", hostname: "" });
        return EXIT_OK;
      }
      throw error;
    }
    checkpoint();
    // Builders' daemon protocols are compared with this machine's Nix.
    const coordinatorNix = await localNixVersion(ctx);
    const started = ctx.now();
    const { claimed, refused, missing } = await inGroup(
      ctx,
      "Find and claim builders",
      () => claimBuilders(config, ctx, session, started, () => interrupted !== undefined, coordinatorNix),
    );
    claimedSoFar = claimed;
    checkpoint();
    const refusals = [...refused].map(([name, why]) => `${name}: ${why}`);
    if (claimed.length < config.minBuilders) {
      if (missing.length === 0) {
        throw new DnbError(
          `${claimed.length === 0 ? "no usable builder" : "too few usable builders"} (${refusals.join("; ")})`,
        );
      }
      throw new DnbError(
        `builders missing after ${config.waitTimeoutSeconds}s: ${missing.join(", ")} ` +
          `(${claimed.length} ready, ${config.minBuilders} needed)`,
        { hint: "check that the builder jobs started, their names or prefix, their tags and the auth key" },
      );
    }
    if (missing.length + refused.size > 0) {
      // macOS runners are capped per account and often queue: a partial farm beats a failed job.
      warn(
        ctx,
        `going ahead with ${claimed.length} builder(s) (--min-builders ${config.minBuilders}); not ready: ${
          [...missing, ...refused.keys()].join(", ")
        }${missing.length > 0 ? "; the watchdog adds late ones as they come" : ""}`,
      );
    }
    await inGroup(ctx, "Configure Nix", async () => {
      writeNixFiles(config, claimed);
      checkpoint();
      if (await restartNixDaemon(ctx)) say(ctx, "restarted the Nix daemon");
      await confirmBuilders(ctx);
    });
    checkpoint();
    const now = new Date(ctx.now()).toISOString();
    const cluster: Cluster = {
      version: 1,
      settings: {
        hostname: config.hostname,
        stateDir: config.stateDir,
        sshUser: config.sshUser,
        sshKey: config.sshKey,
        jobsPerCore: config.jobsPerCore,
        leaseSeconds: config.leaseSeconds,
        builderStateDir: config.builderStateDir,
        extraNixConfig: config.extraNixConfig,
        probeConcurrency: config.probeConcurrency,
      },
      wanted: wantedBuilders(config),
      readyAt: now,
      builders: claimed.map((member) => ({ ...member, claimedAt: now, lastHeartbeat: now, missed: 0, state: "ready" })),
    };
    // A re-run starts a fresh farm record; an old stop marker or watchdog must not linger.
    await stopWatchdog(config.stateDir);
    removeIfPresent(statePath(config.stateDir, "stopped"));
    writeCluster(cluster);
    const watchdog = startWatchdog(config, ctx);
    const stopCommand = installStopCommand(config, ctx);
    // The claims' ssh traffic has settled the path to each builder by now.
    const peers = (await tailnetStatus(ctx, session.bin, session.socket))?.peers ?? [];
    const links = new Map<string, string>();
    for (const member of claimed) {
      const node = peers.find((peer) => peer.ipv4 === member.address);
      links.set(member.alias, describeLink(node));
      const disk = diskText(member.info);
      say(
        ctx,
        `${member.alias} ${member.address} ${member.info.systems.join(",")} ${member.info.cores} cores ` +
          `${member.info.cores * config.jobsPerCore} jobs features ${member.info.features.join(",") || "-"} ` +
          `link ${links.get(member.alias)}, ${disk === "" ? "" : `${disk}, `}ready in ${
            member.readySeconds.toFixed(1)
          }s`,
      );
      const relayed = relayWarning(member.alias, node);
      if (relayed !== undefined) warn(ctx, relayed);
    }
    const systems = [...new Set(claimed.map((member) => member.info.system))].sort().join(", ");
    const readySeconds = (ctx.now() - started) / 1000;
    say(
      ctx,
      `ready: ${claimed.length} builder(s) for ${systems} in ${readySeconds.toFixed(1)}s; ` +
        `build with nix build --max-jobs 0 …`,
    );
    say(ctx, `watchdog ${watchdog} renews leases; tear down with ${stopCommand ?? "dnb stop"}`);
    const rows = builderRows(claimed, config.jobsPerCore, links);
    writeOutputs(ctx, coordinatorOutputs(config.hostname, rows, readIfExists(MACHINES_FILE) ?? "", readySeconds));
    writeSummary(ctx, farmSummary(config.hostname, rows, readySeconds));
    return EXIT_OK;
  } catch (error) {
    await undoSetup(config, ctx, claimedSoFar);
    throw error;
  } finally {
    stopListening();
  }
}

/** A coordinator that fails half-way leaves nothing behind: builders it claimed are released, files put back. */
async function undoSetup(config: Config, ctx: Context, claimed: readonly Member[]): Promise<void> {
  const released = await Promise.all(claimed.map((member) => signalDone(ctx, config, member.alias)));
  const restore = restoreSystemFiles(config.stateDir);
  if (claimed.length > 0) {
    say(
      ctx,
      `released ${
        claimed.filter((_, index) => released[index]).map((member) => member.alias).join(", ") || "no builder"
      }`,
    );
  }
  if (restore.restored.length + restore.removed.length > 0) say(ctx, describeRestore(restore));
}
