/**
 * Property-style: every parser and writer of remote data fed with generated hostile strings (control
 * characters, `;#@&?=|`, shell and ssh_config syntax, unicode, 1 MB values) from a seeded generator.
 * Whatever goes in, it is refused (a throw, or left out) or what comes out keeps to the strict grammar of
 * the machines file, ssh config, known_hosts and argv, written here as regexes of the test's own.
 */
import assert from "node:assert/strict";
import { failureLine } from "../../lib/core/exec.ts";
import { classifyClaimFailure } from "../../lib/farm/claim.ts";
import { machineEntry } from "../../lib/farm/configure.ts";
import type { FarmSettings } from "../../lib/farm/cluster.ts";
import { parseStorePing } from "../../lib/nix/daemon.ts";
import { machinesLine, storeUri } from "../../lib/nix/machines_file.ts";
import { parseBuilderInfo } from "../../lib/protocol/builder_info.ts";
import { parseClaimFile } from "../../lib/protocol/claim_file.ts";
import { claimArgv } from "../../lib/protocol/scripts.ts";
import { parseUsage } from "../../lib/protocol/usage.ts";
import { knownHostsLines, parseHostKey } from "../../lib/ssh/host_keys.ts";
import { sshConfigLines } from "../../lib/ssh/ssh_config.ts";
import { discover } from "../../lib/tailnet/discovery.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";
import { judgeClaim, whoisArgv } from "../../lib/builder/claim_gate.ts";
import { FakeRunner } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";

// ---- the grammar of what may be written, independent of lib/ ----

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const SYSTEM = "[a-z0-9_]+(?:-v[1-4])?-(?:linux|darwin|freebsd|netbsd|openbsd)";
const FEATURES = "(?:-|[a-z0-9][a-z0-9-]*(?:,[a-z0-9][a-z0-9-]*)*)";
const BASE64 = "[A-Za-z0-9+/]+={0,2}";
const KEY_TYPE = "(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\\.com|" +
  "sk-ecdsa-sha2-nistp256@openssh\\.com)";
const STORE_URI = `ssh-ng://[a-z_][a-z0-9_-]*@${LABEL}\\?remote-program=/[A-Za-z0-9._+/-]*`;
const MACHINES_LINE = new RegExp(
  `^${STORE_URI} ${SYSTEM}(?:,${SYSTEM})* (?:-|/[A-Za-z0-9._+@/-]+) \\d+ \\d+ ${FEATURES} ${FEATURES} ${BASE64}$`,
);
const SSH_CONFIG_LINE = new RegExp(`^(?:Host ${LABEL}|  [A-Z][A-Za-z]+ [A-Za-z0-9._+@/,:-]+)$`);
const KNOWN_HOSTS_LINE = new RegExp(`^${LABEL} ${KEY_TYPE} ${BASE64}$`);
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IP = /^[0-9A-Fa-f:.]{2,39}$/;
/** A line fit to print: no control character, line or paragraph separator or bidirectional override. */
// deno-lint-ignore no-control-regex
const PRINTABLE = /^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/;

// ---- a seeded generator of hostile strings ----

/** mulberry32: small, fast, and the same cases on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  ";",
  "#",
  "@",
  "&",
  "?",
  "=",
  "|",
  ",",
  " ",
  "\t",
  "\n",
  "\r",
  "\0",
  "\x1b[31m",
  "\x7f",
  "\x85",
  "\u2028",
  "\u202e",
  "%h",
  "*",
  "!",
  "'",
  '"',
  "`id`",
  "$(id)",
  "\\",
  "..",
  "/",
  ":",
  "-",
  "é",
  "中",
  "🦀",
  "a\u0301",
  "@/etc/shadow",
  "?remote-program=/bin/sh",
  "&ssh-key=/root/.ssh/id",
  "\n::add-mask::x",
  "\r::stop-commands::t",
  "![x](http://e/)",
  "\nProxyCommand sh -c id",
  "b1",
  "nix-builder-1-1-linux",
  "/nix/store/x",
  "x86_64-linux",
  "kvm",
  "2.24.9",
  "100.64.0.2",
  "tag:nix-builder",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2dJWlrk3nCpImBsSZ5mCRa1RqFWZWkfnqqx/sTUoaU",
];

/** A hostile string: a few pieces, sometimes a megabyte of one. */
function hostile(random: () => number, index: number): string {
  const pick = () => PIECES[Math.floor(random() * PIECES.length)]!;
  if (index % 97 === 13) return pick().repeat(Math.ceil(1_000_000 / pick().length)).slice(0, 1_000_000);
  // One piece alone is sometimes a valid value: the property is tested on what passes too.
  return Array.from({ length: random() < 0.25 ? 1 : 2 + Math.floor(random() * 4) }, pick).join("");
}

