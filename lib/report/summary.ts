/** The coordinator's step summary (a table of builders and a diagram of the farm) and its step outputs. */
import { freeText } from "../core/units.ts";
import { builderFacts, type BuilderRow, tenths } from "./builder_row.ts";
import { markdownRow, mermaidText } from "./markdown.ts";

// lib/commands/builder.ts and coordinator.ts import these from here; they live with the row and in core/units.ts.

/** A table cell: `68.2 GiB free in /mnt/dnb-build, /nix 20.1 GiB free`. */
function diskCell(row: BuilderRow): string {
  if (row.buildDir === undefined) return "-";
  return `${freeText(row.buildDirFreeBytes)} in ${row.buildDir}, /nix ${freeText(row.storeFreeBytes)}`;
}

/** A builder's line of the step summary's table; every cell escaped, since a builder chose most of them. */
export function summaryRow(row: BuilderRow): string {
  return markdownRow([
    row.name,
    row.address,
    row.systems.join(", "),
    String(row.cores),
    String(row.maxJobs),
    row.features.join(", ") || "-",
    row.link,
    diskCell(row),
    `${tenths(row.readySeconds).toFixed(1)} s`,
  ]);
}

/** Mermaid ids must be plain words; hostnames may hold hyphens. */
function nodeId(name: string): string {
  return `n_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** The step summary: a table of builders and a diagram of the farm. */
export function farmSummary(coordinator: string, rows: readonly BuilderRow[], readySeconds: number): string {
  const lines = [
    `### dnb: ${rows.length} builder(s) ready in ${readySeconds.toFixed(1)} s`,
    "",
    "| builder | address | systems | cores | max jobs | features | link | free for builds | ready after |",
    "|---|---|---|---:|---:|---|---|---|---:|",
    ...rows.map(summaryRow),
    "",
    "```mermaid",
    "graph LR",
    `  ${nodeId(coordinator)}["${mermaidText(coordinator)}<br/>coordinator"]`,
    ...rows.map((row) =>
      `  ${nodeId(coordinator)} -->|ssh-ng| ${nodeId(row.name)}["${mermaidText(row.name)}<br/>${
        mermaidText(row.systems[0] ?? "")
      }, ${row.cores} cores"]`
    ),
    "```",
    "",
  ];
  return lines.join("\n");
}

/** A builder in the `builders` output (documented in the README): the row, ready time to the tenth of a second. */
export function outputBuilder(row: BuilderRow) {
  return {
    ...builderFacts(row),
    readySeconds: tenths(row.readySeconds),
    link: row.link,
    ...(row.buildDir !== undefined && {
      buildDir: row.buildDir,
      buildDirFreeBytes: row.buildDirFreeBytes,
      storeFreeBytes: row.storeFreeBytes,
    }),
  };
}

/** Step outputs of a coordinator. */
export function coordinatorOutputs(
  hostname: string,
  rows: readonly BuilderRow[],
  machines: string,
  readySeconds: number,
): Record<string, string> {
  return {
    builders: JSON.stringify(rows.map(outputBuilder)),
    systems: [...new Set(rows.flatMap((row) => row.systems))].sort().join(","),
    machines,
    ready_seconds: readySeconds.toFixed(1),
    hostname,
  };
}
