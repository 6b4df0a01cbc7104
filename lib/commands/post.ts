import { readCluster } from "../farm/cluster.ts";
import { checkStateDir, statePath } from "../core/state_dir.ts";
import type { Context } from "../core/context.ts";
import { EXIT_OK } from "../core/errors.ts";
import { say, warn } from "../core/log.ts";
import { writeSummary } from "../core/actions.ts";
import { dnbSession, leaveTailnet } from "../tailnet/session.ts";
import { usageMarkdown, usageRows, usageTotals } from "../report/usage.ts";
import { runStop } from "./stop.ts";
import { describeRestore, restoreSystemFiles } from "../core/system_files.ts";

/** Stop when it has not run; else put back what a builder killed before it could clean up changed. */
async function stopOrRestore(stateDir: string, ctx: Context): Promise<void> {
  if (
    readCluster(ctx.files, stateDir) !== undefined && ctx.files.readText(statePath(stateDir, "stopped")) === undefined
  ) {
    try {
      await runStop(stateDir, ctx);
    } catch (error) {
      warn(ctx, `post: ${(error as Error).message}`);
    }
    return;
  }
  say(ctx, readCluster(ctx.files, stateDir) ? "post: stop already ran" : `post: no coordinator state in ${stateDir}`);
  // A builder killed before it could clean up (its udev rule, its build-dir block) is tidied here.
  const restore = restoreSystemFiles(ctx.files, stateDir);
  if (restore.restored.length + restore.removed.length > 0) say(ctx, `post: ${describeRestore(restore)}`);
  for (const refused of restore.refused) warn(ctx, `post: left alone: ${refused}`);
}

/** Logs out the node dnb logged in; a session naming a tailscale dnb would not run is left alone. */
async function leave(stateDir: string, ctx: Context): Promise<void> {
  let session;
  try {
    session = dnbSession(ctx, stateDir);
  } catch (error) {
    warn(ctx, `post: ${(error as Error).message}; the node is left as it is`);
    return;
  }
  if (session === undefined) {
    say(ctx, "post: no tailnet session of dnb's here");
  } else if (!session.ours) {
    say(ctx, "post: the tailnet node was not started by dnb; left as it is");
  } else {
    await leaveTailnet(session, ctx, stateDir);
    say(ctx, "post: logged this node out of the tailnet");
  }
}

/**
 * `dnb post`, the action's post step on success, failure and cancel: stop if it has not run, then
 * log out a node dnb logged in. A state folder another user could have planted is refused (exit 1,
 * nothing done); otherwise teardown hiccups are warnings and it exits 0.
 */
export async function runPost(stateDir: string, ctx: Context): Promise<number> {
  if (!checkStateDir(ctx, stateDir)) {
    say(ctx, `post: no coordinator state in ${stateDir}`);
    say(ctx, "post: no tailnet session of dnb's here");
    return EXIT_OK;
  }
  // A job cancelled while `tailscale up` ran may have been killed before it deleted the secret it read.
  for (const secret of ["authKey", "idToken"] as const) ctx.files.remove(statePath(stateDir, secret));
  await stopOrRestore(stateDir, ctx);
  await leave(stateDir, ctx);
  // The end of the job: the step summary gets the farm's utilization, final readings included.
  const cluster = readCluster(ctx.files, stateDir);
  if (cluster !== undefined) {
    const rows = usageRows(cluster.builders);
    writeSummary(ctx, usageMarkdown(rows, usageTotals(rows)));
  }
  return EXIT_OK;
}
