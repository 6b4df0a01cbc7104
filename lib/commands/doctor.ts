/**
 * `dnb doctor`: gathers facts about this machine (through the runner and the context, changing
 * nothing) and prints what lib/report/doctor_checks.ts makes of them.
 */
import type { Context } from "../core/context.ts";
import { doctorChecks, doctorReport, doctorText, overallStatus } from "../report/doctor_checks.ts";
import type {
  DiskFacts,
  DoctorFacts,
  KvmFacts,
  NixFacts,
  Privilege,
  TailnetAnswer,
  TailscaleFacts,
  TrustFacts,
} from "../report/doctor_facts.ts";
import { parseTrustedUsers } from "../report/doctor_nix.ts";
import { EXIT_FAILURE, EXIT_OK } from "../core/errors.ts";
import { type CommandResult, failureLine, succeeded } from "../core/exec.ts";
import type { MachineFacts } from "../core/facts.ts";
import { nixConfIncludes } from "../nix/conf.ts";
import { queryStore } from "../nix/daemon.ts";
import { parseNixVersion, readNixConfigJson } from "../nix/probe.ts";
import { AUTH_KEY_ENV, envTwin } from "../config/options.ts";
import { parseStatus } from "../tailnet/status.ts";
import { dnbSession, type TailnetSession } from "../tailnet/session.ts";
import { checkStateDir } from "../core/state_dir.ts";
import { tailscaleStatusArgv } from "../tailnet/args.ts";

import { KVM_DEVICE, kvmOpenArgv } from "../nix/features.ts";
import { readFree } from "../core/disk.ts";

export interface DoctorOptions {
  readonly stateDir: string;
  /** Checked in trusted-users besides root, when given. */
  readonly sshUser?: string;
  readonly json: boolean;
}

async function privilege(ctx: Context): Promise<Privilege> {
  const id = await ctx.runner.run({ argv: ["id", "-u"], timeoutMs: 5_000 });
  if (succeeded(id) && id.stdout.trim() === "0") return "root";
  // -n: never prompt; a sudo that wants a password fails at once.
  const sudo = await ctx.runner.run({ argv: ["sudo", "-n", "true"], timeoutMs: 10_000 });
  return succeeded(sudo) ? "passwordless-sudo" : "none";
}

async function nixFacts(ctx: Context, machine: MachineFacts): Promise<{ nix: NixFacts; configJson?: string }> {
  const path = machine.programs.nix;
  if (path === undefined) return { nix: { daemon: { state: "none" } } };
  const [version, ping, configJson] = await Promise.all([
    ctx.runner.run({ argv: [path, "--version"], timeoutMs: 10_000 }),
    machine.nixDaemonSocket
      ? queryStore(ctx.runner, { storeUri: "daemon", nix: path, timeoutMs: 15_000 })
      : Promise.resolve(undefined),
    readNixConfigJson(ctx, path),
  ]);
  let parsedVersion: string | undefined;
  let versionProblem: string | undefined;
  try {
    if (!succeeded(version)) throw new Error(failureLine(version));
    parsedVersion = parseNixVersion(version.stdout);
  } catch (error) {
    versionProblem = (error as Error).message;
  }
  return { nix: { path, version: parsedVersion, versionProblem, daemon: daemonState(ping) }, configJson };
}

/** The daemon from its answer to a store query; no query: no socket. */
function daemonState(ping: CommandResult | undefined): NixFacts["daemon"] {
  if (ping === undefined) return { state: "none" };
  return succeeded(ping) ? { state: "answers" } : { state: "silent", problem: failureLine(ping) };
}

async function trustFacts(ctx: Context, configJson: string | undefined, sshUser?: string): Promise<TrustFacts> {
  const names = sshUser === undefined || sshUser === "root" ? ["root"] : ["root", sshUser];
  const trustedUsers = configJson === undefined ? undefined : parseTrustedUsers(configJson);
  if (trustedUsers === undefined) {
    return {
      problem: configJson === undefined ? "show-config failed" : "no trusted-users in its output",
      users: names.map((name) => ({ name, groups: [] })),
    };
  }
  // Groups matter only for `@group` entries; `id` is asked only then.
  const needGroups = trustedUsers.some((entry) => entry.startsWith("@"));
  const users = await Promise.all(names.map(async (name) => {
    if (!needGroups) return { name, groups: [] };
    const groups = await ctx.runner.run({ argv: ["id", "-nG", name], timeoutMs: 5_000 });
    return { name, groups: succeeded(groups) ? groups.stdout.trim().split(/\s+/) : [] };
  }));
  return { trustedUsers, users };
}

