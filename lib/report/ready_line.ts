/** The line a builder gets in the log once it is ready: the coordinator's per builder, and the builder's own. */
import type { BuilderInfo } from "../protocol/builder_info.ts";
import { freeText } from "../core/units.ts";
import type { BuilderRow, DiskFields } from "./builder_row.ts";

/** `builds in /mnt/dnb-build (68.2 GiB free), /nix 20.1 GiB free`; empty when the builder did not say. */
function diskLine(disk: DiskFields): string {
  if (disk.buildDir === undefined) return "";
  return `builds in ${disk.buildDir} (${freeText(disk.buildDirFreeBytes)}), /nix ${freeText(disk.storeFreeBytes)}`;
}

/** `builds in /mnt/dnb-build (68.2 GiB free), /nix 20.1 GiB free` for a ready line; empty when the builder did not say. */
export function diskText(info: Pick<BuilderInfo, "disk">): string {
  return diskLine(info.disk ?? {});
}

/**
 * The coordinator's line for a claimed builder:
 * `b1 100.64.0.11 x86_64-linux 4 cores 8 jobs features kvm link direct, builds in … , ready in 1.2s`.
 */
export function readyLine(row: BuilderRow): string {
  const disk = diskLine(row);
  return `${row.name} ${row.address} ${row.systems.join(",")} ${row.cores} cores ` +
    `${row.maxJobs} jobs features ${row.features.join(",") || "-"} ` +
    `link ${row.link}, ${disk === "" ? "" : `${disk}, `}ready in ${row.readySeconds.toFixed(1)}s`;
}
