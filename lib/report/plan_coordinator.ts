/** The dry run's steps for a coordinator: find and claim builders, point Nix at them, leave a watchdog. */
import type { Config } from "../config/config.ts";
import type { MachineFacts } from "../core/facts.ts";
import { upsertBlock } from "../core/managed_block.ts";
import {
  DNB_NIX_SETTINGS,
  MACHINES_FILE,
  nixConfBlockBody,
  nixConfTarget,
  settingsSetOutsideBlock,
} from "../nix/conf.ts";
import { daemonRestartArgv, storeInfoArgv } from "../nix/daemon.ts";
import { MACHINES_HEADER, machinesLineTemplate } from "../nix/machines_file.ts";
import { claimArgv } from "../protocol/scripts.ts";
import { knownHostsLines } from "../ssh/host_keys.ts";
import { sshConfigLines, sshConfigTarget } from "../ssh/ssh_config.ts";
import { controlPathFor } from "../ssh/master.ts";
import { tailscaledPaths, tailscaleStatusArgv } from "../tailnet/args.ts";
import { tailscaleBin } from "./plan_join.ts";
import { type PlannedFile, type PlanStep, step } from "./plan_step.ts";

/** What the coordinator writes for ssh: its own known_hosts and ssh_config, and the system's ssh_config. */
interface SshPlan {
  readonly knownHosts: string;
  readonly privateSshConfig: string;
  readonly lines: readonly string[];
  readonly systemFile: PlannedFile;
}

function sshPlan(config: Config, facts: MachineFacts, aliases: readonly string[]): SshPlan {
  const knownHosts = `${config.stateDir}/known_hosts`;
  const hosts = aliases.map((alias) => ({
    alias,
    address: `<tailnet IPv4 of ${alias}>`,
    user: config.sshUser,
    identityFile: config.sshKey,
    controlPath: controlPathFor(config, alias),
  }));
  const lines = sshConfigLines(hosts, knownHosts);
  const target = sshConfigTarget(facts.sshConfig);
  const systemFile: PlannedFile = target.kind === "drop-in"
    ? { path: target.path, mode: "0644", change: "create (stop removes it)", content: lines.join("\n") + "\n" }
    : {
      path: target.path,
      mode: "0644",
      change: "add dnb's block at the top (stop removes it)",
      content: upsertBlock(facts.sshConfig ?? "", lines, "start"),
    };
  return { knownHosts, privateSshConfig: `${config.stateDir}/ssh_config`, lines, systemFile };
}

function findStep(config: Config, facts: MachineFacts): PlanStep {
  const discovery = config.builders.length > 0
    ? `wait for ${config.builders.join(", ")} (by HostName or DNS name; a '-1' suffix is reported)`
    : `wait for ${config.expect} online peers named ${config.discoverPrefix}* carrying ${config.builderTag}`;
  return step("Find the builders", {
    notes: [
      discovery,
      `poll every 1 s for up to ${config.waitTimeoutSeconds}s; claim each one as soon as it is online`,
    ],
    commands: [tailscaleStatusArgv(tailscaleBin(config, facts), tailscaledPaths(config.stateDir).socket)],
  });
}

function claimStep(config: Config, aliases: readonly string[], ssh: SshPlan): PlanStep {
  return step("Claim and probe each builder, in parallel", {
    notes: [
      "host keys pinned from the tailnet (sshHostKeys), or ssh-keyscan over the tailnet with --ssh-key",
      "one ssh round trip writes claim, renews lease and returns info.json; data goes over stdin",
      ...(config.sshMaster === "auto"
        ? [
          "before that, an ssh master per builder (ssh -M -N, detached) that the claim, the store check and " +
          "Nix's sessions ride, where the Nix here can (not Nix 2.15 or Determinate Nix); stop ends it",
        ]
        : []),
      `up to ${config.probeConcurrency} at once, each as soon as its builder is online`,
      `then each is checked as a Nix store over ssh-ng (NIX_SSHOPTS=-F ${ssh.privateSshConfig}); one that fails is refused`,
      "(`nix store info`; `nix store ping` where the local Nix predates 2.19)",
      `go ahead with at least ${config.minBuilders} of them at the wait timeout (--min-builders), else exit 1`,
    ],
    commands: aliases.flatMap((alias) => [
      claimArgv(ssh.privateSshConfig, alias),
      storeInfoArgv(`ssh-ng://${config.sshUser}@${alias}?remote-program=<nix-daemon-path>`),
    ]),
    files: [
      {
        path: ssh.knownHosts,
        mode: "0644",
        change: "create",
        content: aliases.flatMap((alias) => knownHostsLines(alias, ["<host key from the tailnet>"])).join("\n") + "\n",
      },
      { path: ssh.privateSshConfig, mode: "0644", change: "create", content: ssh.lines.join("\n") + "\n" },
    ],
  });
}

function configureNixStep(config: Config, facts: MachineFacts, aliases: readonly string[], ssh: SshPlan): PlanStep {
  const nixConfPath = nixConfTarget(facts.nixConf);
  const nixConfText = (nixConfPath.endsWith("nix.custom.conf") ? facts.nixCustomConf : facts.nixConf) ?? "";
  const overridden = settingsSetOutsideBlock(nixConfText, DNB_NIX_SETTINGS);
  const restart = facts.nixDaemonSocket ? daemonRestartArgv(facts.os, facts.determinateLaunchd) : undefined;
  const machines = aliases.map((alias) =>
    machinesLineTemplate(config.sshUser, alias, config.sshKey, config.jobsPerCore)
  );
  return step("Configure Nix", {
    notes: [
      facts.machinesFileExists
        ? `${MACHINES_FILE} exists: kept as a backup in ${config.stateDir}/backup/ and restored by stop`
        : `${MACHINES_FILE} does not exist: stop removes it`,
      ...overridden.map((name) => `${nixConfPath} sets ${name} outside dnb's block; dnb's later line wins`),
      restart
        ? "nix.conf's block and the daemon's restart (so it rereads nix.conf) happen while builders are awaited, " +
          "with an empty machines file; the claimed builders go in it at the end, and Nix reads it for every build"
        : "no Nix daemon socket: single-user Nix, no restart needed",
    ],
    files: [
      {
        path: MACHINES_FILE,
        mode: "0644",
        change: facts.machinesFileExists ? "replace" : "create",
        content: [MACHINES_HEADER, ...machines].join("\n") + "\n",
      },
      {
        path: nixConfPath,
        mode: "0644",
        change: "add or replace dnb's block at the end (stop removes it)",
        content: upsertBlock(nixConfText, nixConfBlockBody(config.extraNixConfig), "end"),
      },
      ssh.systemFile,
    ],
    commands: restart ? [restart] : [],
  });
}

export function coordinatorSteps(config: Config, facts: MachineFacts): PlanStep[] {
  // Found by prefix, builders are shown under an example name: the files' grammar admits no placeholder.
  const aliases = config.builders.length > 0 ? config.builders : [`${config.discoverPrefix}1`.slice(0, 63)];
  const ssh = sshPlan(config, facts, aliases);
  return [
    findStep(config, facts),
    claimStep(config, aliases, ssh),
    configureNixStep(config, facts, aliases, ssh),
    step("Leave a watchdog behind and exit", {
      notes: [
        `renews every builder's lease every ${
          Math.max(1, Math.floor(config.leaseSeconds / 4))
        }s, drops lost builders, claims late ones`,
        "`dnb stop` (or stop-nix-builders) signals builders done and restores every file above",
      ],
    }),
  ];
}
