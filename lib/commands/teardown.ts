import type { Context } from "../context.ts";
import { clusterFile } from "../coordinator.ts";
import { DnbError, EXIT_FAILURE, EXIT_OK } from "../errors.ts";

/**
 * `dnb stop`, `stop-nix-builders` and `dnb post`: with no coordinator state there is nothing to
 * undo, which is a success (post runs on every job, including ones that never got that far).
 */
export function runTeardown(command: "stop" | "post", stateDir: string, ctx: Context): number {
  if (!ctx.fileExists(clusterFile(stateDir))) {
    ctx.err(`dnb ${command}: nothing to do: no coordinator state in ${stateDir}`);
    return EXIT_OK;
  }
  throw new DnbError(`dnb ${command}: found ${clusterFile(stateDir)}, but this version cannot tear a farm down yet`);
}

/** `dnb status [--json]`. */
export function runStatus(stateDir: string, json: boolean, ctx: Context): number {
  if (!ctx.fileExists(clusterFile(stateDir))) {
    if (json) ctx.out(JSON.stringify({ version: 1, stateDir, builders: [] }) + "\n");
    ctx.err(`dnb status: no coordinator state in ${stateDir}`);
    return EXIT_FAILURE;
  }
  throw new DnbError(`dnb status: found ${clusterFile(stateDir)}, but this version cannot read it yet`);
}
