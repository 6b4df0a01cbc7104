import { readCluster } from "../farm/cluster.ts";
import type { Context } from "../core/context.ts";
import { EXIT_FAILURE, EXIT_OK } from "../core/errors.ts";
import { checkStateDir } from "../core/state_dir.ts";
import { watchdogPid, watchdogRunning } from "../farm/lifecycle.ts";
import { type FarmStatus, statusReport, statusText } from "../report/status.ts";
import { readStopped } from "./stop.ts";
import type { Cluster } from "../farm/cluster.ts";
import { dnbSession, type TailnetSession, tailnetStatus } from "../tailnet/session.ts";
import { describeLink } from "../tailnet/link_quality.ts";

/** How this node reaches each builder now (direct, relayed, unknown), asked of the tailscale dnb joined with. */
async function builderLinks(ctx: Context, stateDir: string, cluster: Cluster): Promise<Map<string, string>> {
  let session: TailnetSession | undefined;
  try {
    session = dnbSession(ctx, stateDir);
  } catch {
    return new Map(); // A session file dnb did not write names no program worth running.
  }
  if (session === undefined || cluster.builders.length === 0) return new Map();
  const peers = (await tailnetStatus(ctx, session.bin, session.socket))?.peers ?? [];
  return new Map(
    cluster.builders.map((member) => [member.alias, describeLink(peers.find((peer) => peer.ipv4 === member.address))]),
  );
}

async function farmStatus(ctx: Context, stateDir: string): Promise<FarmStatus> {
  // Nothing is read from a folder that is not there, or that another user could have planted (that throws).
  if (!checkStateDir(ctx, stateDir)) {
    return {
      stateDir,
      cluster: undefined,
      stoppedAt: null,
      watchdog: { pid: null, running: false },
      links: new Map(),
    };
  }
  const cluster = readCluster(ctx.files, stateDir);
  const stopped = readStopped(ctx.files, stateDir);
  return {
    stateDir,
    cluster,
    stoppedAt: stopped === undefined ? null : stopped.at,
    watchdog: { pid: watchdogPid(ctx.files, stateDir) ?? null, running: await watchdogRunning(ctx, stateDir) },
    links: cluster === undefined ? new Map() : await builderLinks(ctx, stateDir, cluster),
  };
}

/** `dnb status [--json]`: what the coordinator knows; exit 1 when there is no coordinator state. */
export async function runStatus(stateDir: string, json: boolean, ctx: Context): Promise<number> {
  const status = await farmStatus(ctx, stateDir);
  if (json) ctx.out(JSON.stringify(statusReport(status), null, 2) + "\n");
  if (status.cluster === undefined) {
    ctx.err(`dnb status: no coordinator state in ${stateDir}`);
    return EXIT_FAILURE;
  }
  if (!json) ctx.out(statusText(status));
  return EXIT_OK;
}
