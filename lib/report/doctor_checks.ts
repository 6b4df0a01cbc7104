/**
 * `dnb doctor`'s judgement: facts about this machine in, one line per check out. Pure: the facts are
 * gathered by lib/commands/doctor.ts, so every outcome here is unit-tested from plain data.
 */
import { z } from "zod";
import { DEFAULT_BUILDER_TAG, DEFAULT_COORDINATOR_TAG } from "../config/config.ts";
import { displayArgv } from "../core/exec.ts";

import { blockBody } from "../core/managed_block.ts";
import { type NixConfInclude, nixConfTarget } from "../nix/conf.ts";
import { daemonRestartArgv, NIX_DAEMON_SOCKET } from "../nix/daemon.ts";
import type { TailnetNode } from "../tailnet/status.ts";
import { TAILSCALE_VERSION } from "../tailnet/install.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do about a warn or a fail. */
  readonly fix?: string;
  /** How to check by hand what doctor cannot (a skip). */
  readonly verify?: string;
}

export type Privilege = "root" | "passwordless-sudo" | "none";

export interface NixFacts {
  /** nix on PATH; undefined when it is not installed. */
  readonly path?: string;
  readonly version?: string;
  /** Why `nix --version` gave no version. */
  readonly versionProblem?: string;
  /** none: no socket (single-user Nix); silent: a socket nobody answers on. */
  readonly daemon: { readonly state: "none" | "answers" } | { readonly state: "silent"; readonly problem: string };
}

export interface NixConfFacts {
  readonly nixConf?: string;
  readonly nixCustomConf?: string;
  readonly includes: readonly (NixConfInclude & { readonly exists: boolean })[];
}

export interface TrustFacts {
  /** Nix's effective `trusted-users`; undefined with the reason when Nix could not print it. */
  readonly trustedUsers?: readonly string[];
  readonly problem?: string;
  /** root, and the --ssh-user when one was given, with their groups (for `@group` entries). */
  readonly users: readonly { readonly name: string; readonly groups: readonly string[] }[];
}

export type KvmFacts =
  | { readonly exists: false }
  | {
    readonly exists: true;
    /** Why opening it read-write as this user failed; undefined when it opened. */
    readonly openProblem?: string;
    /** Permission bits; undefined when stat failed. */
    readonly mode?: number;
  };

export interface DiskFacts {
  /** The folder `df` was asked about: /nix, or / when /nix does not exist yet. */
  readonly path: string;
  readonly availableKiB?: number;
  readonly problem?: string;
}

export type TailnetAnswer =
  | { readonly kind: "not-installed" }
  | { readonly kind: "no-answer"; readonly problem: string }
  | { readonly kind: "status"; readonly backendState: string; readonly self?: TailnetNode };

export interface TailscaleFacts {
  /** The node dnb's own session in the state folder points at, else the system tailscaled. */
  readonly via: { readonly kind: "dnb"; readonly stateDir: string; readonly socket?: string } | {
    readonly kind: "system";
  };
  readonly answer: TailnetAnswer;
  /** Where dnb would take an auth key from (a variable's name), never the key; undefined when none is set. */
  readonly authKeySource?: string;
}

export interface DoctorFacts {
  readonly os: string;
  /** Determinate Nix's launchd job is installed: the daemon restarts under its name. */
  readonly determinateLaunchd: boolean;
  readonly privilege: Privilege;
  readonly nix: NixFacts;
  readonly nixConf: NixConfFacts;
  readonly trust: TrustFacts;
  readonly kvm: KvmFacts;
  readonly disk: DiskFacts;
  readonly tailscale: TailscaleFacts;
}

const GIB_IN_KIB = 1024 * 1024;
/**
 * Builds unpack sources and write outputs under /nix; a GitHub runner starts with about 14-20 GB
 * free. Below 5 GiB a toolchain closure plus a build folder can fill it; below 1 GiB even
 * substituting one fails, so that is a failure rather than a warning.
 */
const DISK_WARN_KIB = 5 * GIB_IN_KIB;
const DISK_FAIL_KIB = 1 * GIB_IN_KIB;

/** GitHub's documented rule that opens /dev/kvm to every user, Nix's build users included. */
const KVM_UDEV_FIX = `echo 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"' | ` +
  "sudo tee /etc/udev/rules.d/99-kvm4all.rules && sudo udevadm control --reload-rules && " +
  "sudo udevadm trigger --name-match=kvm";

