/**
 * `dnb --role coordinator`: join, claim builders as they appear, point Nix at them and leave a
 * watchdog behind. The tailnet node stays up for the user's builds. A signal during set-up puts
 * back every file already changed.
 */
import type { Config } from "../config/config.ts";
import { inGroup, writeOutputs, writeSummary } from "../core/actions.ts";
import type { Context } from "../core/context.ts";
import { DnbError, EXIT_OK } from "../core/errors.ts";
import { notice, say, warn } from "../core/log.ts";
import { findOnPath } from "../core/path_lookup.ts";
import { requireRoot } from "../core/preflight.ts";
import { ensureStateDir, statePath } from "../core/state_dir.ts";
import { type ClaimRound, claimRound, wantedBuilders } from "../farm/claim_round.ts";
import { type Cluster, farmSettings, type Member, writeCluster } from "../farm/cluster.ts";
import { writeNixFiles } from "../farm/configure.ts";
import { installStopCommand, startWatchdog, stopWatchdog } from "../farm/lifecycle.ts";
import { releaseAndRestore } from "../farm/release.ts";
import { readBuildersSetting, reportBuildersSetting, restartNixDaemon } from "../nix/apply.ts";
import { localNix } from "../nix/probe.ts";
import { nixRidesSshMasters } from "../nix/ssh_masters.ts";
import { coordinatorOutputs, farmSummary } from "../report/summary.ts";
import { builderRow } from "../report/builder_row.ts";
import { readyLine } from "../report/ready_line.ts";
import { describeLink, relayWarning } from "../tailnet/link_quality.ts";
import { joinTailnet, NoCredentialsError, type TailnetSession, tailnetStatus } from "../tailnet/session.ts";
import { TailnetChanges } from "../tailnet/changes.ts";

/** Notes a SIGINT or SIGTERM; the set-up checks between its steps and stops there. */
class Interruption {
  #signal: string | undefined;
  readonly stop: () => void;

