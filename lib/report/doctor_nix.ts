/** `dnb doctor`'s Nix checks: Nix and its daemon, where dnb's nix.conf block goes, and trusted-users. */
import { z } from "zod";
import { displayArgv } from "../core/exec.ts";
import { blockBody } from "../core/managed_block.ts";
import { nixConfTarget } from "../nix/conf.ts";
import { NIX_DAEMON_SOCKET } from "../nix/daemon.ts";
import type { CheckResult, NixConfFacts, NixFacts, TrustFacts } from "./doctor_facts.ts";

export function checkNix(nix: NixFacts, restart: string[] | undefined): CheckResult {
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

/** The file dnb's block goes in, and why there. */
function blockTarget(conf: NixConfFacts, target: string): string {
  if (conf.nixConf === undefined) return `${target} (absent; dnb would create it)`;
  return target.endsWith("nix.custom.conf") ? `${target} (nix.conf !includes it)` : target;
}

export function checkNixConf(conf: NixConfFacts): CheckResult {
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
  const targetText = target.endsWith("nix.custom.conf") ? conf.nixCustomConf : conf.nixConf;
  const block = blockBody(targetText ?? "") !== undefined
    ? "; it holds dnb's block now (a coordinator ran here; dnb stop removes it)"
    : "";
  const includes = conf.includes.length === 0
    ? ""
    : `; includes ${
      conf.includes.map((include) => `${include.path}${include.exists ? "" : " (absent, optional)"}`).join(", ")
    }`;
  return {
    name: "nix.conf",
    status: "ok",
    message: `dnb's block goes in ${blockTarget(conf, target)}${includes}${block}`,
  };
}

function isTrusted(entries: readonly string[], user: { name: string; groups: readonly string[] }): boolean {
  return entries.some((entry) =>
    entry === "*" || entry === user.name || (entry.startsWith("@") && user.groups.includes(entry.slice(1)))
  );
}

export function checkTrustedUsers(trust: TrustFacts, nix: NixFacts, conf: NixConfFacts): CheckResult {
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
