import type { FarmSettings, Member } from "./cluster.ts";
import type { Context } from "../core/context.ts";
import { readIfExists, writeFileAtomic, writeSystemFile } from "../core/files.ts";
import { knownHostsLines, preferredHostKey } from "../ssh/host_keys.ts";
import { type MachineEntry, machinesFile, machinesLine } from "../nix/machines_file.ts";
import { upsertBlock } from "../core/managed_block.ts";
import { MACHINES_FILE, nixConfBlockBody } from "../nix/conf.ts";
import { parseStorePing, queryStore, type StorePing } from "../nix/daemon.ts";
import { SSH_CONFIG, sshConfigLines, sshConfigTarget } from "../ssh/ssh_config.ts";
import { writeNixConfBlock } from "../nix/apply.ts";
import { failureLine, succeeded } from "../core/exec.ts";
import { statePath } from "../core/state_dir.ts";

function sshLines(settings: FarmSettings, members: readonly { alias: string; address: string }[]): string[] {
  return sshConfigLines(
    members.map((member) => ({
      alias: member.alias,
      address: member.address,
      user: settings.sshUser,
      identityFile: settings.sshKey,
    })),
    statePath(settings.stateDir, "knownHosts"),
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
    statePath(settings.stateDir, "knownHosts"),
    members.flatMap((member) => knownHostsLines(member.alias, member.hostKeys)).join("\n") + "\n",
  );
  writeFileAtomic(statePath(settings.stateDir, "sshConfig"), sshLines(settings, members).join("\n") + "\n");
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
    env: { ...ctx.env, NIX_SSHOPTS: `-F ${statePath(settings.stateDir, "sshConfig")}` } as Record<string, string>,
    timeoutMs: 60_000,
  });
  // Nix prints these as notices on stderr; stdout is read too in case a version moves them.
  return {
    ok: succeeded(result),
    reason: failureLine(result),
    ...parseStorePing(`${result.stderr}\n${result.stdout}`),
  };
}