const CASES = 300;

type Outcome = "refused" | "passed";

/**
 * Runs `check` on CASES generated values; it returns "refused" when the input was refused. Both outcomes
 * must occur, so the property is tested on both of its sides.
 */
function eachCase(
  seed: number,
  check: (value: string, random: () => number, index: number) => Outcome,
): void {
  const random = prng(seed);
  const outcomes = { refused: 0, passed: 0 };
  for (let index = 0; index < CASES; index++) {
    const value = hostile(random, index);
    try {
      outcomes[check(value, random, index)]++;
    } catch (error) {
      throw new Error(`case ${index} (${JSON.stringify(value.slice(0, 120))}): ${(error as Error).message}`);
    }
  }
  assert.ok(outcomes.refused > 0 && outcomes.passed > 0, JSON.stringify(outcomes));
}

// ---- where parsed data ends up ----

const SETTINGS: FarmSettings = {
  hostname: "coord",
  stateDir: "/tmp/dnb",
  sshUser: "root",
  sshKey: "/root/.ssh/id_ed25519",
  jobsPerCore: 2,
  leaseSeconds: 120,
  builderStateDir: "/tmp/dnb",
  extraNixConfig: [],
  probeConcurrency: 16,
  sshMaster: "auto",
};
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2dJWlrk3nCpImBsSZ5mCRa1RqFWZWkfnqqx/sTUoaU";

/** Writes what a member becomes, or throws (a refusal); every line written must keep to its grammar. */
function writeMember(alias: string, address: string, hostKeys: readonly string[], info = VALID_INFO): void {
  const entry = machineEntry(SETTINGS, { alias, address, hostKeys, info, readySeconds: 1 });
  const line = machinesLine(entry);
  assert.match(line, MACHINES_LINE);
  for (const sshLine of sshConfigLines([{ alias, address, user: "root", identityFile: SETTINGS.sshKey }], "/k")) {
    assert.match(sshLine, SSH_CONFIG_LINE);
  }
  for (const known of knownHostsLines(alias, hostKeys)) assert.match(known, KNOWN_HOSTS_LINE);
  for (const arg of claimArgv("/tmp/dnb/ssh_config", alias).slice(0, 4)) assert.match(arg, /^[A-Za-z0-9._/-]+$/);
  assert.match(storeUri(entry), new RegExp(`^${STORE_URI}$`));
}

/** Either it throws (refused) or it passes writeMember's checks. */
function refusedOrWellFormed(write: () => void): Outcome {
  try {
    write();
    return "passed";
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return "refused";
  }
}

const VALID_INFO = parseBuilderInfo(JSON.stringify({
  version: 1,
  hostname: "b1",
  system: "x86_64-linux",
  systems: ["x86_64-linux"],
  features: ["kvm"],
  cores: 4,
  memoryBytes: 1,
  nixVersion: "2.24.9",
  nixDaemon: "/nix/var/nix/profiles/default/bin/nix-daemon",
  os: "linux",
  arch: "x86_64",
  startedAt: "2026-11-26T08:00:00.000Z",
  disk: { buildDir: "/tmp" },
})).info!;

// ---- the properties ----

