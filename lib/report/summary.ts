import type { BuilderInfo } from "../protocol/builder_info.ts";
import { type Member } from "../farm/cluster.ts";

/** One row per builder for the step summary and the outputs. */
export interface BuilderRow {
  readonly name: string;
  readonly address: string;
  readonly systems: readonly string[];
  readonly cores: number;
  readonly maxJobs: number;
  readonly features: readonly string[];
  readonly readySeconds: number;
  /** How the coordinator reaches it: direct, relayed (DERP iad) or unknown. */
  readonly link: string;
  /** Where the builder's builds put their temporary folders, and free bytes there and in /nix. */
  readonly buildDir?: string;
  readonly buildDirFreeBytes?: number;
  readonly storeFreeBytes?: number;
}

/** `68.2 GiB free`, or that it is not known. */
export function freeText(bytes: number | undefined): string {
  return bytes === undefined ? "free space unknown" : `${(bytes / 2 ** 30).toFixed(1)} GiB free`;
}

/** `builds in /mnt/dnb-build (68.2 GiB free), /nix 20.1 GiB free` for a ready line; empty when the builder did not say. */
export function diskText(info: Pick<BuilderInfo, "disk">): string {
  if (info.disk === undefined) return "";
  return `builds in ${info.disk.buildDir} (${freeText(info.disk.buildDirFreeBytes)}), /nix ${
    freeText(info.disk.storeFreeBytes)
  }`;
}

/** A table cell: `68.2 GiB free in /mnt/dnb-build, /nix 20.1 GiB free`. */
function diskCell(row: BuilderRow): string {
  if (row.buildDir === undefined) return "-";
  return `${freeText(row.buildDirFreeBytes)} in ${row.buildDir}, /nix ${freeText(row.storeFreeBytes)}`;
}

export function builderRows(
  members: readonly Member[],
  jobsPerCore: number,
  links: ReadonlyMap<string, string> = new Map(),
): BuilderRow[] {
  return members.map((member) => ({
    name: member.alias,
    address: member.address,
    systems: member.info.systems,
    cores: member.info.cores,
    maxJobs: member.info.cores * jobsPerCore,
    features: member.info.features,
    readySeconds: Number(member.readySeconds.toFixed(1)),
    link: links.get(member.alias) ?? "unknown",
    ...(member.info.disk && {
      buildDir: member.info.disk.buildDir,
      buildDirFreeBytes: member.info.disk.buildDirFreeBytes,
      storeFreeBytes: member.info.disk.storeFreeBytes,
    }),
  }));
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
    ...rows.map((row) =>
      `| ${row.name} | ${row.address} | ${row.systems.join(", ")} | ${row.cores} | ${row.maxJobs} | ${
        row.features.join(", ") || "-"
      } | ${row.link} | ${diskCell(row)} | ${row.readySeconds.toFixed(1)} s |`
    ),
    "",
    "```mermaid",
    "graph LR",
    `  ${nodeId(coordinator)}["${coordinator}<br/>coordinator"]`,
    ...rows.map((row) =>
      `  ${nodeId(coordinator)} -->|ssh-ng| ${nodeId(row.name)}["${row.name}<br/>${
        row.systems[0]
      }, ${row.cores} cores"]`
    ),
    "```",
    "",
  ];
  return lines.join("\n");
}

/** Step outputs of a coordinator. */
export function coordinatorOutputs(
  hostname: string,
  rows: readonly BuilderRow[],
  machines: string,
  readySeconds: number,
): Record<string, string> {
  return {
    builders: JSON.stringify(rows),
    systems: [...new Set(rows.flatMap((row) => row.systems))].sort().join(","),
    machines,
    ready_seconds: readySeconds.toFixed(1),
    hostname,
  };
}
