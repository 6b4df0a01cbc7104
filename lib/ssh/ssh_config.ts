import { DNS_LABEL, IPV4, LOCAL_PATH, requireGrammar, USER_NAME } from "../protocol/grammar.ts";

/** One builder as root's ssh client (and so the Nix daemon) reaches it. */
export interface SshHost {
  readonly alias: string;
  /** The builder's tailnet IPv4: dnb never relies on tailnet DNS. */
  readonly address: string;
  readonly user: string;
  readonly identityFile?: string;
  /** The socket of dnb's ssh master for this builder (ssh/master.ts); without it, no session shares a connection. */
  readonly controlPath?: string;
}

export const SSH_CONFIG = "/etc/ssh/ssh_config";
export const SSH_CONFIG_DROPIN = "/etc/ssh/ssh_config.d/dnb.conf";

/** Where dnb's host entries go: a drop-in file when ssh_config includes the folder, else a block at its top. */
export type SshConfigTarget =
  | { readonly kind: "drop-in"; readonly path: string }
  | { readonly kind: "block"; readonly path: string };

/**
 * ssh takes the first value it reads for an option, so entries must come before any `Host`/`Match`
 * section of ssh_config: a drop-in counts only when its `Include` stands before the first section.
 */
export function sshConfigTarget(sshConfigText: string | undefined): SshConfigTarget {
  for (const raw of (sshConfigText ?? "").split("\n")) {
    const line = raw.trim();
    if (/^(host|match)\s/i.test(line)) break;
    const include = /^include\s+(.+)$/i.exec(line)?.[1];
    if (include?.split(/\s+/).some((pattern) => /^\/etc\/ssh\/ssh_config\.d\/\*(\.conf)?$/.test(pattern))) {
      return { kind: "drop-in", path: SSH_CONFIG_DROPIN };
    }
  }
  return { kind: "block", path: SSH_CONFIG };
}

const WHERE = "ssh config";
/** The one stand-in a dry run's plan shows for an address it does not know yet. */
const PLANNED_ADDRESS = /^<tailnet IPv4 of [A-Za-z0-9-]{1,63}>$/;

/**
 * A word ssh_config reads as syntax (a space, `#`, `%` tokens, a second pattern) would change what an entry
 * means: every value keeps to its grammar or nothing is written.
 */
function checkHost(host: SshHost): SshHost {
  requireGrammar(WHERE, "alias", host.alias, DNS_LABEL);
  requireGrammar(WHERE, "address", host.address, PLANNED_ADDRESS.test(host.address) ? PLANNED_ADDRESS : IPV4);
  requireGrammar(WHERE, "user", host.user, USER_NAME);
  if (host.identityFile !== undefined) requireGrammar(WHERE, "identity file", host.identityFile, LOCAL_PATH);
  if (host.controlPath !== undefined) requireGrammar(WHERE, "control path", host.controlPath, LOCAL_PATH);
  return host;
}

/** Fast ciphers on runners' AES-capable CPUs; compression only costs CPU for Nix's already-dense NARs. */
const CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";

/**
 * `Host` entries that pin each builder's key under its alias and never prompt. Sessions share dnb's
 * own master where there is one, and never start one: a master ssh starts for a caller keeps that
 * caller's output pipes open for as long as it persists (so a user's `ControlMaster auto` is undone).
 */
export function sshConfigLines(hosts: readonly SshHost[], knownHostsFile: string): string[] {
  requireGrammar(WHERE, "known_hosts path", knownHostsFile, LOCAL_PATH);
  return hosts.map(checkHost).flatMap((host) => [
    `Host ${host.alias}`,
    `  HostName ${host.address}`,
    `  HostKeyAlias ${host.alias}`,
    `  User ${host.user}`,
    ...(host.identityFile ? [`  IdentityFile ${host.identityFile}`, "  IdentitiesOnly yes"] : []),
    "  StrictHostKeyChecking yes",
    `  UserKnownHostsFile ${knownHostsFile}`,
    "  GlobalKnownHostsFile /dev/null",
    "  UpdateHostKeys no",
    "  BatchMode yes",
    "  ConnectTimeout 10",
    "  ServerAliveInterval 5",
    "  ServerAliveCountMax 3",
    "  Compression no",
    "  ControlMaster no",
    `  ControlPath ${host.controlPath ?? "none"}`,
    `  Ciphers ${CIPHERS}`,
  ]);
}
