import { Buffer } from "node:buffer";
import { DNS_LABEL, FEATURE, LOCAL_PATH, REMOTE_PATH, requireGrammar, SYSTEM, USER_NAME } from "../protocol/grammar.ts";
import { parseHostKey } from "../ssh/host_keys.ts";

/** One builder as Nix's machines file describes it. */
export interface MachineEntry {
  readonly sshUser: string;
  /** The ssh alias; ssh config maps it to the tailnet address and pins the host key under it. */
  readonly alias: string;
  /** Absolute path of the builder's nix-daemon: non-interactive SSH shells often lack Nix on PATH. */
  readonly nixDaemon: string;
  readonly systems: readonly string[];
  readonly sshKey?: string;
  readonly cores: number;
  readonly jobsPerCore: number;
  readonly features: readonly string[];
  readonly mandatoryFeatures: readonly string[];
  /** `<type> <base64>` */
  readonly hostKey: string;
}

// Nix splits machines rows on newlines and on `;`, then drops `#` comments: the header must hold no `;`.
export const MACHINES_HEADER = "# Written by dnb. `dnb stop` puts back what was here before.";

const WHERE = "machines line";

function list(items: readonly string[]): string {
  return items.length === 0 ? "-" : items.join(",");
}

/**
 * `ssh-ng://<user>@<alias>?remote-program=<nix-daemon>`: how Nix reaches the builder's store. Nix splits the
 * machines file on `;`, drops what follows `#`, includes `@path` and reads `?`, `&` and `=` as store-URI
 * parameters: each part must keep to its grammar (protocol/grammar.ts), whatever the parsers let through.
 */
export function storeUri(entry: Pick<MachineEntry, "sshUser" | "alias" | "nixDaemon">): string {
  requireGrammar(WHERE, "ssh user", entry.sshUser, USER_NAME);
  requireGrammar(WHERE, "alias", entry.alias, DNS_LABEL);
  requireGrammar(WHERE, "nix-daemon path", entry.nixDaemon, REMOTE_PATH);
  return `ssh-ng://${entry.sshUser}@${entry.alias}?remote-program=${entry.nixDaemon}`;
}

/** The second line of defence for the other fields: a value outside its grammar throws, nothing is written. */
function checkFields(entry: MachineEntry): void {
  if (entry.systems.length === 0) throw new Error(`${WHERE}: ${entry.alias} has no system`);
  for (const system of entry.systems) requireGrammar(WHERE, "system", system, SYSTEM);
  for (const feature of [...entry.features, ...entry.mandatoryFeatures]) {
    requireGrammar(WHERE, "feature", feature, FEATURE);
  }
  if (entry.sshKey !== undefined) requireGrammar(WHERE, "ssh key path", entry.sshKey, LOCAL_PATH);
  if (parseHostKey(entry.hostKey) !== entry.hostKey) {
    throw new Error(`${WHERE}: refusing ${entry.alias}'s host key: it is not one well-formed public key`);
  }
  for (const count of [entry.cores, entry.jobsPerCore]) {
    if (!Number.isInteger(count) || count < 1 || count > 4096) throw new Error(`${WHERE}: ${entry.alias} has no cores`);
  }
}

/**
 * `ssh-ng://<user>@<alias>?remote-program=<nix-daemon> <systems> <key|-> <maxJobs> <speedFactor> <features|-> <mandatory|-> <base64 host key>`
 * maxJobs = cores × jobs per core; speedFactor = cores, so Nix prefers the bigger builder.
 */
export function machinesLine(entry: MachineEntry): string {
  const uri = storeUri(entry);
  checkFields(entry);
  return [
    uri,
    list(entry.systems),
    entry.sshKey ?? "-",
    String(entry.cores * entry.jobsPerCore),
    String(entry.cores),
    list(entry.features),
    list(entry.mandatoryFeatures),
    Buffer.from(entry.hostKey).toString("base64"),
  ].join(" ");
}

export function machinesFile(entries: readonly MachineEntry[]): string {
  return [MACHINES_HEADER, ...entries.map(machinesLine)].join("\n") + "\n";
}

/** What a builder's line will look like before it is probed, for --dry-run. */
export function machinesLineTemplate(
  sshUser: string,
  alias: string,
  sshKey: string | undefined,
  jobsPerCore: number,
): string {
  return [
    `ssh-ng://${sshUser}@${alias}?remote-program=<nix-daemon-path>`,
    "<systems>",
    sshKey ?? "-",
    `<cores×${jobsPerCore}>`,
    "<cores>",
    "<features|->",
    "-",
    "<base64 host key>",
  ].join(" ");
}
