/**
 * Claims builders as they appear on the tailnet, for the coordinator's first round and the
 * watchdog's late joiners alike: at most `concurrency` claims at once, a builder that is not
 * ready yet is tried again after a pause, a refusal is final, and each admitted builder's ready
 * time is counted from the farm's start.
 */
import type { Context } from "../core/context.ts";
import type { Candidate } from "../tailnet/discovery.ts";
import { scanHostKeys } from "../ssh/keyscan.ts";
import { admitBuilder } from "./admission.ts";
import type { FarmSettings, Member } from "./cluster.ts";
import { type SshEntry, writeSshState } from "./configure.ts";

/** A builder seen but not yet answering (sshd starting, info.json not written) is tried again this soon. */
export const RETRY_MS = 500;

/** What each caller says about the claims: the coordinator and the watchdog word them differently. */
export interface ClaimVoice {
  admitted(member: Member): void;
  warning(line: string): void;
  retry(alias: string, reason: string): void;
  refused(alias: string, reason: string): void;
  /** Something about a candidate's name worth saying once (a `-1` given by the control plane). */
  note(line: string): void;
}

export interface ClaimerOptions {
  /** When the farm started looking for builders: ready times count from here. */
  readonly started: number;
  /** This machine's Nix version, compared with each builder's daemon protocol. */
  readonly coordinatorNix: string | undefined;
  readonly voice: ClaimVoice;
  /** Builders already in the farm: dnb's ssh config keeps them while candidates are added. */
  readonly members?: readonly SshEntry[];
}

export class Claimer {
  readonly #settings: FarmSettings;
  readonly #ctx: Context;
  readonly #options: ClaimerOptions;
  readonly #admitted = new Map<string, Member>();
  readonly #fresh: Member[] = [];
  readonly #refused = new Map<string, string>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #retryAfter = new Map<string, number>();
  readonly #lastReason = new Map<string, string>();
  readonly #noted = new Set<string>();
  /** Candidates seen with host keys, by alias. */
  readonly #known = new Map<string, { readonly candidate: Candidate; readonly hostKeys: readonly string[] }>();
  readonly #sshEntries = new Map<string, SshEntry>();

  constructor(settings: FarmSettings, ctx: Context, options: ClaimerOptions) {
    this.#settings = settings;
    this.#ctx = ctx;
    this.#options = options;
    for (const member of options.members ?? []) this.#sshEntries.set(member.alias, member);
  }

  get admitted(): ReadonlyMap<string, Member> {
    return this.#admitted;
  }

  get refused(): ReadonlyMap<string, string> {
    return this.#refused;
  }

  /** Claims under way. */
  get pending(): number {
    return this.#inFlight.size;
  }

  /** Whether a builder of this name has shown up with host keys, or was refused. */
  seen(alias: string): boolean {
    return this.#known.has(alias) || this.#refused.has(alias);
  }

  /** The candidates seen so far, to be offered again without asking the tailnet. */
  knownCandidates(): Candidate[] {
    return [...this.#known.values()].map((known) => known.candidate);
  }

  /** Builders admitted since the last call (the watchdog adds them to its farm). */
  takeAdmitted(): Member[] {
    return this.#fresh.splice(0);
  }

  /** Starts a claim for each candidate that is due and has host keys; returns without waiting for them. */
  async offer(candidates: readonly Candidate[]): Promise<void> {
    for (const candidate of candidates) {
      const alias = candidate.alias;
      if (this.#admitted.has(alias) || this.#refused.has(alias) || this.#inFlight.has(alias)) continue;
      if ((this.#retryAfter.get(alias) ?? 0) > this.#ctx.now()) continue;
      if (this.#inFlight.size >= this.#settings.probeConcurrency) return;
      if (candidate.note && !this.#noted.has(alias)) {
        this.#noted.add(alias);
        this.#options.voice.note(candidate.note);
      }
      const hostKeys = await this.#hostKeys(candidate);
      // Tailscale publishes a peer's keys a moment after it comes online; wait for them.
      if (hostKeys.length === 0) continue;
      this.#known.set(alias, { candidate, hostKeys });
      this.#sshEntries.set(alias, { alias, address: candidate.node.ipv4, hostKeys });
      // The claim connects through dnb's own ssh config, which must name the candidate first.
      writeSshState(this.#ctx.files, this.#settings, [...this.#sshEntries.values()]);
      this.#inFlight.set(alias, this.#claim(candidate, hostKeys).finally(() => this.#inFlight.delete(alias)));
    }
  }

  /** Resolves when a claim in flight settles, or after `ms` when none does sooner. */
  async nextSettled(ms: number): Promise<void> {
    await Promise.race([this.#ctx.sleep(ms), ...this.#inFlight.values()]);
  }

  async allSettled(): Promise<void> {
    await Promise.all(this.#inFlight.values());
  }

  async #hostKeys(candidate: Candidate): Promise<readonly string[]> {
    const known = this.#known.get(candidate.alias)?.hostKeys ?? candidate.node.sshHostKeys;
    if (known.length > 0 || this.#settings.sshKey === undefined) return known;
    return await scanHostKeys(this.#ctx, candidate.node.ipv4);
  }

  async #claim(candidate: Candidate, hostKeys: readonly string[]): Promise<void> {
    const { voice, coordinatorNix, started } = this.#options;
    const admission = await admitBuilder(this.#settings, this.#ctx, candidate, hostKeys, coordinatorNix);
    const alias = candidate.alias;
    if (admission.kind === "admitted") {
      for (const line of admission.warnings) voice.warning(line);
      const member = { ...admission.member, readySeconds: (this.#ctx.now() - started) / 1000 };
      this.#admitted.set(alias, member);
      this.#fresh.push(member);
      voice.admitted(member);
    } else if (admission.kind === "retry") {
      this.#retryAfter.set(alias, this.#ctx.now() + RETRY_MS);
      if (this.#lastReason.get(alias) !== admission.reason) {
        this.#lastReason.set(alias, admission.reason);
        voice.retry(alias, admission.reason);
      }
    } else {
      this.#refused.set(alias, admission.reason);
      voice.refused(alias, admission.reason);
    }
  }
}
