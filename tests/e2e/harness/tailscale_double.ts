/**
 * A test double of the `tailscale` and `tailscaled` CLIs, run by the farm's wrappers inside a host.
 * It follows the real CLI's flags, messages, exit codes and `status --json` schema
 * (shared/docs/tailscale-cli.md); the control plane is the shared tailnet folder (tailnet.ts).
 *
 * Environment set by the host's wrapper: TS_DOUBLE_PROGRAM (tailscale|tailscaled), TS_DOUBLE_TAILNET,
 * TS_DOUBLE_IPV4, TS_DOUBLE_SSH_HOST_KEY (the host's sshd public key file).
 */
import { dirname } from "node:path";
import {
  assignDnsLabel,
  type Control,
  DOUBLE_VERSION,
  keyFileModesPath,
  listNodes,
  nodeOnline,
  type NodeRecord,
  readControl,
  readNode,
  removeNode,
  renderLoggedOutStatus,
  renderStatus,
  renderWhois,
  withTailnetLock,
  writeJsonAtomic,
  writeNode,
} from "./tailnet.ts";

const DEFAULT_SOCKET = "/var/run/tailscale/tailscaled.sock";

interface DaemonState {
  readonly pid: number;
  readonly backendState: "NeedsLogin" | "Running" | "Stopped";
  /** --state=mem:: the node is ephemeral and is logged out when the daemon shuts down. */
  readonly mem: boolean;
  readonly nodeKey?: string;
}

class Exit extends Error {
  constructor(readonly code: number, readonly stderr = "", readonly stdout = "") {
    super(stderr);
  }
}

function env(name: string): string {
  const value = Deno.env.get(name);
  if (value === undefined) throw new Exit(1, `tailscale double: ${name} is not set`);
  return value;
}

function stateFile(socket: string): string {
  return `${socket}.double.json`;
}

function readDaemonState(socket: string): DaemonState {
  return JSON.parse(Deno.readTextFileSync(stateFile(socket)));
}

function writeDaemonState(socket: string, state: DaemonState): void {
  writeJsonAtomic(stateFile(socket), state);
}

// ---- Go's flag package, as far as the CLI uses it ----

type FlagKind = "string" | "bool";

interface ParsedFlags {
  readonly values: Map<string, string>;
  readonly rest: string[];
}

function parseGoFlags(args: readonly string[], known: Readonly<Record<string, FlagKind>>, usage: string): ParsedFlags {
  const values = new Map<string, string>();
  let index = 0;
  for (; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      index++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    const kind = known[name];
    if (kind === undefined) throw new Exit(2, `flag provided but not defined: -${name}\n${usage}`);
    if (values.has(name)) throw new Exit(2, `invalid value for flag -${name}: flag provided multiple times\n${usage}`);
    if (eq !== -1) values.set(name, body.slice(eq + 1));
    else if (kind === "bool") values.set(name, "true");
    else {
      const next = args[++index];
      if (next === undefined) throw new Exit(2, `flag needs an argument: -${name}\n${usage}`);
      values.set(name, next);
    }
  }
  return { values, rest: args.slice(index) };
}

function parseDuration(text: string): number {
  if (text === "0") return 0;
  const match = /^((\d+)h)?((\d+)m(?!s))?((\d+)s)?((\d+)ms)?$/.exec(text);
  if (!match || text === "") throw new Exit(2, `invalid value "${text}" for flag -timeout: parse error`);
  return ((Number(match[2] ?? 0) * 60 + Number(match[4] ?? 0)) * 60 + Number(match[6] ?? 0)) * 1000 +
    Number(match[8] ?? 0);
}

// ---- tailscaled ----