  constructor(ctx: Context) {
    this.stop = ctx.onSignal((signal) => this.#signal = signal);
  }

  get happened(): boolean {
    return this.#signal !== undefined;
  }

  checkpoint(): void {
    if (this.#signal !== undefined) throw new DnbError(`coordinator stopped by ${this.#signal}`);
  }
}

export async function runCoordinator(config: Config, ctx: Context): Promise<number> {
  requireRoot(ctx, "coordinator");
  ensureStateDir(ctx, config.stateDir);
  if (findOnPath(ctx.files, "ssh", ctx.env.PATH ?? "") === undefined) {
    throw new DnbError("ssh is not installed", {
      hint: "install OpenSSH's client: the Nix daemon reaches builders with it",
    });
  }
  const interruption = new Interruption(ctx);
  let claimed: readonly Member[] = [];
  let nix: Promise<PreparedNix> | undefined;
  try {
    const session = await joinOrBuildLocally(config, ctx);
    if (session === undefined) return EXIT_OK;
    interruption.checkpoint();
    // Builders' daemon protocols are compared with this machine's Nix.
    const coordinatorNix = await localNix(ctx);
    if (config.sshMaster === "auto" && coordinatorNix !== undefined && !nixRidesSshMasters(coordinatorNix)) {
      say(ctx, `Nix ${coordinatorNix.version} here cannot share an ssh connection per builder; builds connect anew`);
    }
    const started = ctx.now();
    nix = prepareNix(config, ctx);
    let nixFailed = false;
    nix.catch(() => nixFailed = true);
    const changes = TailnetChanges.start(ctx, session.bin, session.socket);
    const round = await inGroup(ctx, "Find and claim builders", () =>
      claimRound(config, ctx, {
        status: () => tailnetStatus(ctx, session.bin, session.socket),
        changes,
        started,
        // A failed preparation ends the wait: its error is the one to report.
        interrupted: () => interruption.happened || nixFailed,
        coordinatorNix,
      })).finally(() => changes.stop());
    claimed = round.claimed;
    const prepared = await nix;
    interruption.checkpoint();
    requireEnoughBuilders(config, ctx, round);
    const machines = await inGroup(ctx, "Configure Nix", () => {
      // Nix reads the machines file afresh for every build: no second restart.
      const written = writeNixFiles(ctx.files, config, claimed);
      if (prepared.restarted) say(ctx, "restarted the Nix daemon");
      reportBuildersSetting(ctx, prepared.builders);
      return Promise.resolve(written.machines);
    });
    interruption.checkpoint();
    const handover = await leaveWatchdogBehind(config, ctx, claimed, started);
    await reportReady(config, ctx, session, claimed, { ...handover, started, machines });
    return EXIT_OK;
  } catch (error) {
    // Nothing is put back while the preparation may still write; a daemon it restarted rereads what is put back.
    const prepared = await nix?.catch(() => undefined);
    await releaseAndRestore(ctx, config, claimed);
    if (prepared?.restarted) await restartNixDaemon(ctx).catch((failure: Error) => warn(ctx, failure.message));
    throw error;
  } finally {
    interruption.stop();
  }
}

interface PreparedNix {
  readonly restarted: boolean;
  /** The `builders` value Nix reads after the restart. */
  readonly builders: string | undefined;
}

/**
 * nix.conf's block (with an empty machines file) and the daemon's restart need no builder, so they
 * happen while the builders are awaited, off the way from the last builder to ready.
 */
async function prepareNix(config: Config, ctx: Context): Promise<PreparedNix> {
  writeNixFiles(ctx.files, config, []);
  const restarted = await restartNixDaemon(ctx);
  return { restarted, builders: await readBuildersSetting(ctx) };
}

/** Joins the tailnet; without credentials (a fork's pull request), leaves Nix building here and says so. */
async function joinOrBuildLocally(config: Config, ctx: Context): Promise<TailnetSession | undefined> {
  try {
    return await inGroup(ctx, "Join the tailnet", () => joinTailnet(config, ctx, false));
  } catch (error) {
    if (!(error instanceof NoCredentialsError) || config.requireBuilders) throw error;
    notice(ctx, `${error.message}; Nix builds on this machine alone (--require-builders makes this an error)`);
    writeOutputs(ctx, { builders: "[]", systems: "", machines: "", ready_seconds: "", hostname: "" });
    return undefined;
  }
}

/** Fails below --min-builders; above it, a partial farm goes ahead with a warning naming the missing. */
function requireEnoughBuilders(config: Config, ctx: Context, round: ClaimRound): void {
  const { claimed, refused, missing } = round;
  if (claimed.length < config.minBuilders) {
    if (missing.length === 0) {
      const refusals = [...refused].map(([name, why]) => `${name}: ${why}`);
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
}

/** The farm record, the watchdog that keeps it and the stop command; an earlier run's leftovers go first. */
async function leaveWatchdogBehind(
  config: Config,
  ctx: Context,
  claimed: readonly Member[],
  started: number,
): Promise<{ watchdog: number; stopCommand: string | undefined }> {
  const now = new Date(ctx.now()).toISOString();
  const cluster: Cluster = {
    version: 1,
    settings: farmSettings(config),
    wanted: wantedBuilders(config),
    startedAt: new Date(started).toISOString(),
    readyAt: now,
    builders: claimed.map((member) => ({ ...member, claimedAt: now, lastHeartbeat: now, missed: 0, state: "ready" })),
  };
  // A re-run starts a fresh farm record; an old stop marker or watchdog must not linger.
  await stopWatchdog(ctx, config.stateDir);
  ctx.files.remove(statePath(config.stateDir, "stopped"));
  writeCluster(ctx.files, cluster);
  return { watchdog: startWatchdog(config, ctx), stopCommand: installStopCommand(config, ctx) };
}

/** One line per builder with its link, the ready line, the step outputs and the summary. */
async function reportReady(
  config: Config,
  ctx: Context,
  session: TailnetSession,
  claimed: readonly Member[],
  farm: { watchdog: number; stopCommand: string | undefined; started: number; machines: string },
): Promise<void> {
  // The claims' ssh traffic has settled the path to each builder by now.
  const peers = (await tailnetStatus(ctx, session.bin, session.socket))?.peers ?? [];
  const rows = claimed.map((member) => {
    const node = peers.find((peer) => peer.ipv4 === member.address);
    const row = builderRow(member, config.jobsPerCore, describeLink(node));
    say(ctx, readyLine(row));
    const relayed = relayWarning(member.alias, node);
    if (relayed !== undefined) warn(ctx, relayed);
    return row;
  });
  const systems = [...new Set(claimed.map((member) => member.info.system))].sort().join(", ");
  const readySeconds = (ctx.now() - farm.started) / 1000;
  say(
    ctx,
    `ready: ${claimed.length} builder(s) for ${systems} in ${readySeconds.toFixed(1)}s; ` +
      `build with nix build --max-jobs 0 …`,
  );
  say(ctx, `watchdog ${farm.watchdog} renews leases; tear down with ${farm.stopCommand ?? "dnb stop"}`);
  writeOutputs(ctx, coordinatorOutputs(config.hostname, rows, farm.machines, readySeconds));
  writeSummary(ctx, farmSummary(config.hostname, rows, readySeconds));
}
