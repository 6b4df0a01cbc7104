import { DEFAULT_BUILDER_TAG } from "../config/config.ts";
import type { TailnetNode, TailnetStatus } from "./status.ts";

/** Which builders a coordinator waits for; in either mode a builder must carry `tag`. */
export type Wanted =
  | { readonly kind: "names"; readonly names: readonly string[]; readonly tag: string }
  | { readonly kind: "prefix"; readonly prefix: string; readonly tag: string; readonly expect: number };

export interface Candidate {
  /** The ssh alias dnb uses: the requested name, or the peer's DNS label when discovered. */
  readonly alias: string;
  readonly node: TailnetNode & { readonly ipv4: string };
  /** Something worth telling the user, e.g. a `-1` name given by the control plane. */
  readonly note?: string;
}

/** What one look at the tailnet found. */
export interface Discovery {
  readonly candidates: readonly Candidate[];
  /** Wanted names not claimed for now, with the reason: more than one eligible node answers to each. */
  readonly refused: ReadonlyMap<string, string>;
  /** Nodes left out for a reason worth saying once (named like a wanted builder, without the tag): key → line. */
  readonly notes: ReadonlyMap<string, string>;
}

export const NOTHING_FOUND: Discovery = { candidates: [], refused: new Map(), notes: new Map() };

/** A farm record written before names mode carried the tag holds none: it gets the default, as its coordinator did. */
export function wantedFromRecord(wanted: Wanted | Omit<Extract<Wanted, { kind: "names" }>, "tag">): Wanted {
  return "tag" in wanted && typeof wanted.tag === "string" ? wanted : { ...wanted, tag: DEFAULT_BUILDER_TAG };
}

function reachable(node: TailnetNode): node is TailnetNode & { ipv4: string } {
  return node.online && node.ipv4 !== undefined;
}

function describe(node: TailnetNode): string {
  return `${node.dnsName.replace(/\.$/, "")} (${node.ipv4 ?? "no IPv4"})`;
}

/** Online nodes without the builder tag that answer to a wanted name or prefix: never candidates, said once. */
function untaggedNotes(status: TailnetStatus, wanted: Wanted, answers: (node: TailnetNode) => boolean) {
  return new Map(
    status.peers.filter((node) => node.online && !node.tags.includes(wanted.tag) && answers(node)).map((node) => [
      `untagged ${node.id}`,
      `not claiming ${describe(node)}: it is named like a wanted builder but does not carry ${wanted.tag}`,
    ]),
  );
}

function byPrefix(status: TailnetStatus, wanted: Extract<Wanted, { kind: "prefix" }>): Discovery {
  const answers = (node: TailnetNode) =>
    node.hostName.startsWith(wanted.prefix) || node.shortName.startsWith(wanted.prefix);
  const candidates = status.peers.filter((node) => node.tags.includes(wanted.tag) && answers(node)).filter(reachable)
    .map((node) => ({ alias: node.shortName, node }));
  return { candidates, refused: new Map(), notes: untaggedNotes(status, wanted, answers) };
}

/**
 * The online, tagged peers that answer to each wanted name, by their DNS label (the name the control plane
 * settled on) or their HostName (the name the node chose). One such node is the candidate; a `-1` label given
 * on a collision is reported. Two or more, and the name waits: which one is the builder cannot be told.
 */
function byName(status: TailnetStatus, wanted: Extract<Wanted, { kind: "names" }>): Discovery {
  const eligible = status.peers.filter((node) => node.tags.includes(wanted.tag)).filter(reachable);
  const candidates: Candidate[] = [];
  const refused = new Map<string, string>();
  for (const name of wanted.names) {
    const answering = eligible.filter((node) => node.shortName === name || node.hostName === name);
    if (answering.length > 1) {
      refused.set(
        name,
        `${answering.length} nodes tagged ${wanted.tag} answer to ${name} (${answering.map(describe).join(", ")}); ` +
          "dnb will not guess which is the builder",
      );
      continue;
    }
    const node = answering[0];
    if (node === undefined) continue;
    const note = node.shortName !== name
      ? `${name} is registered as ${node.shortName} (another node had the name)`
      : undefined;
    candidates.push({ alias: name, node, note });
  }
  const names = new Set(wanted.names);
  return {
    candidates,
    refused,
    notes: untaggedNotes(status, wanted, (node) => names.has(node.shortName) || names.has(node.hostName)),
  };
}

/** The wanted builders on the tailnet now: only nodes carrying the builder tag, in either mode. */
export function discover(status: TailnetStatus, wanted: Wanted): Discovery {
  const found = wanted.kind === "prefix" ? byPrefix(status, wanted) : byName(status, wanted);
  const ignored = new Map(status.ignored.map((line) => [line, line]));
  return { ...found, notes: new Map([...ignored, ...found.notes]) };
}

/** The candidates alone (tests, and callers that need no refusals or notes). */
export function findCandidates(status: TailnetStatus, wanted: Wanted): Candidate[] {
  return [...discover(status, wanted).candidates];
}

/** Names still missing, for the progress line and the failure message. */
export function missingNames(wanted: Wanted, claimed: ReadonlySet<string>): string[] {
  if (wanted.kind === "names") return wanted.names.filter((name) => !claimed.has(name));
  const short = wanted.expect - claimed.size;
  return short > 0 ? [`${short} more ${wanted.prefix}* builder${short === 1 ? "" : "s"}`] : [];
}
