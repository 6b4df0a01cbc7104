import type { TailnetNode, TailnetStatus } from "./status.ts";

/** Which builders a coordinator waits for. */
export type Wanted =
  | { readonly kind: "names"; readonly names: readonly string[] }
  | { readonly kind: "prefix"; readonly prefix: string; readonly tag: string; readonly expect: number };

export interface Candidate {
  /** The ssh alias dnb uses: the requested name, or the peer's DNS label when discovered. */
  readonly alias: string;
  readonly node: TailnetNode & { readonly ipv4: string };
  /** Something worth telling the user, e.g. a `-1` name given by the control plane. */
  readonly note?: string;
}

function reachable(node: TailnetNode): node is TailnetNode & { ipv4: string } {
  return node.online && node.ipv4 !== undefined;
}

/**
 * The online peers that are wanted. A name matches a peer's HostName or the first label of its
 * DNSName; when two nodes share a name the control plane gives one `-1`, which is reported.
 */
export function findCandidates(status: TailnetStatus, wanted: Wanted): Candidate[] {
  if (wanted.kind === "prefix") {
    return status.peers
      .filter((node) => node.tags.includes(wanted.tag))
      .filter((node) => node.hostName.startsWith(wanted.prefix) || node.shortName.startsWith(wanted.prefix))
      .filter(reachable)
      .map((node) => ({ alias: node.shortName, node }));
  }
  const found: Candidate[] = [];
  for (const name of wanted.names) {
    const matches = status.peers.filter((node) => node.hostName === name || node.shortName === name).filter(reachable);
    const exact = matches.find((node) => node.shortName === name) ?? matches[0];
    if (exact === undefined) continue;
    const note = exact.shortName !== name
      ? `${name} is registered as ${exact.shortName} (another node had the name)`
      : matches.length > 1
      ? `${matches.length} online nodes answer to ${name}; using ${exact.dnsName}`
      : undefined;
    found.push({ alias: name, node: exact, note });
  }
  return found;
}

/** Names still missing, for the progress line and the failure message. */
export function missingNames(wanted: Wanted, claimed: ReadonlySet<string>): string[] {
  if (wanted.kind === "names") return wanted.names.filter((name) => !claimed.has(name));
  const short = wanted.expect - claimed.size;
  return short > 0 ? [`${short} more ${wanted.prefix}* builder${short === 1 ? "" : "s"}`] : [];
}
