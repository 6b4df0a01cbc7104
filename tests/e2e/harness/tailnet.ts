/**
 * The "tailnet" of the Tailscale double: a folder shared by every host of a farm. The control
 * file says which keys and tags the control plane accepts; each node is one JSON file.
 * The status JSON follows the real `ipnstate.Status` schema (shared/docs/tailscale-cli.md §1).
 */
import { join } from "node:path";
import { eventually } from "../../support/eventually.ts";

export interface AuthKeyGrant {
  readonly key: string;
  readonly ephemeral: boolean;
  readonly reusable: boolean;
  readonly expired?: boolean;
}

export interface OAuthClient {
  readonly secret: string;
  /** Tags the client may put on keys it mints. */
  readonly tags: readonly string[];
}

export interface Control {
  readonly authKeys: readonly AuthKeyGrant[];
  readonly oauthClients: readonly OAuthClient[];
  /** Tags that have an owner in the policy; requesting any other is refused. */
  readonly allowedTags: readonly string[];
  /** Delay before `status` answers, to play a slow control plane. */
  readonly statusDelayMs: number;
  readonly magicDnsSuffix: string;
}

export interface NodeRecord {
  readonly nodeKey: string;
  readonly id: string;
  readonly nodeId: number;
  readonly hostName: string;
  readonly dnsLabel: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly tags: readonly string[];
  readonly ssh: boolean;
  readonly sshHostKeys: readonly string[];
  readonly os: string;
  readonly ephemeral: boolean;
  readonly created: string;
  /** pid of the tailscaled double serving the node: a dead daemon means an offline node. */
  readonly daemonPid: number;
  /** Set by tests to play a node the control plane has lost. */
  readonly forcedOffline?: boolean;
  /** Key of a one-off auth key this node used. */
  readonly usedKey?: string;
}

export const DOUBLE_VERSION = "1.102.4-t3caf7d9e7-g084ee3b64";
const TAGGED_USER_ID = 2147483601;
const PERSONAL_USER_ID = 1234;

export function controlPath(tailnet: string): string {
  return join(tailnet, "control.json");
}

/** `<hostname> <mode>` per `tailscale up` that read its key from a file (test bookkeeping of the double). */
export function keyFileModesPath(tailnet: string): string {
  return `${tailnet}/key-file-modes.log`;
}

export function readControl(tailnet: string): Control {
  return JSON.parse(Deno.readTextFileSync(controlPath(tailnet)));
}

export function writeControl(tailnet: string, control: Control): void {
  writeJsonAtomic(controlPath(tailnet), control);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  Deno.writeTextFileSync(temp, JSON.stringify(value, null, 2));
  Deno.renameSync(temp, path);
}

function nodesDir(tailnet: string): string {
  return join(tailnet, "nodes");
}

export function createTailnet(tailnet: string, control: Partial<Control> = {}): void {
  Deno.mkdirSync(nodesDir(tailnet), { recursive: true });
  writeControl(tailnet, {
    authKeys: [],
    oauthClients: [],
    allowedTags: ["tag:nix-builder", "tag:nix-coordinator"],
    statusDelayMs: 0,
    magicDnsSuffix: "tail1a2b3c.ts.net",
    ...control,
  });
}

export function listNodes(tailnet: string): NodeRecord[] {
  const nodes: NodeRecord[] = [];
  for (const entry of Deno.readDirSync(nodesDir(tailnet))) {
    if (!entry.name.endsWith(".json")) continue;
    try {
      nodes.push(JSON.parse(Deno.readTextFileSync(join(nodesDir(tailnet), entry.name))));
    } catch {
      // Removed between listing and reading: the node logged out.
    }
  }
  return nodes.sort((a, b) => a.nodeKey.localeCompare(b.nodeKey));
}

export function readNode(tailnet: string, nodeKey: string): NodeRecord | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(join(nodesDir(tailnet), `${nodeKey}.json`)));
  } catch {
    return undefined;
  }
}

export function writeNode(tailnet: string, node: NodeRecord): void {
  writeJsonAtomic(join(nodesDir(tailnet), `${node.nodeKey}.json`), node);
}

export function removeNode(tailnet: string, nodeKey: string): void {
  try {
    Deno.removeSync(join(nodesDir(tailnet), `${nodeKey}.json`));
  } catch {
    // Already gone.
  }
}

