import type { BuilderInfo } from "../protocol/builder_info.ts";
import type { FarmSettings } from "./cluster.ts";
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import { findOnPath, NIX_DAEMON_SOCKET } from "../core/facts.ts";
import { readIfExists, writeFileAtomic, writeSystemFile } from "../core/files.ts";
import { knownHostsLines, preferredHostKey } from "../ssh/host_keys.ts";
import { type MachineEntry, machinesFile, machinesLine } from "../nix/machines_file.ts";
import { upsertBlock } from "../core/managed_block.ts";
import { MACHINES_FILE, NIX_CONF_DIR, nixConfBlockBody, nixConfTarget } from "../nix/conf.ts";
import {
  daemonRestartArgv,
  DETERMINATE_LAUNCHD_PLIST,
  parseStorePing,
  queryStore,
  type StorePing,
} from "../nix/daemon.ts";
import { SSH_CONFIG, sshConfigLines, sshConfigTarget } from "../ssh/ssh_config.ts";
import { effectiveBuilders, readNixConfigJson } from "../nix/probe.ts";
import { say, warn } from "../core/log.ts";

/** A claimed builder: where it is, the keys pinned for it and what it said it offers. */
export interface Member {
  readonly alias: string;
  readonly address: string;
  readonly hostKeys: readonly string[];
  readonly info: BuilderInfo;
  readonly readySeconds: number;
}

export function knownHostsFile(stateDir: string): string {
  return `${stateDir}/known_hosts`;
}

export function privateSshConfig(stateDir: string): string {
  return `${stateDir}/ssh_config`;
}

function sshLines(settings: FarmSettings, members: readonly { alias: string; address: string }[]): string[] {
  return sshConfigLines(
    members.map((member) => ({
      alias: member.alias,
      address: member.address,
      user: settings.sshUser,
      identityFile: settings.sshKey,
    })),
    knownHostsFile(settings.stateDir),
  );
}

/** dnb's own ssh config and known_hosts in the state folder, for its claims (`ssh -F`). */
export function writeSshState(
  settings: FarmSettings,
  unordered: readonly { alias: string; address: string; hostKeys: readonly string[] }[],
) {
  // In name order, so the files do not depend on which builder showed up first.
  const members = [...unordered].sort((a, b) => a.alias.localeCompare(b.alias));
  writeFileAtomic(
    knownHostsFile(settings.stateDir),
    members.flatMap((member) => knownHostsLines(member.alias, member.hostKeys)).join("\n") + "\n",
  );
  writeFileAtomic(privateSshConfig(settings.stateDir), sshLines(settings, members).join("\n") + "\n");
}

export function machineEntry(settings: FarmSettings, member: Member): MachineEntry {
  return {
    sshUser: settings.sshUser,
    alias: member.alias,
    nixDaemon: member.info.nixDaemon,
    systems: member.info.systems,
    sshKey: settings.sshKey,
    cores: member.info.cores,
    jobsPerCore: settings.jobsPerCore,
    features: member.info.features,
    mandatoryFeatures: [],
    hostKey: preferredHostKey(member.hostKeys)!,
  };
}

export function storeUri(settings: FarmSettings, member: Member): string {
  return machinesLine(machineEntry(settings, member)).split(" ")[0]!;
}

/** Writes the machines file, dnb's nix.conf block and root's ssh config; each original is kept for teardown. */
export function writeNixFiles(
  settings: FarmSettings,
  members: readonly Member[],
): { nixConf: string; sshConfig: string } {
  writeSystemFile(
    settings.stateDir,
    MACHINES_FILE,
    machinesFile(members.map((member) => machineEntry(settings, member))),
  );
  const nixConf = writeNixConfBlock(settings.stateDir, nixConfBlockBody(settings.extraNixConfig));
  const target = sshConfigTarget(readIfExists(SSH_CONFIG));
  const lines = sshLines(settings, members);
  writeSystemFile(
    settings.stateDir,
    target.path,
    target.kind === "drop-in" ? lines.join("\n") + "\n" : upsertBlock(readIfExists(target.path) ?? "", lines, "start"),
  );
  return { nixConf, sshConfig: target.path };
}

/**
 * Writes dnb's marked block at the end of the file Nix takes settings from (nix.custom.conf where
 * nix.conf `!include`s it, as Determinate sets up); returns that file's path.
 */
export function writeNixConfBlock(stateDir: string, lines: readonly string[], dir = NIX_CONF_DIR): string {
  const nixConf = nixConfTarget(readIfExists(`${dir}/nix.conf`), dir);
  writeSystemFile(stateDir, nixConf, upsertBlock(readIfExists(nixConf) ?? "", lines, "end"));
  return nixConf;
}

/** Restarts the Nix daemon where one runs, so it rereads nix.conf; single-user Nix needs nothing. */
export async function restartNixDaemon(ctx: Context): Promise<boolean> {
  if (!ctx.fileExists(NIX_DAEMON_SOCKET)) return false;
  const argv = daemonRestartArgv(ctx.platform.os, ctx.fileExists(DETERMINATE_LAUNCHD_PLIST));
  if (argv === undefined) throw new DnbError(`dnb cannot restart the Nix daemon on ${ctx.platform.os}`);
  const result = await ctx.runner.run({ argv, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new DnbError(`restarting the Nix daemon failed: ${result.stderr.trim().split("\n").pop()}`, {
      hint: "nix.conf changes take effect only after a restart",
    });
  }
  return true;
}

/**
 * Asks a builder, as root and over the same ssh entries Nix will use, whether it answers as a Nix
 * store over ssh-ng, and what it says about itself (its daemon's version, whether it trusts us).
 * NIX_SSHOPTS points ssh at dnb's own config, so this runs before any system file changes.
 */
export async function pingStore(
  settings: FarmSettings,
  ctx: Context,
  member: Member,
): Promise<{ ok: boolean; reason: string } & StorePing> {
  const result = await queryStore(ctx.runner, {
    storeUri: storeUri(settings, member),
    env: { ...ctx.env, NIX_SSHOPTS: `-F ${privateSshConfig(settings.stateDir)}` } as Record<string, string>,
    timeoutMs: 60_000,
  });
  // Nix prints these as notices on stderr; stdout is read too in case a version moves them.
  return {
    ok: result.code === 0 && !result.timedOut,
    reason: result.stderr.trim().split("\n").pop() ?? "",
    ...parseStorePing(`${result.stderr}\n${result.stdout}`),
  };
}

const EXPECTED_BUILDERS = `@${MACHINES_FILE}`;

/**
 * Reads back the `builders` value Nix now takes from its configuration, so a setting that wins over
 * dnb's block (NIX_CONFIG, a later include, a user's file) is caught here rather than as local builds.
 */
export async function confirmBuilders(ctx: Context): Promise<void> {
  const nix = findOnPath("nix", ctx.env.PATH ?? "");
  const json = nix === undefined ? undefined : await readNixConfigJson(ctx, nix);
  const builders = json === undefined ? undefined : effectiveBuilders(json);
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
