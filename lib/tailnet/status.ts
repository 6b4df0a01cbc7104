import { z } from "zod";
import { DnbError } from "../core/errors.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "../core/exec.ts";
import { DNS_LABEL, excerpt, IPV4, isDnsName, TAG } from "../protocol/grammar.ts";
import { parseHostKey } from "../ssh/host_keys.ts";

/** A tailnet node as dnb needs it, from `tailscale status --json`. */
export interface TailnetNode {
  readonly id: string;
  readonly hostName: string;
  /** Full MagicDNS name with its trailing dot, as Tailscale prints it. */
  readonly dnsName: string;
  /** First label of DNSName: the name the control plane settled on (it may add `-1` on a collision). */
  readonly shortName: string;
  readonly ipv4?: string;
  readonly tags: readonly string[];
  readonly online: boolean;
  readonly os: string;
  /** Well-formed keys only; present when the node runs Tailscale SSH. */
  readonly sshHostKeys: readonly string[];
  /** direct: a peer-to-peer path is in use; relay: traffic goes via DERP or a peer relay; unknown: no traffic yet. */
  readonly path: "direct" | "relay" | "unknown";
  /** What relays the traffic when path is relay: `DERP iad` or `peer relay <node>`. */
  readonly relayVia?: string;
  /**
   * A home relay or a direct address of the node is known, so packets can reach it. A node that has
   * just joined has neither for a second or two (until its netcheck reports its home DERP); a
   * WireGuard handshake sent to it then is lost, and WireGuard retries only after 5 s.
   */
  readonly routable: boolean;
}

export interface TailnetStatus {
  readonly backendState: string;
  readonly self?: TailnetNode;
  readonly peers: readonly TailnetNode[];
  /** Peers left out because a name the control plane gave them is not a DNS name: one line each, safe to print. */
  readonly ignored: readonly string[];
}

/** About 2 kB a peer: room for a tailnet of two thousand nodes, and a bound on what is parsed. */
export const MAX_STATUS_BYTES = DEFAULT_MAX_OUTPUT_BYTES;

const nodeSchema = z.object({
  ID: z.string(),
  HostName: z.string(),
  DNSName: z.string(),
  OS: z.string(),
  TailscaleIPs: z.array(z.string()).nullable().optional(),
  Tags: z.array(z.string()).optional(),
  Online: z.boolean(),
  CurAddr: z.string().optional(),
  Relay: z.string().optional(),
  PeerRelay: z.string().optional(),
  Active: z.boolean().optional(),
  sshHostKeys: z.array(z.string()).optional(),
});

const statusSchema = z.object({
  BackendState: z.string(),
  Self: nodeSchema.nullable().optional(),
  Peer: z.record(z.string(), nodeSchema).nullable().optional(),
});

type RawNode = z.infer<typeof nodeSchema>;

const NODE_ID = /^[A-Za-z0-9]{1,64}$/;
/** What the node reports of its OS and relays: shown in lines, so plain words only. */
const SHOWN_WORD = /^[A-Za-z0-9 ._:\[\]-]{1,64}$/;

const shown = (value: string | undefined) => value !== undefined && SHOWN_WORD.test(value) ? value : undefined;

/**
 * Why a node cannot be passed on, or undefined. Its DNS label becomes an ssh `Host`, a known_hosts name and
 * a machines-file URL host, so a name that is not a DNS name leaves the node out.
 */
function badName(raw: RawNode): string | undefined {
  if (!NODE_ID.test(raw.ID)) return `its node ID ${JSON.stringify(excerpt(raw.ID))} is malformed`;
  if (!isDnsName(raw.DNSName) || !raw.DNSName.includes(".")) {
    return `its DNS name ${JSON.stringify(excerpt(raw.DNSName))} is not a DNS name`;
  }
  return undefined;
}

function toNode(raw: RawNode): TailnetNode {
  const keys = (raw.sshHostKeys ?? []).map(parseHostKey).filter((key): key is string => key !== undefined);
  const shortName = raw.DNSName.split(".")[0]!;
  const relay = shown(raw.Relay);
  const peerRelay = shown(raw.PeerRelay);
  return {
    id: raw.ID,
    // The node chooses its HostName; one that is not a DNS label can match no wanted name.
    hostName: DNS_LABEL.test(raw.HostName) ? raw.HostName : shortName,
    dnsName: raw.DNSName,
    shortName,
    ipv4: (raw.TailscaleIPs ?? []).find((ip) => IPV4.test(ip)),
    tags: (raw.Tags ?? []).filter((tag) => TAG.test(tag)),
    online: raw.Online,
    os: shown(raw.OS) ?? "unknown",
    sshHostKeys: keys,
    path: raw.CurAddr ? "direct" : raw.Active && (relay || peerRelay) ? "relay" : "unknown",
    relayVia: peerRelay ? `peer relay ${peerRelay}` : relay ? `DERP ${relay}` : undefined,
    routable: Boolean(raw.CurAddr || relay || peerRelay),
  };
}

/** Parses `tailscale status --json`; peers come in the CLI's order (sorted by node key). */
export function parseStatus(json: string): TailnetStatus {
  if (json.length > MAX_STATUS_BYTES) {
    throw new DnbError(`tailscale status --json printed more than ${MAX_STATUS_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new DnbError(`tailscale status --json printed something that is not JSON: ${(error as Error).message}`);
  }
  const parsed = statusSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DnbError(
      `tailscale status --json has an unexpected shape at ${issue?.path.join(".") || "top level"}: ${issue?.message}`,
      { hint: "check that the tailscale CLI is a supported version" },
    );
  }
  const self = parsed.data.Self;
  const raws = Object.keys(parsed.data.Peer ?? {}).sort().map((key) => parsed.data.Peer![key]!);
  const ignored = raws.flatMap((raw) => {
    const why = badName(raw);
    // A peer without a DNS name at all (MagicDNS off) is no builder, and no sign of mischief.
    return why === undefined || raw.DNSName === "" ? [] : [`ignoring a tailnet peer: ${why}`];
  });
  return {
    backendState: parsed.data.BackendState,
    self: self && self.ID !== "" && badName(self) === undefined ? toNode(self) : undefined,
    peers: raws.filter((raw) => badName(raw) === undefined).map(toNode),
    ignored,
  };
}
