import type { FarmSettings, Member } from "./cluster.ts";
import { knownHostsLines, preferredHostKey } from "../ssh/host_keys.ts";
import { type MachineEntry, machinesFile } from "../nix/machines_file.ts";
import { upsertBlock } from "../core/managed_block.ts";
import { MACHINES_FILE, nixConfBlockBody } from "../nix/conf.ts";
import { SSH_CONFIG, sshConfigLines, sshConfigTarget } from "../ssh/ssh_config.ts";
import { writeNixConfBlock } from "../nix/apply.ts";
import { statePath } from "../core/state_dir.ts";
import { controlPathFor } from "../ssh/master.ts";
import { writeSystemFile } from "../core/system_files.ts";
import type { Files } from "../core/files.ts";

function sshLines(settings: FarmSettings, members: readonly { alias: string; address: string }[]): string[] {
  return sshConfigLines(
    members.map((member) => ({
      alias: member.alias,
      address: member.address,
      user: settings.sshUser,
      identityFile: settings.sshKey,
      controlPath: controlPathFor(settings, member.alias),
    })),
    statePath(settings.stateDir, "knownHosts"),
  );
}

/** dnb's own ssh config and known_hosts in the state folder, for its claims (`ssh -F`). */
/** A builder as dnb's own ssh config and known_hosts hold it. */
export interface SshEntry {
  readonly alias: string;
  readonly address: string;
  readonly hostKeys: readonly string[];
}

export function writeSshState(files: Files, settings: FarmSettings, unordered: readonly SshEntry[]): void {
  // In name order, so the files do not depend on which builder showed up first.
  const members = [...unordered].sort((a, b) => a.alias.localeCompare(b.alias));
  files.writeAtomic(
    statePath(settings.stateDir, "knownHosts"),
    members.flatMap((member) => knownHostsLines(member.alias, member.hostKeys)).join("\n") + "\n",
  );
  files.writeAtomic(statePath(settings.stateDir, "sshConfig"), sshLines(settings, members).join("\n") + "\n");
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

/** Writes the machines file, dnb's nix.conf block and root's ssh config; each original is kept for teardown. */
export function writeNixFiles(
  files: Files,
  settings: FarmSettings,
  members: readonly Member[],
): { machines: string; nixConf: string; sshConfig: string } {
  const machines = machinesFile(members.map((member) => machineEntry(settings, member)));
  writeSystemFile(files, settings.stateDir, MACHINES_FILE, machines);
  const nixConf = writeNixConfBlock(files, settings.stateDir, nixConfBlockBody(settings.extraNixConfig));
  const target = sshConfigTarget(files.readText(SSH_CONFIG));
  const lines = sshLines(settings, members);
  writeSystemFile(
    files,
    settings.stateDir,
    target.path,
    target.kind === "drop-in"
      ? lines.join("\n") + "\n"
      : upsertBlock(files.readText(target.path) ?? "", lines, "start"),
  );
  return { machines, nixConf, sshConfig: target.path };
}