/** For tests: play a node the control plane has lost (or found again). */
export function setNodeOffline(tailnet: string, hostName: string, offline: boolean): void {
  for (const node of listNodes(tailnet).filter((candidate) => candidate.hostName === hostName)) {
    writeNode(tailnet, { ...node, forcedOffline: offline });
  }
}

/** Serialises registrations, so two nodes with one name get distinct DNS names as the control plane gives. */
export async function withTailnetLock<T>(tailnet: string, work: () => T): Promise<T> {
  const lock = join(tailnet, "lock");
  const taken = () => {
    try {
      Deno.mkdirSync(lock);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      throw error;
    }
  };
  await eventually(`the tailnet lock ${lock}`, taken, 5_000, 10);
  try {
    return work();
  } finally {
    Deno.removeSync(lock);
  }
}

/** The control plane's machine name: lower case, invalid characters dropped, `-1`, `-2`… on a clash. */
export function assignDnsLabel(hostName: string, taken: readonly string[]): string {
  const base = hostName.toLowerCase().replace(/[^a-z0-9-]/g, "").replace(/^-+|-+$/g, "").slice(0, 63) || "node";
  if (!taken.includes(base)) return base;
  for (let n = 1;; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.includes(candidate)) return candidate;
  }
}

export function processAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

export function nodeOnline(node: NodeRecord): boolean {
  return !node.forcedOffline && processAlive(node.daemonPid);
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

function peerStatus(node: NodeRecord, suffix: string, self: boolean): Record<string, unknown> {
  const online = self || nodeOnline(node);
  const status: Record<string, unknown> = {
    ID: node.id,
    NodeID: node.nodeId,
    PublicKey: `nodekey:${node.nodeKey}`,
    HostName: node.hostName,
    DNSName: `${node.dnsLabel}.${suffix}.`,
    OS: node.os,
    UserID: node.tags.length > 0 ? TAGGED_USER_ID : PERSONAL_USER_ID,
    TailscaleIPs: [node.ipv4, node.ipv6],
    AllowedIPs: [`${node.ipv4}/32`, `${node.ipv6}/128`],
  };
  if (node.tags.length > 0) status.Tags = [...node.tags];
  Object.assign(status, {
    Addrs: self ? [`${node.ipv4}:41641`] : null,
    CurAddr: "",
    Relay: "iad",
    PeerRelay: "",
    RxBytes: 0,
    TxBytes: 0,
    Created: node.created,
    LastWrite: ZERO_TIME,
    LastSeen: online ? ZERO_TIME : new Date().toISOString(),
    LastHandshake: ZERO_TIME,
    Online: online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: false,
    PeerAPIURL: [`http://${node.ipv4}:41112`],
    TaildropTarget: self ? 0 : 4,
    NoFileSharingReason: "",
  });
  if (self) {
    status.Capabilities = [
      "HTTPS://TAILSCALE.COM/s/DEPRECATED-NODE-CAPS#see-https://github.com/tailscale/tailscale/issues/11508",
      "https://tailscale.com/cap/ssh",
    ];
    status.CapMap = { "https://tailscale.com/cap/ssh": null };
  }
  // Tailscale fills sshHostKeys for peers only, and only when they run Tailscale SSH.
  if (!self && node.ssh && node.sshHostKeys.length > 0) status.sshHostKeys = [...node.sshHostKeys];
  Object.assign(status, { InNetworkMap: true, InMagicSock: !self, InEngine: false });
  return status;
}

export interface StatusOptions {
  readonly peers: boolean;
  readonly active: boolean;
}

/** `tailscale status --json` of a logged-in node: 2-space indent, no trailing newline, like the real CLI. */
export function renderStatus(
  self: NodeRecord,
  others: readonly NodeRecord[],
  control: Control,
  backendState: string,
  options: StatusOptions,
): string {
  const suffix = control.magicDnsSuffix;
  // No traffic flows between doubles, so no peer is ever active: --active shows none.
  const shown = options.active ? [] : others;
  const peers = options.peers && shown.length > 0
    ? Object.fromEntries(shown.map((node) => [`nodekey:${node.nodeKey}`, peerStatus(node, suffix, false)]))
    : null;
  const users: Record<string, unknown> = {};
  for (const node of [self, ...others]) {
    const tagged = node.tags.length > 0;
    const id = tagged ? TAGGED_USER_ID : PERSONAL_USER_ID;
    users[String(id)] = tagged
      ? { ID: id, LoginName: "tagged-devices", DisplayName: "Tagged Devices" }
      : { ID: id, LoginName: "alice@example.com", DisplayName: "Alice" };
  }
  return JSON.stringify(
    {
      Version: DOUBLE_VERSION,
      TUN: true,
      BackendState: backendState,
      HaveNodeKey: true,
      AuthURL: "",
      TailscaleIPs: [self.ipv4, self.ipv6],
      Self: peerStatus(self, suffix, true),
      Health: [],
      MagicDNSSuffix: suffix,
      CurrentTailnet: { Name: "example.com", MagicDNSSuffix: suffix, MagicDNSEnabled: true },
      CertDomains: null,
      ExtraRecords: null,
      Peer: peers,
      User: users,
      ClientVersion: null,
    },
    null,
    2,
  );
}

/** The real CLI's JSON when the daemon is not logged in (a real 1.102.4 capture's shape). */
export function renderLoggedOutStatus(backendState: string, hostName: string): string {
  return JSON.stringify(
    {
      Version: DOUBLE_VERSION,
      TUN: true,
      BackendState: backendState,
      AuthURL: "",
      TailscaleIPs: null,
      Self: {
        ID: "",
        NodeID: 0,
        PublicKey: `nodekey:${"0".repeat(64)}`,
        HostName: hostName,
        DNSName: "",
        OS: "linux",
        UserID: 0,
        TailscaleIPs: null,
        Addrs: [],
        CurAddr: "",
        Relay: "",
        PeerRelay: "",
        RxBytes: 0,
        TxBytes: 0,
        Created: ZERO_TIME,
        LastWrite: ZERO_TIME,
        LastSeen: ZERO_TIME,
        LastHandshake: ZERO_TIME,
        Online: false,
        ExitNode: false,
        ExitNodeOption: false,
        Active: false,
        PeerAPIURL: null,
        TaildropTarget: 0,
        NoFileSharingReason: "",
        InNetworkMap: false,
        InMagicSock: false,
        InEngine: false,
      },
      Health: [],
      MagicDNSSuffix: "",
      CurrentTailnet: null,
      CertDomains: null,
      ExtraRecords: null,
      Peer: null,
      User: null,
      ClientVersion: null,
    },
    null,
    2,
  );
}

/**
 * `tailscale whois --json <ip>` of a node (apitype.WhoIsResponse: the peer's tailcfg.Node and its user's
 * tailcfg.UserProfile), with the fields the real CLI prints for a peer; 2-space indent and a newline, as the
 * CLI's JSON encoder writes it.
 */
export function renderWhois(node: NodeRecord, control: Pick<Control, "magicDnsSuffix">): string {
  const tagged = node.tags.length > 0;
  const userId = tagged ? TAGGED_USER_ID : PERSONAL_USER_ID;
  const dnsName = `${node.dnsLabel}.${control.magicDnsSuffix}.`;
  const whois = {
    Node: {
      ID: node.nodeId,
      StableID: node.id,
      Name: dnsName,
      User: userId,
      Key: `nodekey:${node.nodeKey}`,
      Machine: `mkey:${node.nodeKey.split("").reverse().join("")}`,
      DiscoKey: `discokey:${node.nodeKey.slice(32)}${node.nodeKey.slice(0, 32)}`,
      Addresses: [`${node.ipv4}/32`, `${node.ipv6}/128`],
      AllowedIPs: [`${node.ipv4}/32`, `${node.ipv6}/128`],
      HomeDERP: 1,
      Hostinfo: { IPNVersion: DOUBLE_VERSION, OS: node.os, Hostname: node.hostName },
      Created: node.created,
      Cap: 130,
      ...(tagged && { Tags: [...node.tags] }),
      Online: nodeOnline(node),
      MachineAuthorized: true,
      ComputedName: node.dnsLabel,
      ComputedNameWithHost: node.hostName === node.dnsLabel ? node.dnsLabel : `${node.dnsLabel} (${node.hostName})`,
    },
    UserProfile: tagged
      ? { ID: userId, LoginName: "tagged-devices", DisplayName: "Tagged Devices" }
      : { ID: userId, LoginName: "alice@example.com", DisplayName: "Alice" },
    CapMap: null,
  };
  return JSON.stringify(whois, null, 2) + "\n";
}
