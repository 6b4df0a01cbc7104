/**
 * Who may claim this builder: its own run's coordinator only. The claim file names the claiming peer's
 * address (sshd's $SSH_CLIENT, see CLAIM_SCRIPT); the builder asks its own tailscaled who that is
 * (`tailscale whois --json`) and takes the claim only from a node carrying the coordinator tag and, on
 * GitHub with a builder named for its run, named as that run's coordinator. A claim that fails is
 * removed and the builder keeps waiting; one that cannot be checked yet is looked at again shortly.
 */
import { z } from "zod";
import { githubBuilderPrefix } from "../config/config.ts";
import type { Context } from "../core/context.ts";
import { failureLine, REMOTE_OUTPUT_BYTES, succeeded } from "../core/exec.ts";
import { say, warn } from "../core/log.ts";
import { parseClaimFile } from "../protocol/claim_file.ts";
import { DNS_LABEL } from "../protocol/grammar.ts";

/** What a claimer must be. */
export interface ExpectedClaimer {
  readonly tag: string;
  /** Its DNS label, when the run fixes it (GitHub: nix-coordinator-<run id>-<attempt>). */
  readonly name?: string;
}

/** The tailnet this builder joined: its own tailscale CLI and daemon socket. */
export interface WhoisSource {
  readonly bin: string;
  readonly socket?: string;
}

export type ClaimVerdict =
  | { readonly kind: "accept"; readonly who: string }
  | { readonly kind: "refuse"; readonly why: string }
  /** The check itself failed (tailscaled busy, a CLI without whois --json): try again, take nothing. */
  | { readonly kind: "unknown"; readonly why: string };

/** On GitHub a builder named nix-builder-<run>-<attempt>-… belongs to the coordinator nix-coordinator-<run>-<attempt>. */
export function expectedClaimer(
  hostname: string,
  coordinatorTag: string,
  env: Readonly<Record<string, string | undefined>>,
): ExpectedClaimer {
  const prefix = githubBuilderPrefix(env);
  if (prefix === undefined || !hostname.startsWith(prefix)) return { tag: coordinatorTag };
  return { tag: coordinatorTag, name: prefix.replace(/^nix-builder-/, "nix-coordinator-").replace(/-$/, "") };
}

export function whoisArgv(source: WhoisSource, address: string): string[] {
  return [
    source.bin,
    ...(source.socket === undefined ? [] : [`--socket=${source.socket}`]),
    "whois",
    "--json",
    address,
  ];
}

/** The part of `tailscale whois --json` (apitype.WhoIsResponse) the check reads. */
const whoisSchema = z.object({
  Node: z.object({ Name: z.string().max(253), Tags: z.array(z.string().max(256)).max(64).nullable().optional() }),
});

/**
 * A claim with no client address came over Tailscale SSH, whose login shell resets the environment
 * ($SSH_CLIENT included: seen with Headscale and tailscaled 1.102 as root). The tailnet policy
 * already let only the coordinator tag in; what is left to check is the run, by the name the claim
 * gives, which stops another run's (honest) coordinator. Tags scoped per repository fence the rest.
 */
function judgeByName(expected: ExpectedClaimer, coordinator: string | undefined): ClaimVerdict {
  if (expected.name === undefined) return { kind: "accept", who: coordinator ?? "a coordinator (over Tailscale SSH)" };
  if (coordinator === expected.name) return { kind: "accept", who: `${coordinator} (over Tailscale SSH)` };
  return {
    kind: "refuse",
    why: `it names ${coordinator ?? "no coordinator"}, not this run's coordinator ${expected.name}`,
  };
}

/** Judges the claim file's claimer by what this builder's tailnet says of its address. */
export async function judgeClaim(
  ctx: Context,
  source: WhoisSource,
  expected: ExpectedClaimer,
  claimText: string,
): Promise<ClaimVerdict> {
  const { client, coordinator } = parseClaimFile(claimText);
  if (client === undefined) return judgeByName(expected, coordinator);
  const result = await ctx.runner.run({
    argv: whoisArgv(source, client),
    timeoutMs: 10_000,
    maxOutputBytes: REMOTE_OUTPUT_BYTES,
  });
  if (!succeeded(result)) {
    return /peer not found|no match for IP/i.test(result.stderr)
      ? { kind: "refuse", why: `${client} is no node of this tailnet` }
      : { kind: "unknown", why: `tailscale whois ${client}: ${failureLine(result)}` };
  }
  let parsed;
  try {
    parsed = whoisSchema.safeParse(JSON.parse(result.stdout));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) return { kind: "unknown", why: `tailscale whois ${client} printed no identity it knows` };
  const label = parsed.data.Node.Name.split(".")[0] ?? "";
  if (!DNS_LABEL.test(label)) return { kind: "refuse", why: `${client} has no valid tailnet name` };
  const who = `${label} (${client})`;
  if (!(parsed.data.Node.Tags ?? []).includes(expected.tag)) {
    return { kind: "refuse", why: `${who} does not carry ${expected.tag}` };
  }
  if (expected.name !== undefined && label !== expected.name) {
    return { kind: "refuse", why: `${who} is not this run's coordinator ${expected.name}` };
  }
  return { kind: "accept", who };
}

/** How soon a claim that could not be checked is checked again. */
const RECHECK_MS = 1000;

/** The builder's door: looks at the claim file each time it is asked, takes a valid claim, removes others. */
export class ClaimGate {
  readonly #ctx: Context;
  readonly #source: WhoisSource;
  readonly #expected: ExpectedClaimer;
  readonly #path: string;
  #recheckAt = 0;
  #lastUnknown: string | undefined;

  constructor(ctx: Context, source: WhoisSource, expected: ExpectedClaimer, claimPath: string) {
    this.#ctx = ctx;
    this.#source = source;
    this.#expected = expected;
    this.#path = claimPath;
  }

  /** Who claimed this builder, once a claim passes; undefined while there is none that does. */
  async admit(): Promise<string | undefined> {
    const text = this.#ctx.files.readText(this.#path);
    if (text === undefined || this.#ctx.now() < this.#recheckAt) return undefined;
    const verdict = await judgeClaim(this.#ctx, this.#source, this.#expected, text);
    if (verdict.kind === "accept") return verdict.who;
    if (verdict.kind === "unknown") {
      this.#recheckAt = this.#ctx.now() + RECHECK_MS;
      if (verdict.why !== this.#lastUnknown) say(this.#ctx, `cannot check a claim yet: ${verdict.why}`);
      this.#lastUnknown = verdict.why;
      return undefined;
    }
    // Only the claim that was judged: one written meanwhile is judged on its own.
    if (this.#ctx.files.readText(this.#path) === text) this.#ctx.files.remove(this.#path);
    warn(this.#ctx, `ignoring a claim: ${verdict.why}; still waiting for this run's coordinator`);
    return undefined;
  }
}
