/**
 * The coordinator's first round: watch the tailnet until every wanted builder is claimed, refused
 * or late, claiming each as soon as it is online (pipelined with discovery, not after it).
 */
import type { Config } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { say, warn } from "../core/log.ts";
import { discover, missingNames, NOTHING_FOUND, type Wanted } from "../tailnet/discovery.ts";
import type { TailnetStatus } from "../tailnet/status.ts";
import { Claimer, type ClaimVoice, RETRY_MS } from "./claimer.ts";
import type { TailnetChanges } from "../tailnet/changes.ts";
import type { Member } from "./cluster.ts";
import type { LocalNix } from "../nix/probe.ts";

const POLL_MS = 1000;
/** While a builder that just joined waits for its route. */
const ROUTE_POLL_MS = 200;
const PROGRESS_EVERY_MS = 5000;

export function wantedBuilders(config: Pick<Config, "builders" | "discoverPrefix" | "builderTag" | "expect">): Wanted {
  return config.builders.length > 0
    ? { kind: "names", names: config.builders, tag: config.builderTag }
    : { kind: "prefix", prefix: config.discoverPrefix!, tag: config.builderTag, expect: config.expect! };
}

export interface ClaimRound {
  /** In name order, so a re-run writes the same files whatever order the claims finished in. */
  readonly claimed: readonly Member[];
  readonly refused: ReadonlyMap<string, string>;
  readonly missing: readonly string[];
}

export interface ClaimRoundInputs {
  /** The tailnet as it is now; undefined when tailscaled does not answer. */
  readonly status: () => Promise<TailnetStatus | undefined>;
  /** Wakes the round as the tailnet changes; without it, the round asks the tailnet every POLL_MS. */
  readonly changes?: Pick<TailnetChanges, "next">;
  readonly started: number;
  readonly interrupted: () => boolean;
  readonly coordinatorNix: LocalNix | undefined;
}

function coordinatorVoice(ctx: Context): ClaimVoice {
  return {
    admitted: (member) =>
      say(
        ctx,
        `claimed ${member.alias} (${member.address}): ${member.info.systems.join(",")}, ${member.info.cores} cores`,
      ),
    warning: (line) => warn(ctx, line),
    retry: (alias, reason) => say(ctx, `${alias} is not ready yet: ${reason}`),
    refused: (alias, reason) => warn(ctx, `refusing ${alias}: ${reason}`),
    note: (line) => warn(ctx, line),
  };
}

export async function claimRound(config: Config, ctx: Context, inputs: ClaimRoundInputs): Promise<ClaimRound> {
  const wanted = wantedBuilders(config);
  const deadline = inputs.started + config.waitTimeoutSeconds * 1000;
  const claimer = new Claimer(config, ctx, {
    started: inputs.started,
    coordinatorNix: inputs.coordinatorNix,
    voice: coordinatorVoice(ctx),
    // By prefix, never more than --expect builders: one more would be a node the user did not ask for.
    room: wanted.kind === "prefix" ? () => wanted.expect : undefined,
  });
  const decided = () => new Set([...claimer.admitted.keys(), ...claimer.refused.keys()]);
  // Once every wanted builder has been seen, only claims and retries remain: the tailnet need not be asked again.
  const allSeen = () =>
    wanted.kind === "names"
      ? wanted.names.every((name) => claimer.seen(name))
      : claimer.admitted.size + claimer.pending >= wanted.expect;
  let lastProgress = inputs.started;
  for (;;) {
    const seen = allSeen();
    const status = seen ? undefined : await inputs.status();
    if (inputs.interrupted()) {
      // No claim starts after a stop; those in flight end first, so the caller releases what they claimed.
      claimer.close();
      await claimer.allSettled();
      break;
    }
    if (seen) claimer.offer(claimer.knownCandidates());
    else claimer.consider(status ? discover(status, wanted) : NOTHING_FOUND);
    const missing = missingNames(wanted, decided());
    if (missing.length === 0 && claimer.pending === 0) break;
    const now = ctx.now();
    if (now > deadline) {
      await claimer.allSettled();
      break;
    }
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      const waited = Math.round((now - inputs.started) / 1000);
      say(
        ctx,
        `${claimer.admitted.size} builder(s) ready; waiting for ${missing.join(", ")} ` +
          `(${waited}s of ${config.waitTimeoutSeconds}s)`,
      );
    }
    // Until every builder has shown up, a change on the tailnet is the next moment worth a look. A node's
    // home relay arrives as a netmap patch, which tailscaled does not announce: poll for it meanwhile.
    const pollMs = claimer.awaitingRoute ? ROUTE_POLL_MS : POLL_MS;
    if (inputs.changes && !seen) await inputs.changes.next(ctx, pollMs, ...claimer.settling());
    else await claimer.nextSettled(seen ? RETRY_MS : pollMs);
  }
  // A name still answered by more than one node when the wait ends is refused for that.
  const refused = new Map([...claimer.refused, ...claimer.ambiguous]);
  return {
    claimed: [...claimer.admitted.values()].sort((a, b) => a.alias.localeCompare(b.alias)),
    refused,
    missing: missingNames(wanted, new Set([...decided(), ...refused.keys()])),
  };
}
