import { claimBuilder, scanHostKeys } from "./claim.ts";
import type { Config } from "./config.ts";
import type { Context } from "./context.ts";
import { type Candidate, findCandidates, missingNames, type Wanted } from "./discovery.ts";
import { DnbError, EXIT_OK } from "./errors.ts";
import { findOnPath } from "./facts.ts";
import { writeFileAtomic } from "./files.ts";
import { say, warn } from "./log.ts";
import {
  type Member,
  pingStore,
  privateSshConfig,
  restartNixDaemon,
  writeNixFiles,
  writeSshState,
} from "./nix_setup.ts";
import { requireRoot } from "./preflight.ts";
import { ensureStateDir } from "./state_dir.ts";
import { joinTailnet, type TailnetSession, tailnetStatus } from "./tailscale.ts";

const POLL_MS = 1000;
const PROGRESS_EVERY_MS = 5000;
/** A builder seen but not yet answering (sshd starting, info.json not written) is tried again this soon. */
const RETRY_MS = 500;

export function clusterFile(stateDir: string): string {
  return `${stateDir}/cluster.json`;
}

function wantedBuilders(config: Config): Wanted {
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
async function claimBuilders(config: Config, ctx: Context, session: TailnetSession, started: number) {
  const wanted = wantedBuilders(config);
  const deadline = started + config.waitTimeoutSeconds * 1000;
  const claimed = new Map<string, Member>();
  const refused = new Map<string, string>();
  const inFlight = new Map<string, Promise<void>>();
  const retryAfter = new Map<string, number>();
  const known = new Map<string, Pending>();
  const noted = new Set<string>();
  let lastProgress = started;

  const claimOne = async (pending: Pending) => {
    const { candidate } = pending;
    const outcome = await claimBuilder(ctx, {
      sshConfig: privateSshConfig(config.stateDir),
      alias: candidate.alias,
      builderStateDir: config.builderStateDir,
      claim: { coordinator: config.hostname, at: new Date(ctx.now()).toISOString(), lease: config.leaseSeconds },
    });
    if (outcome.ok) {
      const member: Member = {
        alias: candidate.alias,
        address: candidate.node.ipv4,
        hostKeys: pending.hostKeys,
        info: outcome.info,
        readySeconds: 0,
      };
      // Checked at once, pipelined with the other claims, over the ssh entries Nix will use.
      const ping = await pingStore(config, ctx, member);
      if (!ping.ok) {
        const reason = `it does not answer as a Nix store over ssh-ng (${ping.reason})`;
        refused.set(candidate.alias, reason);
        warn(ctx, `leaving out ${candidate.alias}: ${reason}`);
        return;
      }
      claimed.set(candidate.alias, { ...member, readySeconds: (ctx.now() - started) / 1000 });
      say(
        ctx,
        `claimed ${candidate.alias} (${member.address}): ${
          outcome.info.systems.join(",")
        }, ${outcome.info.cores} cores`,
      );
    } else if (outcome.retry) {
      retryAfter.set(candidate.alias, ctx.now() + RETRY_MS);
    } else {
      refused.set(candidate.alias, outcome.reason);
      warn(ctx, `refusing ${candidate.alias}: ${outcome.reason}`);
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
    if (missing.length === 0 && inFlight.size === 0) break;
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

/**
 * `dnb --role coordinator`: join, claim builders as they appear, point Nix at them, check that
 * each answers as a store, and leave. The tailnet node stays up for the user's builds.
 */
export async function runCoordinator(config: Config, ctx: Context): Promise<number> {
  requireRoot("coordinator");
  ensureStateDir(config.stateDir);
  if (findOnPath("ssh", ctx.env.PATH ?? "") === undefined) {
    throw new DnbError("ssh is not installed", {
      hint: "install OpenSSH's client: the Nix daemon reaches builders with it",
    });
  }
  const session = await joinTailnet(config, ctx, false);
  const started = ctx.now();
  const { claimed, refused, missing } = await claimBuilders(config, ctx, session, started);
  if (missing.length > 0) {
    throw new DnbError(`builders missing after ${config.waitTimeoutSeconds}s: ${missing.join(", ")}`, {
      hint: "check that the builder jobs started, their names or prefix, their tags and the auth key",
    });
  }
  if (claimed.length === 0) {
    throw new DnbError(`no usable builder (${[...refused].map(([name, why]) => `${name}: ${why}`).join("; ")})`);
  }
  const usable = claimed;
  const files = writeNixFiles(config, usable);
  if (await restartNixDaemon(ctx)) say(ctx, "restarted the Nix daemon");
  writeFileAtomic(
    clusterFile(config.stateDir),
    JSON.stringify(
      {
        version: 1,
        coordinator: config.hostname,
        readyAt: new Date(ctx.now()).toISOString(),
        leaseSeconds: config.leaseSeconds,
        builderStateDir: config.builderStateDir,
        files,
        builders: usable.map((member) => ({
          name: member.alias,
          address: member.address,
          systems: member.info.systems,
          cores: member.info.cores,
          maxJobs: member.info.cores * config.jobsPerCore,
          features: member.info.features,
          nixVersion: member.info.nixVersion,
          readySeconds: member.readySeconds,
        })),
      },
      null,
      2,
    ) + "\n",
  );
  for (const member of usable) {
    say(
      ctx,
      `${member.alias} ${member.address} ${member.info.systems.join(",")} ${member.info.cores} cores ` +
        `${member.info.cores * config.jobsPerCore} jobs features ${member.info.features.join(",") || "-"} ready in ${
          member.readySeconds.toFixed(1)
        }s`,
    );
  }
  const systems = [...new Set(usable.map((member) => member.info.system))].sort().join(", ");
  say(
    ctx,
    `ready: ${usable.length} builder(s) for ${systems} in ${
      ((ctx.now() - started) / 1000).toFixed(1)
    }s; build with nix build --max-jobs 0 …`,
  );
  return EXIT_OK;
}
