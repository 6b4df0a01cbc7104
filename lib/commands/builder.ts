import type { BuilderInfo } from "../protocol/builder_info.ts";
import type { Config } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { DnbError, EXIT_OK } from "../core/errors.ts";
import { notice, say, warn } from "../core/log.ts";
import { inGroup, writeOutputs } from "../core/actions.ts";
import { probeNix } from "../nix/probe.ts";
import { freeBytes } from "../core/disk.ts";
import { type BuilderChanges, noChanges, prepareBuildDir, undoBuilderChanges } from "../builder/setup.ts";
import { honestFeatures } from "../nix/features.ts";
import { FEATURE } from "../protocol/grammar.ts";
import { diskText } from "../report/ready_line.ts";
import { freeText, gib } from "../core/units.ts";
import { requireRoot } from "../core/preflight.ts";
import { ensureStateDir, type StateFile, statePath } from "../core/state_dir.ts";
import { BUILDER_PROTOCOL_FILES } from "../protocol/scripts.ts";
import { joinTailnet, leaveTailnet, NoCredentialsError } from "../tailnet/session.ts";
import { buildDirRoots, BuildWatch, NIX_DRV_LOG_DIR } from "../builder/build_watch.ts";
import { recordSample, startMeter, type UsageMeter, usageOf } from "../protocol/usage.ts";
import { formatDuration } from "../report/usage.ts";
import { enableKvm, kvmUsable } from "../builder/kvm.ts";
import { ClaimGate, expectedClaimer } from "../builder/claim_gate.ts";

const TICK_MS = 250;
/**
 * How long a released builder stays on the tailnet after it sees `done`: the release's ssh session is
 * still ending (its usage reading, its exit status), and logging the node out would cut it, so the
 * coordinator would count this builder unreachable (seen under load in CI).
 */
export const RELEASE_GRACE_MS = 1000;
/** How often a claimed builder looks for builds; busy time has this resolution. */
const SAMPLE_EVERY_MS = 1000;
const STATUS_EVERY_MS = 60_000;

async function statusLine(ctx: Context, buildDir: string): Promise<string> {
  const load = ctx.host.load();
  const memory = ctx.host.memory();
  const free = (path: string) => freeBytes(ctx, path);
  return `load ${load.toFixed(2)}, memory ${gib(memory.available)} of ${gib(memory.total)} GiB free, ` +
    `/nix ${freeText(await free("/nix"))}` +
    (buildDir === "/nix" || buildDir.startsWith("/nix/") ? "" : `, ${buildDir} ${freeText(await free(buildDir))}`);
}

function usageLine(meter: UsageMeter): string {
  const usage = usageOf(meter);
  return `built ${usage.derivations} derivation(s), busy ${formatDuration(usage.busySeconds)} of ${
    formatDuration((meter.lastSampleAt - meter.claimedAt) / 1000)
  } claimed`;
}

/**
 * `dnb --role builder`: join the tailnet with Tailscale SSH, publish info.json, then wait.
 * Exits 0 when the coordinator writes `done`; 1 when never claimed within --builder-timeout, when
 * the lease lapses, or on a signal. The node is logged out on every way out.
 */
export async function runBuilder(config: Config, ctx: Context): Promise<number> {
  requireRoot(ctx, "builder");
  ensureStateDir(ctx, config.stateDir);
  // A previous run's claim or done must not end this one.
  for (const name of BUILDER_PROTOCOL_FILES) ctx.files.remove(statePath(config.stateDir, name));
  let signal: string | undefined;
  const stopListening = ctx.onSignal((received) => signal = received);
  const changes = noChanges();
  try {
    const info = await describeBuilder(config, ctx, changes);
    if (signal !== undefined) throw new DnbError(`builder stopped by ${signal}`);
    // Published before joining, so a coordinator that sees the node can claim it at once.
    ctx.files.writeAtomic(statePath(config.stateDir, "info"), JSON.stringify(info, null, 2) + "\n");
    let session;
    try {
      session = await inGroup(ctx, "Join the tailnet", () => joinTailnet(config, ctx, true));
    } catch (error) {
      // A fork's pull request gets no secrets: the farm is optional there, so its builders leave quietly.
      if (error instanceof NoCredentialsError && !config.requireBuilders) {
        notice(ctx, `${error.message}; this builder is not needed and leaves`);
        return EXIT_OK;
      }
      throw error;
    }
    writeOutputs(ctx, { hostname: config.hostname });
    try {
      say(
        ctx,
        `builder ${config.hostname} ready: ${info.systems.join(",")}, ${info.cores} cores, features ${
          info.features.join(",") || "-"
        }, ${diskText(info)}`,
      );
      const gate = new ClaimGate(
        ctx,
        session,
        expectedClaimer(config.hostname, config.coordinatorTag, ctx.env),
        statePath(config.stateDir, "claim"),
      );
      return await waitForCoordinator(config, ctx, { buildDir: info.disk?.buildDir ?? "/tmp", gate }, () => signal);
    } finally {
      await leaveTailnet(session, ctx, config.stateDir);
    }
  } finally {
    stopListening();
    await undoBuilderChanges(ctx, config.stateDir, changes);
  }
}

