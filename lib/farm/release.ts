import type { FarmSettings, Member } from "./cluster.ts";

import { say, warn } from "../core/log.ts";
import type { Context } from "../core/context.ts";
import { DONE_SCRIPT, remoteArgv } from "../protocol/scripts.ts";
import { type BuilderUsage, parseUsage } from "../protocol/usage.ts";
import { REMOTE_OUTPUT_BYTES, succeeded } from "../core/exec.ts";
import { statePath } from "../core/state_dir.ts";
import { describeRestore, restoreSystemFiles } from "../core/system_files.ts";
import { sshMasterPath, stopSshMaster } from "../ssh/master.ts";

const DONE_ATTEMPTS = 3;

/** Writes `done` on one builder, trying a few times: a builder that misses it still ends when its lease lapses. */
export async function signalDone(ctx: Context, settings: FarmSettings, alias: string): Promise<boolean> {
  return (await releaseBuilder(ctx, settings, alias)).released;
}

/** Like signalDone, and also returns the builder's final usage reading when it sent a valid one. */
export async function releaseBuilder(
  ctx: Context,
  settings: FarmSettings,
  alias: string,
): Promise<{ readonly released: boolean; readonly usage?: BuilderUsage }> {
  for (let attempt = 1; attempt <= DONE_ATTEMPTS; attempt++) {
    const result = await ctx.runner.run({
      argv: remoteArgv(statePath(settings.stateDir, "sshConfig"), alias, DONE_SCRIPT),
      stdin: `${settings.builderStateDir}\n`,
      timeoutMs: 10_000,
      maxOutputBytes: REMOTE_OUTPUT_BYTES,
    });
    if (succeeded(result)) return { released: true, usage: parseUsage(result.stdout) };
    if (attempt < DONE_ATTEMPTS) await ctx.sleep(1000);
  }
  return { released: false };
}

/** Ends the ssh masters of these builders (those that have one): after their release, which may ride them. */
export async function endSshMasters(ctx: Context, settings: FarmSettings, aliases: readonly string[]): Promise<void> {
  const sshConfig = statePath(settings.stateDir, "sshConfig");
  await Promise.all(aliases.map(async (alias) => {
    const path = sshMasterPath(settings.stateDir, alias);
    if (path !== undefined) await stopSshMaster(ctx, sshConfig, alias, path);
  }));
}

/** A coordinator that fails half-way leaves nothing behind: builders it claimed are released, files put back. */
export async function releaseAndRestore(
  ctx: Context,
  settings: FarmSettings,
  claimed: readonly Member[],
): Promise<void> {
  const released = await Promise.all(claimed.map((member) => signalDone(ctx, settings, member.alias)));
  await endSshMasters(ctx, settings, claimed.map((member) => member.alias));
  const restore = restoreSystemFiles(ctx.files, settings.stateDir);
  if (claimed.length > 0) {
    say(
      ctx,
      `released ${
        claimed.filter((_, index) => released[index]).map((member) => member.alias).join(", ") || "no builder"
      }`,
    );
  }
  if (restore.restored.length + restore.removed.length > 0) say(ctx, describeRestore(restore));
  for (const refused of restore.refused) warn(ctx, `left alone: ${refused}`);
}