function checkRoot(privilege: Privilege): CheckResult {
  if (privilege === "root") return { name: "root", status: "ok", message: "running as root" };
  if (privilege === "passwordless-sudo") {
    return { name: "root", status: "ok", message: "not root, but sudo needs no password: run dnb as sudo -E dnb …" };
  }
  return {
    name: "root",
    status: "fail",
    message: "not root, and sudo asks for a password",
    fix: "run dnb as root, or give this user passwordless sudo (GitHub's runners have it)",
  };
}

function checkNix(nix: NixFacts, restart: string[] | undefined): CheckResult {
  if (nix.path === undefined) {
    return {
      name: "nix",
      status: "fail",
      message: "nix is not on PATH",
      fix: 'install Nix (the action does, with install_nix); under sudo keep PATH: sudo -E env "PATH=$PATH" dnb …',
    };
  }
  if (nix.version === undefined) {
    return {
      name: "nix",
      status: "fail",
      message: `${nix.path} --version failed: ${nix.versionProblem ?? "no version"}`,
      fix: "reinstall Nix, or put a working nix first on PATH",
    };
  }
  const nixName = `Nix ${nix.version}`;
  if (nix.daemon.state === "answers") return { name: "nix", status: "ok", message: `${nixName}, daemon answering` };
  if (nix.daemon.state === "silent") {
    return {
      name: "nix",
      status: "fail",
      message: `${nixName}, but the daemon at ${NIX_DAEMON_SOCKET} does not answer: ${nix.daemon.problem}`,
      fix: restart === undefined ? "start the Nix daemon" : `start it: sudo ${displayArgv(restart)}`,
    };
  }
  return {
    name: "nix",
    status: "warn",
    message: `${nixName}, single-user (no daemon socket at ${NIX_DAEMON_SOCKET})`,
    fix: "dnb works with it as root; for builds isolated under build users install Nix with its daemon (multi-user)",
  };
}

function checkNixConf(conf: NixConfFacts): CheckResult {
  const target = nixConfTarget(conf.nixConf);
  const missing = conf.includes.filter((include) => !include.optional && !include.exists);
  if (missing.length > 0) {
    return {
      name: "nix.conf",
      status: "fail",
      message: `nix.conf includes ${missing.map((include) => include.path).join(", ")}, which does not exist, ` +
        "so Nix stops with an error",
      fix: "create the file, or make the line `!include` (optional)",
    };
  }
  const whereWhy = conf.nixConf === undefined
    ? `${target} (absent; dnb would create it)`
    : target.endsWith("nix.custom.conf")
    ? `${target} (nix.conf !includes it)`
    : target;
  const targetText = target.endsWith("nix.custom.conf") ? conf.nixCustomConf : conf.nixConf;
  const block = blockBody(targetText ?? "") !== undefined
    ? "; it holds dnb's block now (a coordinator ran here; dnb stop removes it)"
    : "";
  const includes = conf.includes.length === 0
    ? ""
    : `; includes ${
      conf.includes.map((include) => `${include.path}${include.exists ? "" : " (absent, optional)"}`).join(", ")
    }`;
  return { name: "nix.conf", status: "ok", message: `dnb's block goes in ${whereWhy}${includes}${block}` };
}

function isTrusted(entries: readonly string[], user: { name: string; groups: readonly string[] }): boolean {
  return entries.some((entry) =>
    entry === "*" || entry === user.name || (entry.startsWith("@") && user.groups.includes(entry.slice(1)))
  );
}

function checkTrustedUsers(trust: TrustFacts, nix: NixFacts, conf: NixConfFacts): CheckResult {
  if (nix.path === undefined) {
    return { name: "trusted-users", status: "skip", message: "not checked: Nix is not installed" };
  }
  if (trust.trustedUsers === undefined) {
    return {
      name: "trusted-users",
      status: "fail",
      message: `nix could not print its configuration: ${trust.problem ?? "no output"}`,
      fix: "fix nix.conf until `nix --extra-experimental-features nix-command show-config` works",
    };
  }
  const setting = `trusted-users = ${trust.trustedUsers.join(" ") || "(empty)"}`;
  const untrusted = trust.users.filter((user) => !isTrusted(trust.trustedUsers!, user)).map((user) => user.name);
  if (untrusted.length === 0) {
    return {
      name: "trusted-users",
      status: "ok",
      message: `${trust.users.map((user) => user.name).join(", ")} trusted (${setting})`,
    };
  }
  // Without a daemon the store's owner builds directly and trusted-users is not consulted.
  const daemon = nix.daemon.state !== "none";
  return {
    name: "trusted-users",
    status: daemon ? "fail" : "warn",
    message: `${untrusted.join(", ")} not trusted (${setting})${
      daemon ? ": remote builds fail with 'lacks a signature by a trusted key'" : "; it matters once a daemon runs"
    }`,
    fix: `add ${untrusted.join(" ")} to trusted-users in ${nixConfTarget(conf.nixConf)}${
      daemon ? " and restart the Nix daemon" : ""
    }`,
  };
}

