/** SSH public host keys as Tailscale advertises them: `<type> <base64>`, no comment. */
const HOST_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,2})$/;

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

/** known_hosts lines that pin every key of a builder under its alias (ssh uses HostKeyAlias to look them up). */
export function knownHostsLines(alias: string, keys: readonly string[]): string[] {
  return keys.map((key) => `${alias} ${key}`);
}
