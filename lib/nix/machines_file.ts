import { Buffer } from "node:buffer";

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

const NO_SPACE = /^\S+$/;

function list(items: readonly string[]): string {
  return items.length === 0 ? "-" : items.join(",");
}

function assertField(name: string, value: string): string {
  if (!NO_SPACE.test(value)) throw new Error(`machines line: ${name} must be one word, got ${JSON.stringify(value)}`);
  return value;
}

/** `ssh-ng://<user>@<alias>?remote-program=<nix-daemon>`: how Nix reaches the builder's store. */
export function storeUri(entry: Pick<MachineEntry, "sshUser" | "alias" | "nixDaemon">): string {
  return `ssh-ng://${entry.sshUser}@${entry.alias}?remote-program=${entry.nixDaemon}`;
}

/**
 * `ssh-ng://<user>@<alias>?remote-program=<nix-daemon> <systems> <key|-> <maxJobs> <speedFactor> <features|-> <mandatory|-> <base64 host key>`
 * maxJobs = cores × jobs per core; speedFactor = cores, so Nix prefers the bigger builder.
 */
export function machinesLine(entry: MachineEntry): string {
  if (entry.systems.length === 0) throw new Error(`machines line: ${entry.alias} has no system`);
  if (!Number.isInteger(entry.cores) || entry.cores < 1) throw new Error(`machines line: ${entry.alias} has no cores`);
  const fields = [
    storeUri(entry),
    list(entry.systems),
    entry.sshKey ?? "-",
    String(entry.cores * entry.jobsPerCore),
    String(entry.cores),
    list(entry.features),
    list(entry.mandatoryFeatures),
    Buffer.from(entry.hostKey).toString("base64"),
  ];
  fields.forEach((field, index) => assertField(`field ${index + 1}`, field));
  return fields.join(" ");
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