function checkKvm(kvm: KvmFacts, facts: Pick<DoctorFacts, "os" | "nix">): CheckResult {
  if (facts.os !== "linux") return { name: "kvm", status: "skip", message: `not checked: Linux only (${facts.os})` };
  if (!kvm.exists) {
    return {
      name: "kvm",
      status: "warn",
      message: "/dev/kvm missing: no kvm or nixos-test builds here",
      fix:
        "use a machine with (nested) virtualisation, e.g. GitHub's ubuntu x64 runners, and load kvm_intel or kvm_amd",
    };
  }
  if (kvm.openProblem !== undefined) {
    return {
      name: "kvm",
      status: "warn",
      message: `/dev/kvm does not open read-write for this user: ${kvm.openProblem}`,
      fix: KVM_UDEV_FIX,
    };
  }
  const mode = kvm.mode === undefined ? "" : `, mode ${kvm.mode.toString(8)}`;
  // With a daemon, builds run as Nix's build users, not as root: they need the device open to others.
  if (facts.nix.daemon.state !== "none" && kvm.mode !== undefined && (kvm.mode & 0o006) !== 0o006) {
    return {
      name: "kvm",
      status: "warn",
      message: `/dev/kvm${mode}: Nix's build users cannot open it ` +
        "(builds fail with 'Could not access KVM kernel module: Permission denied'; GitHub's Linux runners ship so)",
      fix: KVM_UDEV_FIX,
    };
  }
  return { name: "kvm", status: "ok", message: `/dev/kvm opens read-write${mode}` };
}

function gib(kib: number): string {
  return `${(kib / GIB_IN_KIB).toFixed(1)} GiB`;
}

function checkDisk(disk: DiskFacts): CheckResult {
  const where = disk.path === "/nix" ? "/nix" : `${disk.path} (where /nix would go)`;
  if (disk.availableKiB === undefined) {
    return {
      name: "disk",
      status: "warn",
      message: `free space on ${where} unknown: ${disk.problem ?? "df printed nothing"}`,
      fix: `check df -Pk ${disk.path}`,
    };
  }
  const free = `${gib(disk.availableKiB)} free on ${where}`;
  const fix = "free space: nix-collect-garbage -d; on GitHub keep the action's free_disk_space input on (default)";
  if (disk.availableKiB < DISK_FAIL_KIB) {
    return { name: "disk", status: "fail", message: `${free}, below ${gib(DISK_FAIL_KIB)}`, fix };
  }
  if (disk.availableKiB < DISK_WARN_KIB) {
    return { name: "disk", status: "warn", message: `${free}, below ${gib(DISK_WARN_KIB)}`, fix };
  }
  return { name: "disk", status: "ok", message: free };
}

function nodeLine(self: TailnetNode): string {
  return `${self.shortName || self.hostName}${self.ipv4 ? ` (${self.ipv4})` : ""}, ${
    self.tags.length > 0 ? `tags ${self.tags.join(",")}` : "no tags"
  }`;
}

/**
 * A node dnb's own session points at must be up; without one, dnb joins by itself when it has a
 * key, so a machine that is not on the tailnet yet fails only when dnb could not join either.
 */
