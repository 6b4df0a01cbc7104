/**
 * The grammar of every field a peer or builder sends that reaches a file (machines file, ssh config,
 * known_hosts, nix.conf), an argv, a printed line or a step output. Parsers hold remote data to it;
 * the writers check it again before a byte is written, so nothing else can get through.
 */
import { DNS_LABEL } from "../config/schemas.ts";

export { DNS_LABEL };

/** CPU and kernel parts of the Nix system strings a builder can run (`x86_64-linux`, `armv7l-linux`). */
const CPUS = [
  "x86_64",
  // Nix's own extra platforms on x86_64 machines (micro-architecture levels).
  "x86_64-v1",
  "x86_64-v2",
  "x86_64-v3",
  "x86_64-v4",
  "i686",
  "aarch64",
  "armv5tel",
  "armv6l",
  "armv7l",
  "armv7a",
  "powerpc64",
  "powerpc64le",
  "riscv32",
  "riscv64",
  "mipsel",
  "mips64el",
  "s390x",
  "loongarch64",
  "m68k",
];
const KERNELS = ["linux", "darwin", "freebsd", "netbsd", "openbsd"];
export const SYSTEM = new RegExp(`^(${CPUS.join("|")})-(${KERNELS.join("|")})$`);

/** A builder's path (its nix-daemon, its build folder): absolute, and no character Nix or ssh reads as syntax. */
export const REMOTE_PATH = /^\/[A-Za-z0-9._+\/-]{0,4095}$/;
/** A path from dnb's own validated inputs (config's absolutePath): the same, and `@`, harmless inside a word. */
export const LOCAL_PATH = /^\/[A-Za-z0-9._+@\/-]{0,4095}$/;
/** A Nix system feature as builders offer it: `kvm`, `big-parallel`, `gccarch-x86-64-v3`. */
export const FEATURE = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A Nix version string: `2.24.9`, `2.31.0pre20250101_abcdef`, `2.18.1+1`. */
export const VERSION = /^[0-9][0-9A-Za-z.+_-]{0,63}$/;
/** A user name as ssh and Nix take it (config's userName). */
export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** A tailnet IPv4 address, each part 0–255. */
export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** An IPv6 address as ssh prints it in $SSH_CLIENT: hex groups and colons, nothing else. */
export const IPV6 = /^[0-9A-Fa-f:]{2,39}$/;
/** A Tailscale tag as the control plane gives it. */
export const TAG = /^tag:[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** `os` and `arch` as Deno names them: `linux`, `darwin`, `x86_64`, `aarch64`. */
export const PLATFORM_WORD = /^[a-z0-9_]{1,32}$/;

/** A full MagicDNS name, trailing dot and all: DNS labels joined by dots. */
export function isDnsName(name: string): boolean {
  const labels = name.replace(/\.$/, "").split(".");
  return name.length <= 253 && labels.every((label) => DNS_LABEL.test(label));
}

/** The writers' second line of defence: throws when a value does not match its grammar. */
export function requireGrammar(where: string, field: string, value: string, grammar: RegExp): string {
  if (!grammar.test(value)) {
    throw new Error(`${where}: refusing ${field} ${JSON.stringify(excerpt(value))}: it breaks the field's grammar`);
  }
  return value;
}

/** A remote string made safe to print in a message: at most 80 characters, anything unusual as `?`. */
export function excerpt(value: string): string {
  const shown = value.slice(0, 80).replace(/[^A-Za-z0-9 ._:\/@+=,-]/g, "?");
  return value.length > 80 ? `${shown}…` : shown;
}
