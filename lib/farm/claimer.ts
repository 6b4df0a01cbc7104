/**
 * Claims builders as they appear on the tailnet, for the coordinator's first round and the
 * watchdog's late joiners alike: at most `concurrency` claims at once and never more builders than
 * there is room for, a builder that is not ready yet is tried again after a pause that doubles with
 * each failure, a refusal is final, and each admitted builder's ready time is counted from the farm's
 * start. Offering never waits on the network: host-key scans and claims run in flight.
 */
import type { Context } from "../core/context.ts";
import type { Candidate, Discovery } from "../tailnet/discovery.ts";
import { scanHostKeys } from "../ssh/keyscan.ts";
import { admitBuilder } from "./admission.ts";
import type { FarmSettings, Member } from "./cluster.ts";
import type { LocalNix } from "../nix/probe.ts";
import { type SshEntry, writeSshState } from "./configure.ts";

/** A builder seen but not yet answering (sshd starting, info.json not written) is tried again this soon. */
export const RETRY_MS = 500;
/**
 * How long a node with no known route (no home relay, no direct address: it joined a moment ago) is
 * left alone before it is claimed anyway (a tailnet may have no relays at all).
 */
export const ROUTE_GRACE_MS = 5000;

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
  /** This machine's Nix: its version is compared with each builder's daemon protocol; it decides ssh masters. */
  readonly coordinatorNix: LocalNix | undefined;
  readonly voice: ClaimVoice;
  /** Builders already in the farm: dnb's ssh config keeps them while candidates are added. */
  readonly members?: readonly SshEntry[];
  /**
   * How many more builders the farm may take besides those this claimer admitted and has not handed over
   * (`takeAdmitted`): claims in flight count against it. Default: no limit.
   */
  readonly room?: () => number;
  /** The longest pause between tries of a builder that is not ready (the pause doubles from RETRY_MS). */
  readonly maxRetryMs?: number;
}

export class Claimer {
  readonly #settings: FarmSettings;
  readonly #ctx: Context;
  readonly #options: ClaimerOptions;
  readonly #admitted = new Map<string, Member>();
  readonly #fresh: Member[] = [];
  readonly #refused = new Map<string, string>();
  /** Names more than one eligible node answers to now, with why: undecided until one of them leaves. */
  readonly #ambiguous = new Map<string, string>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #retryAfter = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #lastReason = new Map<string, string>();
  readonly #noted = new Set<string>();
  /** When each candidate was first offered, for ROUTE_GRACE_MS. */
  readonly #firstOffered = new Map<string, number>();
  #awaitingRoute = false;
  /** Candidates seen with host keys, by alias. */
  readonly #known = new Map<string, { readonly candidate: Candidate; readonly hostKeys: readonly string[] }>();
  readonly #sshEntries = new Map<string, SshEntry>();
  #closed = false;

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

