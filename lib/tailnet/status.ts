import { z } from "zod";
import { DnbError } from "../core/errors.ts";
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
}

export interface TailnetStatus {
  readonly backendState: string;
  readonly self?: TailnetNode;
  readonly peers: readonly TailnetNode[];
}

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

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function toNode(raw: z.infer<typeof nodeSchema>): TailnetNode {
  const keys = (raw.sshHostKeys ?? []).map(parseHostKey).filter((key): key is string => key !== undefined);
  return {
    id: raw.ID,
    hostName: raw.HostName,
    dnsName: raw.DNSName,
    shortName: raw.DNSName.split(".")[0] ?? "",
    ipv4: (raw.TailscaleIPs ?? []).find((ip) => IPV4.test(ip)),
    tags: raw.Tags ?? [],
    online: raw.Online,
    os: raw.OS,
    sshHostKeys: keys,
    path: raw.CurAddr ? "direct" : raw.Active && (raw.Relay || raw.PeerRelay) ? "relay" : "unknown",
    relayVia: raw.PeerRelay ? `peer relay ${raw.PeerRelay}` : raw.Relay ? `DERP ${raw.Relay}` : undefined,
  };
}

/** Parses `tailscale status --json`; peers come in the CLI's order (sorted by node key). */
export function parseStatus(json: string): TailnetStatus {
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
  return {
    backendState: parsed.data.BackendState,
    self: self && self.ID !== "" ? toNode(self) : undefined,
    peers: Object.keys(parsed.data.Peer ?? {}).sort().map((key) => toNode(parsed.data.Peer![key]!)),
  };
}
