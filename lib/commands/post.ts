import { readCluster } from "../farm/cluster.ts";
import { statePath } from "../core/state_dir.ts";
import type { Context } from "../core/context.ts";
import { EXIT_OK } from "../core/errors.ts";
import { say, warn } from "../core/log.ts";
import { writeSummary } from "../core/actions.ts";
import { leaveTailnet, readSession } from "../tailnet/session.ts";
import { usageMarkdown, usageRows, usageTotals } from "../report/usage.ts";
import { runStop } from "./stop.ts";
import { describeRestore, restoreSystemFiles } from "../core/system_files.ts";

/**
 * `dnb post`, the action's post step on success, failure and cancel: stop if it has not run, then
 * log out a node dnb logged in. Teardown hiccups are warnings; it always exits 0.
 */
export async function runPost(stateDir: string, ctx: Context): Promise<number> {
  if (
    readCluster(ctx.files, stateDir) !== undefined && ctx.files.readText(statePath(stateDir, "stopped")) === undefined
  ) {
    try {
      await runStop(stateDir, ctx);
    } catch (error) {
      warn(ctx, `post: ${(error as Error).message}`);
    }
  } else {
    say(ctx, readCluster(ctx.files, stateDir) ? "post: stop already ran" : `post: no coordinator state in ${stateDir}`);
    // A builder killed before it could clean up (its udev rule, its build-dir block) is tidied here.
    const restore = restoreSystemFiles(ctx.files, stateDir);
    if (restore.restored.length + restore.removed.length > 0) say(ctx, `post: ${describeRestore(restore)}`);
  }
  const session = readSession(ctx.files, stateDir);
  if (session === undefined) {
    say(ctx, "post: no tailnet session of dnb's here");
  } else if (!session.ours) {
    say(ctx, "post: the tailnet node was not started by dnb; left as it is");
  } else {
    await leaveTailnet(session, ctx, stateDir);
    say(ctx, "post: logged this node out of the tailnet");
  }
  // The end of the job: the step summary gets the farm's utilization, final readings included.
  const cluster = readCluster(ctx.files, stateDir);
  if (cluster !== undefined) {
    const rows = usageRows(cluster.builders);
    writeSummary(ctx, usageMarkdown(rows, usageTotals(rows)));
  }
  return EXIT_OK;
}