  /** Names still ambiguous at the last look; refused when the wait ends so. */
  get ambiguous(): ReadonlyMap<string, string> {
    return this.#ambiguous;
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

  /**
   * Takes a look at the tailnet: says each note once, holds back names more than one node answers to
   * (a builder restarted under its name leaves a stale node that the control server keeps online for
   * a while), offers the rest.
   */
  consider(found: Discovery, exclude: ReadonlySet<string> = new Set()): void {
    for (const [key, line] of found.notes) {
      if (this.#noted.has(key)) continue;
      this.#noted.add(key);
      this.#options.voice.note(line);
    }
    this.#ambiguous.clear();
    for (const [alias, reason] of found.refused) {
      if (exclude.has(alias) || this.#admitted.has(alias) || this.#refused.has(alias) || this.#inFlight.has(alias)) {
        continue;
      }
      this.#ambiguous.set(alias, reason);
      if (this.#lastReason.get(alias) !== reason) {
        this.#lastReason.set(alias, reason);
        this.#options.voice.retry(alias, reason);
      }
    }
    this.offer(found.candidates.filter((candidate) => !exclude.has(candidate.alias)));
  }

  /** No claim starts after this (the farm is stopping); those in flight finish. */
  close(): void {
    this.#closed = true;
  }

  /** Whether a candidate was held back at the last offer for want of a route: worth a look again soon. */
  get awaitingRoute(): boolean {
    return this.#awaitingRoute;
  }

  /**
   * A claim sent before a node that just joined has a route is lost in a WireGuard handshake that is
   * retried only after 5 s: such a node waits for its route, ROUTE_GRACE_MS at most.
   */
  #routeKnownOrLate(candidate: Candidate): boolean {
    if (candidate.node.routable) return true;
    const now = this.#ctx.now();
    const first = this.#firstOffered.get(candidate.alias) ?? now;
    this.#firstOffered.set(candidate.alias, first);
    const late = now - first >= ROUTE_GRACE_MS;
    if (!late) this.#awaitingRoute = true;
    return late;
  }

  /** Starts a claim for each candidate that is due, while there is room; returns without waiting for any. */
  offer(candidates: readonly Candidate[]): void {
    this.#awaitingRoute = false;
    for (const candidate of candidates) {
      if (this.#closed) return;
      const alias = candidate.alias;
      if (this.#admitted.has(alias) || this.#refused.has(alias) || this.#inFlight.has(alias)) continue;
      if ((this.#retryAfter.get(alias) ?? 0) > this.#ctx.now()) continue;
      if (!this.#routeKnownOrLate(candidate)) continue;
      if (this.#inFlight.size >= this.#settings.probeConcurrency) return;
      if (this.#inFlight.size + this.#fresh.length >= (this.#options.room?.() ?? Infinity)) return;
      if (candidate.note && !this.#noted.has(alias)) {
        this.#noted.add(alias);
        this.#options.voice.note(candidate.note);
      }
      const claim = this.#claim(candidate).catch((error: Error) => this.#refuse(alias, error.message));
      this.#inFlight.set(alias, claim.finally(() => this.#inFlight.delete(alias)));
    }
  }

  /** The claims in flight, to wait on beside something else. */
  settling(): Promise<void>[] {
    return [...this.#inFlight.values()];
  }

  /** Resolves when a claim in flight settles, or after `ms` when none does sooner. */
  async nextSettled(ms: number): Promise<void> {
    await Promise.race([this.#ctx.sleep(ms), ...this.#inFlight.values()]);
  }

  /** Waits for the claims in flight, or `ms` at most when given (a claim that hangs must not hold a stop). */
  async allSettled(ms?: number): Promise<void> {
    const all = Promise.all(this.#inFlight.values());
    await (ms === undefined ? all : Promise.race([all, this.#ctx.sleep(ms)]));
  }

  async #hostKeys(candidate: Candidate): Promise<readonly string[]> {
    const known = this.#known.get(candidate.alias)?.hostKeys ?? candidate.node.sshHostKeys;
    if (known.length > 0 || this.#settings.sshKey === undefined) return known;
    return await scanHostKeys(this.#ctx, candidate.node.ipv4);
  }

  async #claim(candidate: Candidate): Promise<void> {
    const alias = candidate.alias;
    const hostKeys = await this.#hostKeys(candidate);
    // Tailscale publishes a peer's keys a moment after it comes online; wait for them.
    if (hostKeys.length === 0) return this.#later(alias);
    this.#known.set(alias, { candidate, hostKeys });
    this.#sshEntries.set(alias, { alias, address: candidate.node.ipv4, hostKeys });
    // The claim connects through dnb's own ssh config, which must name the candidate first.
    writeSshState(this.#ctx.files, this.#settings, [...this.#sshEntries.values()]);
    const { voice, coordinatorNix, started } = this.#options;
    const admission = await admitBuilder(this.#settings, this.#ctx, candidate, hostKeys, coordinatorNix);
    if (admission.kind === "admitted") {
      for (const line of admission.warnings) voice.warning(line);
      const member = { ...admission.member, readySeconds: (this.#ctx.now() - started) / 1000 };
      this.#admitted.set(alias, member);
      this.#fresh.push(member);
      voice.admitted(member);
    } else if (admission.kind === "retry") {
      this.#later(alias);
      if (this.#lastReason.get(alias) !== admission.reason) {
        this.#lastReason.set(alias, admission.reason);
        voice.retry(alias, admission.reason);
      }
    } else {
      this.#refuse(alias, admission.reason);
    }
  }

  #refuse(alias: string, reason: string): void {
    this.#refused.set(alias, reason);
    this.#options.voice.refused(alias, reason);
  }

  /** Backs off: RETRY_MS after the first failure, twice that after the next, up to maxRetryMs. */
  #later(alias: string): void {
    const failures = (this.#failures.get(alias) ?? 0) + 1;
    this.#failures.set(alias, failures);
    const pause = Math.min(this.#options.maxRetryMs ?? RETRY_MS, RETRY_MS * 2 ** (failures - 1));
    this.#retryAfter.set(alias, this.#ctx.now() + pause);
  }
}
