/** `dnb status`: what the coordinator knows of its farm, as versioned JSON and as text for a terminal. */
import type { Cluster } from "../farm/cluster.ts";
import { builderFacts, type FarmRow, farmRow } from "./builder_row.ts";
import { usageText, usageTotals } from "./usage.ts";
import { printable } from "../core/sanitize.ts";

/** What status reads from the state folder. */
export interface FarmStatus {
  readonly stateDir: string;
  /** undefined: no coordinator state here. */
  readonly cluster: Cluster | undefined;
  /** null: stop has not run. */
  readonly stoppedAt: string | null;
  readonly watchdog: { readonly pid: number | null; readonly running: boolean };
  /** How this node reaches each builder now, by name; a builder missing here shows `unknown`. */
  readonly links: ReadonlyMap<string, string>;
}

function farmRows(status: FarmStatus): FarmRow[] {
  const { cluster } = status;
  if (cluster === undefined) return [];
  // A record without jobsPerCore counts one job per core.
  return cluster.builders.map((member) =>
    farmRow(member, cluster.settings.jobsPerCore ?? 1, status.links.get(member.alias))
  );
}

/** A builder in `dnb status --json`. */
export function statusBuilder(row: FarmRow) {
  return {
    ...builderFacts(row),
    link: row.link,
    claimedAt: row.claimedAt,
    lastHeartbeat: row.lastHeartbeat,
    state: row.state,
    usage: row.usage,
  };
}

function report(status: FarmStatus, rows: readonly FarmRow[]) {
  const { cluster } = status;
  return {
    version: 1,
    stateDir: status.stateDir,
    coordinator: cluster?.settings.hostname ?? null,
    readyAt: cluster?.readyAt ?? null,
    stoppedAt: status.stoppedAt,
    leaseSeconds: cluster?.settings.leaseSeconds ?? null,
    watchdog: status.watchdog,
    builders: rows.map(statusBuilder),
    utilization: usageTotals(rows),
  };
}

/** The versioned shape of `dnb status --json` (documented in the README). */
export function statusReport(status: FarmStatus): ReturnType<typeof report> {
  return report(status, farmRows(status));
}

/** A builder's line of `dnb status`. */
export function statusLine(row: FarmRow): string {
  return `${row.name.padEnd(24)} ${row.state.padEnd(6)} ${row.address.padEnd(16)} ${row.systems.join(",")} ` +
    `${row.cores} cores, ${row.maxJobs} jobs, features ${row.features.join(",") || "-"}, link ${row.link}, ` +
    `last heartbeat ${row.lastHeartbeat}`;
}

/** `dnb status` for a terminal: the farm, a line per builder, then the utilization table, every line printable. */
export function statusText(status: FarmStatus): string {
  const rows = farmRows(status);
  const { coordinator, readyAt, leaseSeconds, watchdog, stoppedAt, utilization } = report(status, rows);
  const lines = [
    `coordinator ${coordinator}, ready at ${readyAt}, lease ${leaseSeconds}s, watchdog ${
      watchdog.running ? `running (pid ${watchdog.pid})` : "not running"
    }${stoppedAt ? `, stopped at ${stoppedAt}` : ""}`,
    ...rows.map(statusLine),
    "",
    "utilization, as each builder saw it:",
    ...usageText(rows, utilization),
  ];
  return lines.map((line) => printable(line)).join("\n") + "\n";
}
