/** The utilization report: per builder and for the farm, as JSON fields, text for a terminal and markdown. */
import type { ClusterMember } from "../farm/cluster.ts";
import { markdownItem, markdownRow } from "./markdown.ts";

export interface UsageRow {
  readonly name: string;
  /** null when the builder never sent a reading (an older dnb, or lost before its first heartbeat). */
  readonly usage: {
    readonly derivations: number;
    readonly busySeconds: number;
    /** From the claim to the latest reading, on the builder's clock. */
    readonly claimedSeconds: number;
    readonly utilizationPercent: number;
    readonly at: string;
  } | null;
}

export interface UsageTotals {
  readonly buildersReporting: number;
  readonly derivations: number;
  readonly busyMinutes: number;
  readonly runnerMinutes: number;
  /** null when no builder reported any claimed time. */
  readonly utilizationPercent: number | null;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function percent(busySeconds: number, claimedSeconds: number): number {
  return claimedSeconds > 0 ? round(Math.min(100, (busySeconds / claimedSeconds) * 100), 1) : 0;
}

/** A builder's latest reading as the views show it; `usage: null` when it never sent one. */
export function usageRow(member: ClusterMember): UsageRow {
  const usage = member.usage;
  if (usage === undefined) return { name: member.alias, usage: null };
  // Rounded as busy time is, so a row and the farm's totals agree.
  const claimedSeconds = round(Math.max(0, (Date.parse(usage.at) - Date.parse(usage.claimedAt)) / 1000), 1);
  return {
    name: member.alias,
    usage: {
      derivations: usage.derivations,
      busySeconds: usage.busySeconds,
      claimedSeconds,
      utilizationPercent: percent(usage.busySeconds, claimedSeconds),
      at: usage.at,
    },
  };
}

export function usageRows(members: readonly ClusterMember[]): UsageRow[] {
  return members.map(usageRow);
}

export function usageTotals(rows: readonly UsageRow[]): UsageTotals {
  const reporting = rows.flatMap((row) => row.usage === null ? [] : [row.usage]);
  const busySeconds = reporting.reduce((sum, usage) => sum + usage.busySeconds, 0);
  const claimedSeconds = reporting.reduce((sum, usage) => sum + usage.claimedSeconds, 0);
  return {
    buildersReporting: reporting.length,
    derivations: reporting.reduce((sum, usage) => sum + usage.derivations, 0),
    busyMinutes: round(busySeconds / 60, 2),
    runnerMinutes: round(claimedSeconds / 60, 2),
    utilizationPercent: claimedSeconds > 0 ? percent(busySeconds, claimedSeconds) : null,
  };
}

/** `4.2s`, `42s`, `3m05s`, `1h02m`: short enough for a table cell. */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${round(seconds, 1).toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  const minutes = Math.round(whole / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

function formatMinutes(minutes: number): string {
  return minutes < 10 ? minutes.toFixed(2) : minutes.toFixed(1);
}

function formatPercent(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)}%`;
}

/** Below this the farm mostly waited; above the high mark it was the bottleneck. */
const IDLE_BELOW_PERCENT = 25;
const BUSY_FROM_PERCENT = 75;

/** What the numbers say about the farm's size, one sentence each. */
export function usageNotes(rows: readonly UsageRow[], totals: UsageTotals): string[] {
  if (totals.buildersReporting === 0) {
    return ["no builder reported its usage (builders running an older dnb, or lost before their first heartbeat)"];
  }
  if (totals.derivations === 0) {
    return ["the farm built nothing: check that builds run with --max-jobs 0 and were not all substituted"];
  }
  const notes: string[] = [];
  const unused = rows.filter((row) => row.usage?.derivations === 0).map((row) => row.name);
  if (unused.length > 0) notes.push(`${unused.join(", ")} built nothing: the farm would have done as well without it`);
  const utilization = totals.utilizationPercent ?? 0;
  if (utilization < IDLE_BELOW_PERCENT) {
    notes.push(`the farm was busy ${formatPercent(utilization)} of its claimed time: fewer builders would do`);
  } else if (utilization >= BUSY_FROM_PERCENT) {
    notes.push(
      `the farm was busy ${formatPercent(utilization)} of its claimed time: more or larger builders may finish sooner`,
    );
  }
  return notes;
}

function cells(row: UsageRow): [string, string, string, string, string] {
  const usage = row.usage;
  return usage === null ? [row.name, "-", "-", "-", "-"] : [
    row.name,
    String(usage.derivations),
    formatDuration(usage.busySeconds),
    formatDuration(usage.claimedSeconds),
    formatPercent(usage.utilizationPercent),
  ];
}

function totalsLine(totals: UsageTotals): string {
  return `${totals.derivations} derivation(s); ${formatMinutes(totals.busyMinutes)} busy minutes of ${
    formatMinutes(totals.runnerMinutes)
  } runner minutes${totals.utilizationPercent === null ? "" : ` (${formatPercent(totals.utilizationPercent)})`}`;
}

/** Lines for a terminal: a table with a header, the farm totals and any notes. */
export function usageText(rows: readonly UsageRow[], totals: UsageTotals): string[] {
  const table = [["builder", "derivations", "busy", "claimed", "utilization"], ...rows.map(cells)];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return [
    ...table.map((line) =>
      line.map((cell, column) => column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!)).join("  ")
    ),
    `farm: ${totalsLine(totals)}`,
    ...usageNotes(rows, totals),
  ];
}

/** The step summary's utilization section, for the end of the job. */
export function usageMarkdown(rows: readonly UsageRow[], totals: UsageTotals): string {
  const farm = totals.utilizationPercent === null ? "-" : formatPercent(totals.utilizationPercent);
  return [
    "### dnb: farm utilization",
    "",
    "| builder | derivations | busy | claimed | utilization |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((row) => markdownRow(cells(row))),
    `| **farm** | **${totals.derivations}** | **${formatMinutes(totals.busyMinutes)} min** | **${
      formatMinutes(totals.runnerMinutes)
    } min** | **${farm}** |`,
    "",
    `Busy: time in which the builder ran at least one build, as the builder saw it (sampled every second). ` +
    `Claimed: from the coordinator's claim to the builder's last reading.`,
    "",
    // A list, since a note may start with a builder's name, whose case must stay as it is.
    ...usageNotes(rows, totals).map(markdownItem),
    "",
  ].join("\n");
}