Deno.test("status JSON: hostile names, tags, addresses and keys are dropped or come out well-formed", () => {
  eachCase(1, (value, random) => {
    const field = ["HostName", "DNSName", "Tags", "TailscaleIPs", "sshHostKeys", "OS", "Relay", "ID"][
      Math.floor(random() * 8)
    ]!;
    const peer: Record<string, unknown> = {
      ID: "nPeer1CNTRL",
      HostName: "b1",
      DNSName: "b1.tail.ts.net.",
      OS: "linux",
      TailscaleIPs: ["100.64.0.2"],
      Tags: ["tag:nix-builder"],
      Online: true,
      Relay: "iad",
      sshHostKeys: [KEY],
    };
    peer[field] = Array.isArray(peer[field])
      ? [value, value.slice(0, 40)]
      : field === "DNSName"
      ? `${value}.ts.net.`
      : value;
    let status;
    try {
      status = parseStatus(JSON.stringify({ BackendState: "Running", Peer: { "nodekey:1": peer } }));
    } catch {
      return "refused"; // Refused whole.
    }
    for (const line of status.ignored) assert.match(line, PRINTABLE);
    for (const node of status.peers) {
      assert.match(node.shortName, new RegExp(`^${LABEL}$`));
      assert.match(node.hostName, new RegExp(`^${LABEL}$`));
      assert.ok(node.ipv4 === undefined || IPV4.test(node.ipv4));
      for (const tag of node.tags) assert.match(tag, /^tag:[A-Za-z][A-Za-z0-9-]*$/);
      for (const key of node.sshHostKeys) assert.match(key, new RegExp(`^${KEY_TYPE} ${BASE64}$`));
      for (const shown of [node.os, node.relayVia ?? "", node.dnsName]) assert.match(shown, PRINTABLE);
    }
    for (
      const wanted of [
        { kind: "names" as const, names: ["b1"], tag: "tag:nix-builder" },
        { kind: "prefix" as const, prefix: "b", tag: "tag:nix-builder", expect: 1 },
      ]
    ) {
      const found = discover(status, wanted);
      for (const line of [...found.notes.values(), ...found.refused.values()]) assert.match(line, PRINTABLE);
      for (const candidate of found.candidates) {
        refusedOrWellFormed(() => writeMember(candidate.alias, candidate.node.ipv4, candidate.node.sshHostKeys));
      }
    }
    return status.peers.length === 0 ? "refused" : "passed";
  });
});

Deno.test("info.json: a hostile value in any field is refused, or the builder's lines are well-formed", () => {
  const fields = ["hostname", "system", "systems", "features", "nixVersion", "nixDaemon", "os", "arch", "startedAt"];
  eachCase(2, (hostileValue, random) => {
    let value = hostileValue;
    const field = random() < 0.15 ? "buildDir" : fields[Math.floor(random() * fields.length)]!;
    const info: Record<string, unknown> = structuredClone(VALID_INFO);
    // A fifth of the cases change nothing, as a control: what passes is written and checked too.
    if (random() < 0.2) value = "";
    if (value === "") {
      // The control: a valid info.json.
    } else if (field === "buildDir") info.disk = { buildDir: value };
    else info[field] = ["systems", "features"].includes(field) ? ["x86_64-linux", value] : value;
    const parsed = parseBuilderInfo(JSON.stringify(info));
    if (parsed.info === undefined) {
      assert.match(parsed.problem!, PRINTABLE);
      return "refused";
    }
    writeMember("b1", "100.64.0.2", [KEY], parsed.info);
    for (const shown of [parsed.info.hostname, parsed.info.nixVersion, parsed.info.os, parsed.info.arch]) {
      assert.match(shown, /^[A-Za-z0-9._+-]+$/);
    }
    assert.match(parsed.info.disk?.buildDir ?? "/", /^\/[A-Za-z0-9._+/-]*$/);
    return "passed";
  });
});

