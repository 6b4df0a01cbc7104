/**
 * `dnb doctor`'s judgement: facts about this machine in, one line per check out. Pure: the facts are
 * gathered by lib/commands/doctor.ts, so every outcome here is unit-tested from plain data.
 */
import { daemonRestartArgv } from "../nix/daemon.ts";
import type { CheckResult, DoctorFacts } from "./doctor_facts.ts";
import { checkDisk, checkKvm, checkRoot } from "./doctor_machine.ts";
import { checkNix, checkNixConf, checkTrustedUsers } from "./doctor_nix.ts";
import { checkTailnetAcl, checkTailscale } from "./doctor_tailscale.ts";

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

/** `; fix: …` for a warn or a fail, `; verify: …` for a skip, else nothing. */
function advice(result: CheckResult): string {
  if (result.fix !== undefined) return `; fix: ${result.fix}`;
  return result.verify !== undefined ? `; verify: ${result.verify}` : "";
}

/** One aligned line per check: `ok   nix:      Nix 2.8.0, daemon answering`. */
export function doctorText(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length)) + 1;
  return results.map((result) =>
    `${result.status.padEnd(4)} ${`${result.name}:`.padEnd(width)} ${result.message}${advice(result)}`
  ).join("\n") + "\n";
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
