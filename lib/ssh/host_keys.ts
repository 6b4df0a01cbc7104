import { DNS_LABEL, requireGrammar } from "../protocol/grammar.ts";

/** SSH public host keys as Tailscale advertises them: `<type> <base64>`, no comment. */
const HOST_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]{16,8192}={0,2})$/;

/**
 * Normalises one advertised key, or returns undefined when it is not a well-formed public key.
 * Keys come from peers, so nothing but `<type> <base64>` may pass into known_hosts or the machines file.
 */
export function parseHostKey(text: string): string | undefined {
  const [type, data, ...rest] = text.trim().split(/ +/);
  if (type === undefined || data === undefined || rest.length > 1) return undefined;
  const key = `${type} ${data}`;
  return HOST_KEY.test(key) ? key : undefined;
}

/** The key to pin in the machines file, which holds one: ed25519 when offered, else the first. */
export function preferredHostKey(keys: readonly string[]): string | undefined {
  return keys.find((key) => key.startsWith("ssh-ed25519 ")) ?? keys[0];
}

/** The one stand-in a dry run's plan shows for a key it does not know yet. */
const PLANNED_HOST_KEY = "<host key from the tailnet>";

/**
 * known_hosts lines that pin every key of a builder under its alias (ssh uses HostKeyAlias to look them up).
 * An alias that is not a DNS label (a pattern, a marker, a space) or a key that is not exactly one public key
 * is refused: a line of known_hosts can widen what a pin matches.
 */
export function knownHostsLines(alias: string, keys: readonly string[]): string[] {
  requireGrammar("known_hosts", "alias", alias, DNS_LABEL);
  return keys.map((key) => {
    if (parseHostKey(key) !== key && key !== PLANNED_HOST_KEY) {
      throw new Error(`known_hosts: refusing a host key of ${alias}: not one public key`);
    }
    return `${alias} ${key}`;
  });
}