async function runDaemon(args: readonly string[]): Promise<number> {
  const { values } = parseGoFlags(args, {
    state: "string",
    statedir: "string",
    socket: "string",
    tun: "string",
    port: "string",
    verbose: "string",
    cleanup: "bool",
  }, "usage: tailscaled [flags]");
  if (values.get("cleanup") === "true") return 0;
  const state = values.get("state");
  const stateDir = values.get("statedir");
  if (!state && !stateDir) throw new Exit(1, "--statedir (or at least --state) is required");
  if (stateDir) Deno.mkdirSync(stateDir, { recursive: true });
  const socket = values.get("socket") ?? DEFAULT_SOCKET;
  Deno.mkdirSync(dirname(socket), { recursive: true });
  try {
    Deno.removeSync(socket);
  } catch {
    // No stale socket.
  }
  const listener = Deno.listen({ transport: "unix", path: socket });
  writeDaemonState(socket, { pid: Deno.pid, backendState: "NeedsLogin", mem: state === "mem:" });
  const tailnet = env("TS_DOUBLE_TAILNET");
  const shutdown = () => {
    // Like the real daemon: an ephemeral node is logged out on a graceful shutdown.
    try {
      const current = readDaemonState(socket);
      if (current.mem && current.nodeKey) removeNode(tailnet, current.nodeKey);
    } catch {
      // No state to clean.
    }
    for (const path of [socket, stateFile(socket)]) {
      try {
        Deno.removeSync(path);
      } catch {
        // Already gone.
      }
    }
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", shutdown);
  Deno.addSignalListener("SIGINT", shutdown);
  for await (const connection of listener) connection.close();
  return 0;
}

// ---- tailscale ----

async function connectOrFail(socket: string): Promise<DaemonState> {
  try {
    const connection = await Deno.connect({ transport: "unix", path: socket });
    connection.close();
    return readDaemonState(socket);
  } catch {
    // The real 1.94.2 on Linux, word for word (its systemctl hint included).
    throw new Exit(
      1,
      "failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)",
    );
  }
}

const UP_FLAGS: Record<string, FlagKind> = {
  "auth-key": "string",
  "hostname": "string",
  "advertise-tags": "string",
  "timeout": "string",
  "login-server": "string",
  "operator": "string",
  "exit-node": "string",
  "advertise-routes": "string",
  "client-id": "string",
  "client-secret": "string",
  "id-token": "string",
  "audience": "string",
  "accept-risk": "string",
  "netfilter-mode": "string",
  "qr-format": "string",
  "ssh": "bool",
  "accept-routes": "bool",
  "accept-dns": "bool",
  "reset": "bool",
  "force-reauth": "bool",
  "json": "bool",
  "shields-up": "bool",
  "qr": "bool",
  "advertise-exit-node": "bool",
  "snat-subnet-routes": "bool",
  "stateful-filtering": "bool",
};

/** tailcfg.CheckTag */
function checkTag(tag: string): string | undefined {
  if (!tag.startsWith("tag:")) return "tags must start with 'tag:'";
  const name = tag.slice(4);
  if (name === "") return "tag names must not be empty";
  if (!/^[A-Za-z]/.test(name)) return "tag names must start with a letter, after 'tag:'";
  if (!/^[A-Za-z0-9-]+$/.test(name)) return "tag names can only contain numbers, letters, or dashes";
  return undefined;
}

/** dnsname.ValidHostname */
function hostnameProblem(hostname: string): string | undefined {
  if (hostname.length > 253) return `${JSON.stringify(hostname)} is too long to be a DNS name`;
  for (const label of hostname.split(".")) {
    if (label === "") return "empty DNS label";
    if (label.length > 63) return `${JSON.stringify(label)} is too long, max length is 63 bytes`;
    if (!/^[A-Za-z0-9]/.test(label)) {
      return `${JSON.stringify(label)} is not a valid DNS label: must start with a letter or number`;
    }
    if (!/[A-Za-z0-9]$/.test(label)) {
      return `${JSON.stringify(label)} is not a valid DNS label: must end with a letter or number`;
    }
    const bad = /[^A-Za-z0-9-]/.exec(label);
    if (bad) {
      return `${JSON.stringify(label)} is not a valid DNS label: contains invalid character ${JSON.stringify(bad[0])}`;
    }
  }
  return undefined;
}

function resolveFileValue(value: string): string {
  if (!value.startsWith("file:")) return value;
  try {
    return Deno.readTextFileSync(value.slice(5)).trim();
  } catch (error) {
    throw new Exit(1, `reading ${value.slice(5)}: ${(error as Error).message}`);
  }
}

/** Not the real CLI's: notes the mode of a `file:` key, so tests can show nobody else could read it. */
function recordKeyFileMode(tailnet: string, hostname: string, value: string): void {
  if (!value.startsWith("file:")) return;
  const mode = (Deno.statSync(value.slice(5)).mode ?? 0) & 0o777;
  Deno.writeTextFileSync(keyFileModesPath(tailnet), `${hostname} ${mode.toString(8).padStart(4, "0")}\n`, {
    append: true,
  });
}

interface Grant {
  readonly ephemeral: boolean;
  readonly oneOff?: string;
}

/** What control says to a key: the grant, or the real CLI's `backend error: …` line. */
function authorize(control: Control, key: string, tags: readonly string[], usedKeys: readonly string[]): Grant {
  if (key.startsWith("tskey-client-")) {
    const [secret, query = ""] = key.split("?", 2) as [string, string?];
    let ephemeral = true;
    for (const [name, value] of new URLSearchParams(query)) {
      if (!["ephemeral", "preauthorized", "baseURL"].includes(name)) throw new Exit(1, `unknown attribute "${name}"`);
      if (name !== "baseURL" && !["true", "false"].includes(value)) {
        throw new Exit(1, `invalid attribute boolean attribute ${name} value "${value}"`);
      }
      if (name === "ephemeral") ephemeral = value === "true";
    }
    if (tags.length === 0) throw new Exit(1, "oauth authkeys require --advertise-tags");
    const client = control.oauthClients.find((candidate) => candidate.secret === secret);
    if (!client) throw new Exit(1, "backend error: invalid key: API key does not exist");
    const refused = tags.filter((tag) => !client.tags.includes(tag) || !control.allowedTags.includes(tag));
    if (refused.length > 0) {
      throw new Exit(1, `backend error: requested tags [${refused.join(" ")}] are invalid or not permitted`);
    }
    return { ephemeral };
  }
  const grant = control.authKeys.find((candidate) => candidate.key === key);
  if (!grant) throw new Exit(1, "backend error: invalid key: API key does not exist");
  if (grant.expired || (!grant.reusable && usedKeys.includes(key))) {
    throw new Exit(1, "backend error: invalid key: unable to validate API key");
  }
  const refused = tags.filter((tag) => !control.allowedTags.includes(tag));
  if (refused.length > 0) {
    throw new Exit(1, `backend error: requested tags [${refused.join(" ")}] are invalid or not permitted`);
  }
  return { ephemeral: grant.ephemeral, oneOff: grant.reusable ? undefined : key };
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function ipv6For(ipv4: string): string {
  const [a, b, c, d] = ipv4.split(".").map(Number) as [number, number, number, number];
  return `fd7a:115c:a1e0::${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

async function up(socket: string, args: readonly string[]): Promise<number> {
  const normalised = args.map((arg) => arg.replace(/^(--?)authkey(=|$)/, "$1auth-key$2"));
  const { values, rest } = parseGoFlags(normalised, UP_FLAGS, "USAGE\n  tailscale up [flags]");
  if (rest.length > 0) throw new Exit(1, `too many non-flag arguments: ${JSON.stringify(rest)}`);
  const tags = (values.get("advertise-tags") ?? "").split(",").filter((tag) => tag !== "")
    .map((tag) => tag.includes(":") ? tag : `tag:${tag}`);
  for (const tag of tags) {
    const problem = checkTag(tag);
    if (problem) throw new Exit(1, `tag: ${JSON.stringify(tag)}: ${problem}`);
  }
  const hostname = values.get("hostname") ?? Deno.hostname();
  const problem = hostnameProblem(hostname);
  if (problem) throw new Exit(1, problem);
  const timeoutMs = parseDuration(values.get("timeout") ?? "0");
  const state = await connectOrFail(socket);
  const key = resolveFileValue(values.get("auth-key") ?? "");
  if (key === "") throw new Exit(1, "the double needs an auth key: interactive login is not played");
  const tailnet = env("TS_DOUBLE_TAILNET");
  recordKeyFileMode(tailnet, hostname, values.get("auth-key") ?? "");
  const control = readControl(tailnet);
  if (timeoutMs > 0 && control.statusDelayMs > timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    throw new Exit(
      1,
      'timeout waiting for Tailscale service to enter a Running state; check health with "tailscale status"',
    );
  }
  const ssh = values.get("ssh") === "true";
  const hostKeys = ssh
    ? [Deno.readTextFileSync(env("TS_DOUBLE_SSH_HOST_KEY")).trim().split(/\s+/).slice(0, 2).join(" ")]
    : [];
  const node = await withTailnetLock(tailnet, () => {
    const others = listNodes(tailnet).filter((candidate) => candidate.nodeKey !== state.nodeKey);
    const grant = authorize(control, key, tags, others.flatMap((other) => other.usedKey ? [other.usedKey] : []));
    const previous = state.nodeKey ? readNode(tailnet, state.nodeKey) : undefined;
    const ipv4 = env("TS_DOUBLE_IPV4");
    const record: NodeRecord = {
      nodeKey: previous?.nodeKey ?? randomHex(32),
      id: previous?.id ?? `n${randomHex(5)}CNTRL`,
      nodeId: previous?.nodeId ?? Math.floor(Math.random() * 2 ** 52),
      hostName: hostname,
      dnsLabel: previous?.hostName === hostname
        ? previous.dnsLabel
        : assignDnsLabel(hostname, others.map((other) => other.dnsLabel)),
      ipv4,
      ipv6: ipv6For(ipv4),
      tags,
      ssh,
      sshHostKeys: hostKeys,
      os: "linux",
      ephemeral: grant.ephemeral || state.mem,
      created: previous?.created ?? new Date().toISOString(),
      daemonPid: state.pid,
      usedKey: grant.oneOff,
    };
    writeNode(tailnet, record);
    return record;
  });
  writeDaemonState(socket, { ...state, backendState: "Running", nodeKey: node.nodeKey });
  return 0;
}

function currentNode(state: DaemonState, tailnet: string): NodeRecord | undefined {
  return state.backendState === "Running" && state.nodeKey ? readNode(tailnet, state.nodeKey) : undefined;
}

async function status(socket: string, args: readonly string[]): Promise<Exit> {
  const { values } = parseGoFlags(args, {
    json: "bool",
    peers: "bool",
    self: "bool",
    active: "bool",
    web: "bool",
    browser: "bool",
    header: "bool",
    listen: "string",
  }, "USAGE\n  tailscale status [flags]");
  const state = await connectOrFail(socket);
  const tailnet = env("TS_DOUBLE_TAILNET");
  const control = readControl(tailnet);
  if (control.statusDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, control.statusDelayMs));
  const self = currentNode(state, tailnet);
  const json = values.get("json") === "true";
  if (!self) {
    const backendState = state.backendState === "Stopped" ? "Stopped" : "NeedsLogin";
    if (json) return new Exit(0, "", renderLoggedOutStatus(backendState, Deno.hostname()));
    return new Exit(1, "", backendState === "Stopped" ? "Tailscale is stopped.\n" : "Logged out.\n");
  }
  const others = listNodes(tailnet).filter((node) => node.nodeKey !== self.nodeKey);
  if (json) {
    return new Exit(
      0,
      "",
      renderStatus(self, others, control, "Running", {
        peers: values.get("peers") !== "false",
        active: values.get("active") === "true",
      }),
    );
  }
  const line = (node: NodeRecord, online: boolean) =>
    `${node.ipv4.padEnd(16)}${node.dnsLabel.padEnd(24)}${node.tags.length > 0 ? "tagged-devices" : "alice@"}  linux   ${
      online ? "-" : "offline"
    }`;
  return new Exit(0, "", [line(self, true), ...others.map((node) => line(node, nodeOnline(node)))].join("\n") + "\n");
}

async function ip(socket: string, args: readonly string[]): Promise<Exit> {
  const { values, rest } = parseGoFlags(
    args,
    { "4": "bool", "6": "bool", "1": "bool", assert: "string" },
    "USAGE\n  tailscale ip",
  );
  if (rest.length > 1) throw new Exit(1, "too many arguments, expected at most one peer");
  const state = await connectOrFail(socket);
  const tailnet = env("TS_DOUBLE_TAILNET");
  const self = currentNode(state, tailnet);
  if (!self) throw new Exit(1, `no current Tailscale IPs; state: ${state.backendState}`);
  let node = self;
  const target = rest[0];
  if (target !== undefined) {
    const suffix = readControl(tailnet).magicDnsSuffix;
    const found = listNodes(tailnet).find((candidate) =>
      candidate.ipv4 === target || candidate.dnsLabel.toLowerCase() === target.toLowerCase() ||
      `${candidate.dnsLabel}.${suffix}.` === target
    );
    if (!found) throw new Exit(1, `no peer or service found with IP ${target}`);
    node = found;
  }
  const addresses = values.get("4") === "true"
    ? [node.ipv4]
    : values.get("6") === "true"
    ? [node.ipv6]
    : values.get("1") === "true"
    ? [node.ipv4]
    : [node.ipv4, node.ipv6];
  return new Exit(0, "", addresses.join("\n") + "\n");
}

/** `tailscale whois [--json] ip[:port]`: the node behind a tailnet address, as this node's netmap knows it. */
async function whois(socket: string, args: readonly string[]): Promise<Exit> {
  const { values, rest } = parseGoFlags(
    args,
    { json: "bool", proto: "string" },
    "USAGE\n  tailscale whois [--json] ip[:port]",
  );
  if (rest.length > 1) throw new Exit(1, "too many arguments, expected at most one peer");
  if (rest.length === 0) throw new Exit(1, "missing argument, expected one peer");
  const state = await connectOrFail(socket);
  const tailnet = env("TS_DOUBLE_TAILNET");
  if (!currentNode(state, tailnet)) throw new Exit(1, "peer not found");
  // ip, ip:port or [ipv6]:port, as the local API's addr parameter takes them.
  const address = rest[0]!.replace(/^\[(.*)\](:\d+)?$/, "$1").replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, "$1");
  const node = listNodes(tailnet).find((candidate) => candidate.ipv4 === address || candidate.ipv6 === address);
  if (!node) throw new Exit(1, "peer not found");
  const control = readControl(tailnet);
  if (values.get("json") === "true") return new Exit(0, "", renderWhois(node, control));
  const machine = [
    "Machine:",
    `  Name:          ${node.dnsLabel}.${control.magicDnsSuffix}`,
    `  ID:            ${node.id}`,
    `  Addresses:     [${node.ipv4}/32 ${node.ipv6}/128]`,
  ];
  const owner = node.tags.length > 0
    ? [`  Tags:          ${node.tags.join(", ")}`]
    : ["User:", "  Name:     alice@example.com", `  ID:       1234`];
  return new Exit(0, "", [...machine, ...owner].join("\n") + "\n");
}

async function logout(socket: string, args: readonly string[]): Promise<number> {
  const { rest } = parseGoFlags(args, { reason: "string" }, "USAGE\n  tailscale logout");
  if (rest.length > 0) throw new Exit(1, `too many non-flag arguments: ${JSON.stringify(rest)}`);
  const state = await connectOrFail(socket);
  // An ephemeral node is deleted at once; a persistent one is invalidated too (its key is gone).
  if (state.nodeKey) removeNode(env("TS_DOUBLE_TAILNET"), state.nodeKey);
  writeDaemonState(socket, { pid: state.pid, mem: state.mem, backendState: "NeedsLogin" });
  return 0;
}

async function down(socket: string, args: readonly string[]): Promise<Exit> {
  const { rest } = parseGoFlags(args, { reason: "string", "accept-risk": "string" }, "USAGE\n  tailscale down");
  if (rest.length > 0) throw new Exit(1, `too many non-flag arguments: ${JSON.stringify(rest)}`);
  const state = await connectOrFail(socket);
  if (state.backendState === "Stopped") return new Exit(0, "Tailscale was already stopped.");
  const tailnet = env("TS_DOUBLE_TAILNET");
  const node = currentNode(state, tailnet);
  if (node) writeNode(tailnet, { ...node, forcedOffline: true });
  writeDaemonState(socket, { ...state, backendState: "Stopped" });
  return new Exit(0);
}

async function runCli(args: readonly string[]): Promise<Exit> {
  const { values, rest } = parseGoFlags(
    args,
    { socket: "string" },
    "USAGE\n  tailscale [flags] <subcommand> [command flags]",
  );
  const socket = values.get("socket") ?? DEFAULT_SOCKET;
  const [command, ...commandArgs] = rest;
  switch (command) {
    case "up":
      return new Exit(await up(socket, commandArgs));
    case "status":
      return await status(socket, commandArgs);
    case "ip":
      return await ip(socket, commandArgs);
    case "logout":
      return new Exit(await logout(socket, commandArgs));
    case "whois":
      return await whois(socket, commandArgs);
    case "down":
      return await down(socket, commandArgs);
    case "version":
      return new Exit(
        0,
        "",
        `${DOUBLE_VERSION.split("-")[0]}\n  tailscale commit: 3caf7d9e7\n  go version: go1.25.5\n`,
      );
    default:
      return new Exit(command === undefined ? 0 : 1, `tailscale: unknown subcommand: ${command ?? ""}`.trim());
  }
}

async function main(): Promise<number> {
  try {
    const program = Deno.env.get("TS_DOUBLE_PROGRAM");
    const outcome = program === "tailscaled" ? new Exit(await runDaemon(Deno.args)) : await runCli(Deno.args);
    if (outcome.stdout) await Deno.stdout.write(new TextEncoder().encode(outcome.stdout));
    if (outcome.stderr) console.error(outcome.stderr);
    return outcome.code;
  } catch (error) {
    if (error instanceof Exit) {
      if (error.stderr) console.error(error.stderr);
      return error.code;
    }
    console.error(String(error));
    return 1;
  }
}

Deno.exit(await main());