Deno.test("usage.json: a hostile reading is refused or a valid one", () => {
  eachCase(3, (value, random) => {
    const reading: Record<string, unknown> = {
      version: 1,
      claimedAt: "2026-11-26T08:00:00.000Z",
      at: "2026-11-26T08:01:00.000Z",
      derivations: 2,
      busySeconds: 3,
    };
    // A fifth of the readings are left valid, as a control.
    if (random() < 0.8) {
      reading[["claimedAt", "at", "derivations", "busySeconds", "version"][Math.floor(random() * 5)]!] = value;
    }
    const text = random() < 0.5 ? JSON.stringify(reading) : value;
    const usage = parseUsage(text);
    if (usage === undefined) return "refused";
    assert.ok(Number.isFinite(usage.derivations) && Number.isFinite(usage.busySeconds));
    assert.match(usage.at, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.match(usage.claimedAt, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    return "passed";
  });
});

Deno.test("claim and store-check stderr: what is said of it is one plain bounded line; versions keep their grammar", () => {
  eachCase(4, (value, random) => {
    const code = [1, 3, 255, -1][Math.floor(random() * 4)]!;
    const stderr = random() < 0.5 ? value : `Version: ${value}\nTrusted: ${value}\n${value}`;
    const { reason } = classifyClaimFailure(code, stderr);
    assert.match(reason, PRINTABLE);
    assert.ok(reason.length <= 301, String(reason.length));
    const line = failureLine({ argv: ["nix"], code: 1, stdout: "", stderr, timedOut: false });
    assert.match(line, PRINTABLE);
    assert.ok(line.length <= 301);
    const ping = parseStorePing(stderr);
    assert.ok(ping.version === undefined || /^[0-9][0-9A-Za-z.+_-]*$/.test(ping.version));
    assert.ok(ping.trusted === undefined || typeof ping.trusted === "boolean");
    return reason !== stderr.trim() ? "refused" : "passed";
  });
});

Deno.test("the writers refuse a hostile alias, address, key, path, system or feature rather than write it", () => {
  eachCase(5, (value, random) => {
    // Six fields to spoil, and a seventh draw that spoils none, as a control.
    const which = Math.floor(random() * 7);
    const info = structuredClone(VALID_INFO) as Record<string, unknown>;
    if (which === 3) info.nixDaemon = value;
    if (which === 4) info.systems = [value];
    if (which === 5) info.features = [value];
    return refusedOrWellFormed(() =>
      writeMember(
        which === 0 ? value : "b1",
        which === 1 ? value : "100.64.0.2",
        which === 2 ? [value, parseHostKey(value) ?? KEY] : [KEY],
        info as typeof VALID_INFO,
      )
    );
  });
});

Deno.test("the claim file on the builder: the address asked about keeps to IP grammar, the name to a DNS label", () => {
  eachCase(6, (value, random) => {
    const text = random() < 0.5
      ? `${JSON.stringify({ coordinator: value })}\nclient ${value}\n`
      : `${value}\nclient ${value.split(/\s/)[0]}\n`;
    const claim = parseClaimFile(text);
    assert.ok(claim.client === undefined || IP.test(claim.client), claim.client);
    assert.ok(claim.coordinator === undefined || new RegExp(`^${LABEL}$`).test(claim.coordinator));
    if (claim.client === undefined) return "refused";
    assert.deepEqual(whoisArgv({ bin: "/usr/bin/tailscale" }, claim.client).slice(1, 3), ["whois", "--json"]);
    return "passed";
  });
});

Deno.test("whois of a claimer: a hostile name or tag is refused or shown as a plain DNS label", async () => {
  const random = prng(7);
  const outcomes = { accept: 0, refuse: 0, unknown: 0 };
  for (let index = 0; index < CASES; index++) {
    const value = hostile(random, index);
    const control = random() < 0.2;
    const node = {
      Name: control ? "coord.tail.ts.net." : random() < 0.5 ? `${value}.tail.ts.net.` : value,
      Tags: control || random() < 0.5 ? ["tag:nix-coordinator"] : [value],
    };
    const runner = new FakeRunner([{ when: () => true, stdout: JSON.stringify({ Node: node, UserProfile: {} }) }]);
    const ctx = { ...testContext(), runner };
    const verdict = await judgeClaim(ctx, { bin: "/t" }, { tag: "tag:nix-coordinator" }, claimFrom("100.64.0.10"));
    outcomes[verdict.kind]++;
    const said = verdict.kind === "accept" ? verdict.who : verdict.why;
    assert.match(said, PRINTABLE, `case ${index}`);
    if (verdict.kind === "accept") assert.match(verdict.who, new RegExp(`^${LABEL} \\(100\\.64\\.0\\.10\\)$`));
  }
  assert.ok(outcomes.accept > 0 && outcomes.refuse > 0, JSON.stringify(outcomes));
});

const claimFrom = (client: string) => `${JSON.stringify({ coordinator: "coord" })}\nclient ${client}\n`;
