/** One builder as root's ssh client (and so the Nix daemon) reaches it. */
export interface SshHost {
  readonly alias: string;
  /** The builder's tailnet IPv4: dnb never relies on tailnet DNS. */
  readonly address: string;
  readonly user: string;
  readonly identityFile?: string;
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

/** Fast ciphers on runners' AES-capable CPUs; compression only costs CPU for Nix's already-dense NARs. */
const CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";

/**
 * `Host` entries that pin each builder's key under its alias and never prompt. No connection
 * sharing: a persisting ssh master keeps its first caller's output pipes open (and ssh-ng and a
 * shared master do not mix, nix#14132).
 */
export function sshConfigLines(hosts: readonly SshHost[], knownHostsFile: string): string[] {
  return hosts.flatMap((host) => [
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
    `  Ciphers ${CIPHERS}`,
  ]);
}
