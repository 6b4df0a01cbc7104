/**
 * One builder as every view shows it: the step summary's table and outputs, the coordinator's ready line,
 * `dnb status` and `dnb status --json`. A row is built once from a farm member, and each view renders it,
 * so the views cannot disagree (max jobs is worked out here and nowhere else in the reports).
 */
import type { BuilderInfo } from "../protocol/builder_info.ts";
import type { BuilderState, ClusterMember, Member } from "../farm/cluster.ts";
import { type UsageRow, usageRow } from "./usage.ts";

/** Where a builder's builds put their temporary folders, and free bytes there and in /nix; absent when it did not say. */
export type DiskFields = Partial<NonNullable<BuilderInfo["disk"]>>;

export interface BuilderRow extends DiskFields {
  readonly name: string;
  readonly address: string;
  readonly systems: readonly string[];
  readonly cores: number;
  /** cores × jobs per core: how many builds Nix runs there at once. */
  readonly maxJobs: number;
  readonly features: readonly string[];
  /** From the start of the claims to this builder's claim. */
  readonly readySeconds: number;
  /** How the coordinator reaches it: direct, relayed (DERP iad) or unknown. */
  readonly link: string;
}

/** A builder in the coordinator's farm record: its row, and what the watchdog and stop learnt of it since. */
export interface FarmRow extends BuilderRow, UsageRow {
  readonly claimedAt: string;
  readonly lastHeartbeat: string;
  readonly state: BuilderState;
}

export function builderRow(member: Member, jobsPerCore: number, link = "unknown"): BuilderRow {
  return {
    name: member.alias,
    address: member.address,
    systems: member.info.systems,
    cores: member.info.cores,
    maxJobs: member.info.cores * jobsPerCore,
    features: member.info.features,
    readySeconds: member.readySeconds,
    link,
    ...(member.info.disk && {
      buildDir: member.info.disk.buildDir,
      buildDirFreeBytes: member.info.disk.buildDirFreeBytes,
      storeFreeBytes: member.info.disk.storeFreeBytes,
    }),
  };
}

/** Rows in the members' order; `links` by alias, a builder missing from it has link `unknown`. */
export function builderRows(
  members: readonly Member[],
  jobsPerCore: number,
  links: ReadonlyMap<string, string> = new Map(),
): BuilderRow[] {
  return members.map((member) => builderRow(member, jobsPerCore, links.get(member.alias)));
}

export function farmRow(member: ClusterMember, jobsPerCore: number, link?: string): FarmRow {
  return {
    ...builderRow(member, jobsPerCore, link),
    claimedAt: member.claimedAt,
    lastHeartbeat: member.lastHeartbeat,
    state: member.state,
    usage: usageRow(member).usage,
  };
}

/** What every JSON view of a builder starts with, in this order. */
export function builderFacts(row: BuilderRow) {
  return {
    name: row.name,
    address: row.address,
    systems: row.systems,
    cores: row.cores,
    maxJobs: row.maxJobs,
    features: row.features,
  };
}

/** Seconds to the tenth, as the outputs' JSON holds them (and the table shows them). */
export function tenths(seconds: number): number {
  return Number(seconds.toFixed(1));
}