function checkTailscale(tailscale: TailscaleFacts, os: string): CheckResult {
  const { answer, via } = tailscale;
  const daemon = via.kind === "dnb"
    ? (via.socket === undefined ? "the system tailscaled dnb reused" : `dnb's tailscaled (${via.socket})`)
    : "the system tailscaled";
  if (answer.kind === "status" && answer.backendState === "Running" && answer.self !== undefined) {
    if (answer.self.tags.length === 0) {
      return {
        name: "tailscale",
        status: "warn",
        message: `${nodeLine(answer.self)}, ${daemon}`,
        fix: "tailnet rules for dnb's tags do not cover an untagged node: let dnb start its own (--tailscale up)",
      };
    }
    return { name: "tailscale", status: "ok", message: `${nodeLine(answer.self)}, ${daemon}` };
  }
  const why = answer.kind === "not-installed"
    ? "not installed"
    : answer.kind === "no-answer"
    ? `not logged in: no tailscaled answers (${answer.problem})`
    : `not logged in (BackendState ${answer.backendState})`;
  if (via.kind === "dnb") {
    return {
      name: "tailscale",
      status: "fail",
      message: `dnb's node (state ${via.stateDir}) is ${why}`,
      fix:
        `a killed run leaves this behind: dnb post clears it, or run dnb --role … again; see ${via.stateDir}/tailscaled.log`,
    };
  }
  const install = answer.kind === "not-installed"
    ? `installs Tailscale ${TAILSCALE_VERSION} (${os === "darwin" ? "built from its Go module" : "sha256-pinned"}), `
    : "";
  if (tailscale.authKeySource !== undefined) {
    return {
      name: "tailscale",
      status: "warn",
      message: why,
      fix: `dnb --role … ${install}starts its own tailscaled and joins with the key from ${tailscale.authKeySource}`,
    };
  }
  return {
    name: "tailscale",
    status: "fail",
    message: `${why}, and no auth key is set`,
    fix: `set TS_AUTHKEY or DNB_TAILSCALE_AUTHKEY (or DNB_AUTHKEY_FILE): dnb --role … then ${install}` +
      "starts its own tailscaled and joins",
  };
}

/** Tag ownership lives in the tailnet policy, which only an API token can read: say how to look instead. */
function checkTailnetAcl(tailscale: TailscaleFacts): CheckResult {
  const self = tailscale.answer.kind === "status" && tailscale.answer.backendState === "Running"
    ? tailscale.answer.self
    : undefined;
  const accepted = self !== undefined && self.tags.length > 0
    ? `; this node's tags (${self.tags.join(",")}) were accepted at login`
    : "";
  return {
    name: "tailnet-acl",
    status: "skip",
    message: `tag ownership not checked: it needs a Tailscale API token${accepted}`,
    verify: `in the tailnet policy, tagOwners must own ${DEFAULT_BUILDER_TAG} and ${DEFAULT_COORDINATOR_TAG}, ` +
      "the OAuth client must hold both tags, and an ssh rule must accept root (README: Tailscale setup); " +
      "else joining fails with 'requested tags … are invalid or not permitted'",
  };
}

export function doctorChecks(facts: DoctorFacts): CheckResult[] {
  return [
    checkRoot(facts.privilege),
    checkNix(facts.nix, daemonRestartArgv(facts.os, facts.determinateLaunchd)),
    checkNixConf(facts.nixConf),
    checkTrustedUsers(facts.trust, facts.nix, facts.nixConf),
    checkKvm(facts.kvm, facts),
    checkDisk(facts.disk),
    checkTailscale(facts.tailscale, facts.os),
    checkTailnetAcl(facts.tailscale),
  ];
}

/** One aligned line per check: `ok   nix:      Nix 2.8.0, daemon answering`. */
export function doctorText(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length)) + 1;
  return results.map((result) => {
    const advice = result.fix !== undefined
      ? `; fix: ${result.fix}`
      : result.verify !== undefined
      ? `; verify: ${result.verify}`
      : "";
    return `${result.status.padEnd(4)} ${`${result.name}:`.padEnd(width)} ${result.message}${advice}`;
  }).join("\n") + "\n";
}

/** The worst outcome; a skip says nothing about the machine. */
export function overallStatus(results: readonly CheckResult[]): "ok" | "warn" | "fail" {
  if (results.some((result) => result.status === "fail")) return "fail";
  return results.some((result) => result.status === "warn") ? "warn" : "ok";
}

/** The versioned shape of `dnb doctor --json` (documented in README-doctor.md). */
export function doctorReport(results: readonly CheckResult[]) {
  return { version: 1, status: overallStatus(results), checks: results };
}

const trustedUsersSchema = z.object({ "trusted-users": z.object({ value: z.array(z.string()) }) });

/** `trusted-users` from `nix show-config --json` (or `nix config show --json`). */
export function parseTrustedUsers(json: string): readonly string[] | undefined {
  try {
    const parsed = trustedUsersSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data["trusted-users"].value : undefined;
  } catch {
    return undefined;
  }
}
