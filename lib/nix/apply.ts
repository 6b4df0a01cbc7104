/**
 * Makes Nix take dnb's settings: dnb's marked block in the file Nix reads settings from, a daemon
 * restart where a daemon runs, and a read-back of what Nix now uses.
 */
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import { say, warn } from "../core/log.ts";
import { upsertBlock } from "../core/managed_block.ts";
import { findOnPath } from "../core/path_lookup.ts";

import { MACHINES_FILE, NIX_CONF_DIR, nixConfTarget } from "./conf.ts";
import { daemonRestartArgv, DETERMINATE_LAUNCHD_PLIST, NIX_DAEMON_SOCKET } from "./daemon.ts";
import { effectiveBuilders, readNixConfigJson } from "./probe.ts";
import { failureLine, succeeded } from "../core/exec.ts";
import { writeSystemFile } from "../core/system_files.ts";
import type { Files } from "../core/files.ts";

/**
 * Writes dnb's marked block at the end of the file Nix takes settings from (nix.custom.conf where
 * nix.conf `!include`s it, as Determinate sets up); returns that file's path.
 */
export function writeNixConfBlock(
  files: Files,
  stateDir: string,
  lines: readonly string[],
  dir = NIX_CONF_DIR,
): string {
  const nixConf = nixConfTarget(files.readText(`${dir}/nix.conf`), dir);
  writeSystemFile(files, stateDir, nixConf, upsertBlock(files.readText(nixConf) ?? "", lines, "end"));
  return nixConf;
}

/** Restarts the Nix daemon where one runs, so it rereads nix.conf; single-user Nix needs nothing. */
export async function restartNixDaemon(ctx: Context): Promise<boolean> {
  if (!ctx.files.exists(NIX_DAEMON_SOCKET)) return false;
  const argv = daemonRestartArgv(ctx.platform.os, ctx.files.exists(DETERMINATE_LAUNCHD_PLIST));
  if (argv === undefined) throw new DnbError(`dnb cannot restart the Nix daemon on ${ctx.platform.os}`);
  const result = await ctx.runner.run({ argv, timeoutMs: 60_000 });
  if (!succeeded(result)) {
    throw new DnbError(`restarting the Nix daemon failed: ${failureLine(result)}`, {
      hint: "nix.conf changes take effect only after a restart",
    });
  }
  return true;
}

const EXPECTED_BUILDERS = `@${MACHINES_FILE}`;

/** The `builders` value Nix now takes from its configuration; undefined when Nix cannot be asked. */
export async function readBuildersSetting(ctx: Context): Promise<string | undefined> {
  const nix = findOnPath(ctx.files, "nix", ctx.env.PATH ?? "");
  const json = nix === undefined ? undefined : await readNixConfigJson(ctx, nix);
  return json === undefined ? undefined : effectiveBuilders(json);
}

/**
 * Says which `builders` value Nix reads (readBuildersSetting), so a setting that wins over dnb's
 * block (NIX_CONFIG, a later include, a user's file) is caught here rather than as local builds.
 */
export function reportBuildersSetting(ctx: Context, builders: string | undefined): void {
  if (builders === EXPECTED_BUILDERS) {
    say(ctx, `Nix now reads builders = ${builders}`);
  } else {
    warn(
      ctx,
      `Nix reads builders = ${builders === undefined ? "(could not ask Nix)" : JSON.stringify(builders)}, ` +
        `not ${EXPECTED_BUILDERS}: a setting elsewhere (NIX_CONFIG, a later include) overrides dnb's block`,
    );
  }
}