/**
 * What this builder offers, from Nix itself: kvm and nixos-test only when builds can open
 * /dev/kvm (after --enable-kvm's udev rule, if asked), and where builds' temporary folders go.
 */
async function describeBuilder(config: Config, ctx: Context, changes: BuilderChanges): Promise<BuilderInfo> {
  if (config.enableKvm) changes.kvmRule = await enableKvm(ctx, config.stateDir);
  const nix = await probeNix(ctx);
  const kvm = await kvmUsable(ctx, nix.buildUsersGroup);
  // A feature a machines file could not carry (Nix's own names all fit) is dropped here, not refused at the claim.
  const odd = nix.systemFeatures.filter((feature) => !FEATURE.test(feature));
  if (odd.length > 0) warn(ctx, `not offering ${odd.length} system feature(s) whose names a machines file cannot hold`);
  const wellFormed = nix.systemFeatures.filter((feature) => FEATURE.test(feature));
  const features = honestFeatures(wellFormed, ctx.platform.os, kvm.usable);
  const withheld = wellFormed.filter((feature) => !features.includes(feature));
  if (withheld.length > 0) {
    const line = `not offering ${withheld.join(", ")}, which Nix reports: ${kvm.why}`;
    if (config.enableKvm) warn(ctx, line);
    else say(ctx, `${line}; --enable-kvm (action input enable_kvm) adds a udev rule that opens it`);
  }
  const disk = await prepareBuildDir(ctx, config.stateDir, nix, changes);
  if (disk.note !== undefined) say(ctx, disk.note);
  return {
    version: 1,
    hostname: config.hostname,
    system: nix.system,
    systems: [nix.system, ...nix.extraPlatforms.filter((platform) => platform !== nix.system)],
    features,
    cores: nix.cores > 0 ? nix.cores : ctx.host.cores(),
    memoryBytes: ctx.host.memory().total,
    nixVersion: nix.version,
    nixDaemon: nix.daemonPath,
    os: ctx.platform.os,
    arch: ctx.platform.arch,
    startedAt: new Date(ctx.now()).toISOString(),
    disk: {
      buildDir: disk.buildDir,
      buildDirFreeBytes: disk.buildDirFreeBytes,
      storeFreeBytes: disk.storeFreeBytes,
    },
  };
}

/** Waits for `done` (exit 0), the builder timeout or a lapsed lease (exit 1 by throwing), or a signal. */
async function waitForCoordinator(
  config: Config,
  ctx: Context,
  { buildDir, gate }: { buildDir: string; gate: ClaimGate },
  signal: () => string | undefined,
): Promise<number> {
  const file = (name: StateFile) => statePath(config.stateDir, name);
  say(ctx, `waiting to be claimed (up to ${config.builderTimeoutSeconds}s)`);
  const started = ctx.now();
  let lastStatus = started;
  // Logs and build directories already here were not built for this farm.
  const watch = new BuildWatch(ctx.files, NIX_DRV_LOG_DIR, buildDirRoots(ctx.files, ctx.env, buildDir), started);
  // Set at the claim: the builder's usage since then.
  let meter: UsageMeter | undefined;
  const sample = (current: UsageMeter, now: number): UsageMeter => {
    const next = recordSample(current, watch.look(now));
    ctx.files.writeAtomic(file("usage"), JSON.stringify(usageOf(next)) + "\n");
    return next;
  };
  for (;;) {
    const received = signal();
    if (received !== undefined) throw new DnbError(`builder stopped by ${received}`);
    const now = ctx.now();
    if (ctx.files.exists(file("done"))) {
      if (meter !== undefined) meter = sample(meter, now);
      say(ctx, `the coordinator released this builder; leaving${meter ? `: ${usageLine(meter)}` : ""}`);
      await ctx.sleep(RELEASE_GRACE_MS);
      return EXIT_OK;
    }
    if (meter === undefined) {
      // Only this run's coordinator may claim: the gate asks the tailnet who wrote the claim.
      const claimer = await gate.admit();
      if (claimer !== undefined) {
        meter = sample(startMeter(now), now);
        say(ctx, `claimed by ${claimer}`);
      } else if (now - started > config.builderTimeoutSeconds * 1000) {
        throw new DnbError(`not claimed within ${config.builderTimeoutSeconds}s`, {
          hint: "check the coordinator's --builders or --discover-prefix, and that the ACL lets it reach tcp:22",
        });
      }
    } else {
      const leaseAge = now - (ctx.files.modifiedAt(file("lease")) ?? meter.claimedAt);
      if (leaseAge > config.leaseSeconds * 1000) {
        throw new DnbError(`coordinator lost: the lease was not renewed for ${config.leaseSeconds}s`);
      }
      if (now - meter.lastSampleAt >= SAMPLE_EVERY_MS) meter = sample(meter, now);
    }
    if (now - lastStatus >= STATUS_EVERY_MS) {
      lastStatus = now;
      say(ctx, await statusLine(ctx, buildDir));
    }
    await ctx.sleep(TICK_MS);
  }
}