async function kvmFacts(ctx: Context): Promise<KvmFacts> {
  if (ctx.platform.os !== "linux" || !ctx.files.exists(KVM_DEVICE)) return { exists: false };
  const [open, stat] = await Promise.all([
    // As this user (root): builds as Nix's build users need the device open to others, judged from its mode.
    ctx.runner.run({ argv: kvmOpenArgv({ kind: "self" }), timeoutMs: 5_000 }),
    ctx.runner.run({ argv: ["stat", "-L", "-c", "%a", KVM_DEVICE], timeoutMs: 5_000 }),
  ]);
  const mode = succeeded(stat) && /^[0-7]+$/.test(stat.stdout.trim()) ? parseInt(stat.stdout.trim(), 8) : undefined;
  return { exists: true, openProblem: succeeded(open) ? undefined : failureLine(open), mode };
}

async function diskFacts(ctx: Context): Promise<DiskFacts> {
  const path = ctx.files.exists("/nix") ? "/nix" : "/";
  const free = await readFree(ctx, path);
  return free.bytes === undefined ? { path, problem: free.problem } : { path, availableBytes: free.bytes };
}

function sessionOf(ctx: Context, stateDir: string): TailnetSession | undefined {
  if (!checkStateDir(ctx, stateDir)) return undefined;
  try {
    return dnbSession(ctx, stateDir);
  } catch {
    // An unreadable session, or one naming a tailscale dnb would not run, is no session: the
    // system tailscaled is checked instead.
    return undefined;
  }
}

async function tailscaleFacts(ctx: Context, machine: MachineFacts, stateDir: string): Promise<TailscaleFacts> {
  const session = sessionOf(ctx, stateDir);
  const via: TailscaleFacts["via"] = session === undefined
    ? { kind: "system" }
    : { kind: "dnb", stateDir, socket: session.socket };
  const keyFileVariable = envTwin("--authkey-file");
  const authKeySource = AUTH_KEY_ENV.find((name) => (ctx.env[name] ?? "") !== "") ??
    ((ctx.env[keyFileVariable] ?? "") !== "" ? keyFileVariable : undefined);
  const bin = session?.bin ?? machine.programs.tailscale;
  if (bin === undefined) return { via, answer: { kind: "not-installed" }, authKeySource };
  const result = await ctx.runner.run({ argv: tailscaleStatusArgv(bin, session?.socket), timeoutMs: 15_000 });
  let answer: TailnetAnswer;
  if (!succeeded(result)) {
    answer = { kind: "no-answer", problem: failureLine(result) };
  } else {
    try {
      const status = parseStatus(result.stdout);
      answer = { kind: "status", backendState: status.backendState, self: status.self };
    } catch (error) {
      answer = { kind: "no-answer", problem: (error as Error).message };
    }
  }
  return { via, answer, authKeySource };
}

async function gatherDoctorFacts(options: DoctorOptions, ctx: Context): Promise<DoctorFacts> {
  const machine = ctx.gatherFacts();
  const [root, nix, kvm, disk, tailscale] = await Promise.all([
    privilege(ctx),
    nixFacts(ctx, machine),
    kvmFacts(ctx),
    diskFacts(ctx),
    tailscaleFacts(ctx, machine, options.stateDir),
  ]);
  return {
    os: ctx.platform.os,
    determinateLaunchd: machine.determinateLaunchd,
    privilege: root,
    nix: nix.nix,
    nixConf: {
      nixConf: machine.nixConf,
      nixCustomConf: machine.nixCustomConf,
      includes: nixConfIncludes(machine.nixConf ?? "").map((include) => ({
        ...include,
        exists: ctx.files.exists(include.path),
      })),
    },
    trust: nix.nix.path === undefined ? { users: [] } : await trustFacts(ctx, nix.configJson, options.sshUser),
    kvm,
    disk,
    tailscale,
  };
}

/**
 * `dnb doctor [--json]`: one line per check; exit 1 when any check fails, 0 otherwise (warnings
 * allowed), or when the state folder is refused (then nothing is checked).
 */
export async function runDoctor(options: DoctorOptions, ctx: Context): Promise<number> {
  // A state folder another user could have planted is refused before anything runs.
  checkStateDir(ctx, options.stateDir);
  const results = doctorChecks(await gatherDoctorFacts(options, ctx));
  ctx.out(options.json ? JSON.stringify(doctorReport(results), null, 2) + "\n" : doctorText(results));
  return overallStatus(results) === "fail" ? EXIT_FAILURE : EXIT_OK;
}
