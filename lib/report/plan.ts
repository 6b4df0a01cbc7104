import type { Config } from "../config/config.ts";
import type { MachineFacts, Program } from "../core/facts.ts";
import { NIX_BUILDS_DIR } from "../nix/build_dir.ts";
import { KVM_DEVICE, KVM_RULE, KVM_RULES_FILE, UDEV_APPLY } from "../nix/features.ts";
import { knownHostsLines } from "../ssh/host_keys.ts";
import { MACHINES_HEADER, machinesLineTemplate } from "../nix/machines_file.ts";
import { upsertBlock } from "../core/managed_block.ts";
import { MACHINES_FILE, nixConfBlockBody, nixConfTarget, settingsSetOutsideBlock } from "../nix/conf.ts";
import { daemonRestartArgv, storeInfoArgv } from "../nix/daemon.ts";
import { claimArgv } from "../protocol/scripts.ts";
import { sshConfigLines, sshConfigTarget } from "../ssh/ssh_config.ts";
import {
  tailscaledArgv,
  tailscaledPaths,
  tailscaleLogoutArgv,
  tailscaleStatusArgv,
  tailscaleUpArgv,
  upCredential,
} from "../tailnet/args.ts";

export interface PlannedFile {
  readonly path: string;
  readonly mode: string;
  /** What happens to the file, e.g. "create", "replace dnb's block". */
  readonly change: string;
  readonly content: string;
}

export interface PlanStep {
  readonly title: string;
  readonly notes: readonly string[];
  readonly commands: readonly (readonly string[])[];
  readonly files: readonly PlannedFile[];
}

export interface Plan {
  readonly headline: string;
  readonly steps: readonly PlanStep[];
  /** What is missing on this machine and what dnb would do about it. */
  readonly missing: readonly string[];
}

function step(title: string, parts: Partial<Omit<PlanStep, "title">>): PlanStep {
  return { title, notes: parts.notes ?? [], commands: parts.commands ?? [], files: parts.files ?? [] };
}

/** Shown where a secret would be. */
export const MASK = "***";

function missingPrograms(config: Config, facts: MachineFacts): string[] {
  const missing: string[] = [];
  if (facts.programs.nix === undefined) {
    missing.push(
      config.installNix === "auto"
        ? "nix: not found; dnb would install Nix (--install-nix auto)"
        : "nix: not found and --install-nix is never: the run would stop here",
    );
  }
  if (config.tailscaleBin === undefined && facts.programs.tailscale === undefined) {
    missing.push(
      config.tailscale === "existing"
        ? "tailscale: not found and --tailscale is existing: the run would stop here"
        : "tailscale: not found; dnb would install a pinned, checksum-verified Tailscale",
    );
  }
  if (config.role === "coordinator" && facts.programs.ssh === undefined) {
    missing.push("ssh: not found; install OpenSSH's client (the Nix daemon reaches builders with it)");
  }
  return missing;
}

function joinStep(config: Config, facts: MachineFacts): PlanStep {
  const bin = config.tailscaleBin ?? facts.programs.tailscale ?? "tailscale";
  const daemonBin = facts.programs.tailscaled ?? "tailscaled";
  const paths = tailscaledPaths(config.stateDir);
  const federated = config.authKey === undefined ? config.federated : undefined;
  const { credential, file: keyFile } = upCredential(config);
  const notes: string[] = [];
  if (config.tailscale === "existing") {
    notes.push("reuse the running, logged-in tailscaled; never log it out (it is not dnb's)");
    return step("Join the tailnet", { notes, commands: [tailscaleStatusArgv(bin)] });
  }
  if (config.tailscale === "auto") {
    notes.push(
      facts.systemTailscaled
        ? "a system tailscaled socket exists: reuse it if it is logged in (and then never log it out); else:"
        : "no system tailscaled found: start one for this run",
    );
  }
  notes.push(
    config.authKey
      ? `auth key: ${MASK} from ${config.authKey.source}` +
        (config.authKey.kind === "oauth-client-secret"
          ? " (OAuth client secret; ?ephemeral=true&preauthorized=true added)"
          : "")
      : federated
      ? `keyless: workload identity federation as ${federated.clientId}, with this job's OIDC token for ${federated.audience}`
      : "no credentials: unless a logged-in tailscaled is reused, a builder exits 0 and a coordinator leaves Nix " +
        "building locally (--require-builders: exit 1); set TS_AUTHKEY, --authkey-file or --oauth-client-id",
    `tailscale up gets the ${
      federated ? "OIDC token" : "key"
    } as file:${keyFile} (mode 0600), deleted as soon as up returns`,
    `deadline ${config.joinTimeoutSeconds}s, transient failures retried with backoff`,
  );
  return step("Join the tailnet", {
    notes,
    commands: [
      tailscaledArgv(daemonBin, config.stateDir),
      tailscaleUpArgv({
        bin,
        socket: paths.socket,
        credential,
        hostname: config.hostname,
        tags: config.tags,
        ssh: config.role === "builder",
        acceptRoutes: config.acceptRoutes,
        extraArgs: config.tailscaleUpArgs,
        timeoutSeconds: config.joinTimeoutSeconds,
      }),
    ],
    files: [{ path: keyFile, mode: "0600", change: "create, then delete after `tailscale up`", content: MASK }],
  });
}

function builderSteps(config: Config, facts: MachineFacts): PlanStep[] {
  const bin = config.tailscaleBin ?? facts.programs.tailscale ?? "tailscale";
  const info = {
    version: 1,
    hostname: config.hostname,
    system: "<nix show-config: system>",
    systems: ["<system>", "<extra-platforms>…"],
    features: ["<nix show-config: system-features>…"],
    cores: "<cores>",
    memoryBytes: "<memory>",
    nixVersion: "<nix --version>",
    nixDaemon: "<absolute path of nix-daemon>",
    os: facts.os,
    arch: facts.arch,
    startedAt: "<time>",
    disk: { buildDir: "<build-dir>", buildDirFreeBytes: "<df>", storeFreeBytes: "<df /nix/store>" },
  };
  const kvmRule: PlannedFile = {
    path: KVM_RULES_FILE,
    mode: "0644",
    change: "create, removed when the builder exits",
    content: KVM_RULE,
  };
  return [
    step("Describe this builder", {
      notes: [
        ...(config.enableKvm
          ? [`--enable-kvm: on Linux with ${KVM_DEVICE}, write the udev rule below and apply it`]
          : []),
        `features: Nix's own system-features; on Linux kvm and nixos-test only if ${KVM_DEVICE} opens read-write ` +
        "as a build user (setpriv … sh -c 'exec 3<>/dev/kvm')",
        "build dir: on Linux with Nix 2.22 or later and no build-dir of the user's, `build-dir = <dir>` in a " +
        "marked block of nix.conf, on the local file system with the most free space (df -PkT): " +
        `${NIX_BUILDS_DIR} on the store's, else <mount point>/dnb-build; put back when the builder exits`,
      ],
      commands: config.enableKvm ? UDEV_APPLY : [],
      files: config.enableKvm ? [kvmRule] : [],
    }),
    step("Publish what this builder offers", {
      files: [{
        path: `${config.stateDir}/info.json`,
        mode: "0644",
        change: "create",
        content: JSON.stringify(info, null, 2) + "\n",
      }],
    }),
    step("Wait to be claimed", {
      notes: [
        `unclaimed after ${config.builderTimeoutSeconds}s: exit 1`,
        `claimed: exit 0 when ${config.stateDir}/done appears; exit 1 ("coordinator lost") when ${config.stateDir}/lease is older than ${config.leaseSeconds}s`,
        "a status line every 60 s (CPU, memory, free space in /nix and the build dir)",
      ],
    }),
    step("Leave the tailnet and put back every file (on every exit path, signals included)", {
      commands: [
        tailscaleLogoutArgv(bin, tailscaledPaths(config.stateDir).socket),
        ...(config.enableKvm ? UDEV_APPLY : []),
      ],
    }),
  ];
}

function coordinatorSteps(config: Config, facts: MachineFacts): PlanStep[] {
  const bin = config.tailscaleBin ?? facts.programs.tailscale ?? "tailscale";
  const aliases = config.builders.length > 0 ? config.builders : ["<builder>"];
  const knownHosts = `${config.stateDir}/known_hosts`;
  const privateSshConfig = `${config.stateDir}/ssh_config`;
  const hosts = aliases.map((alias) => ({
    alias,
    address: `<tailnet IPv4 of ${alias}>`,
    user: config.sshUser,
    identityFile: config.sshKey,
  }));
  const sshLines = sshConfigLines(hosts, knownHosts);
  const sshTarget = sshConfigTarget(facts.sshConfig);
  const sshFile: PlannedFile = sshTarget.kind === "drop-in"
    ? { path: sshTarget.path, mode: "0644", change: "create (stop removes it)", content: sshLines.join("\n") + "\n" }
    : {
      path: sshTarget.path,
      mode: "0644",
      change: "add dnb's block at the top (stop removes it)",
      content: upsertBlock(facts.sshConfig ?? "", sshLines, "start"),
    };

  const nixConfPath = nixConfTarget(facts.nixConf);
  const nixConfText = (nixConfPath.endsWith("nix.custom.conf") ? facts.nixCustomConf : facts.nixConf) ?? "";
  const overridden = settingsSetOutsideBlock(nixConfText, ["builders", "builders-use-substitutes"]);
  const restart = facts.nixDaemonSocket ? daemonRestartArgv(facts.os, facts.determinateLaunchd) : undefined;

  const discovery = config.builders.length > 0
    ? `wait for ${config.builders.join(", ")} (by HostName or DNS name; a '-1' suffix is reported)`
    : `wait for ${config.expect} online peers named ${config.discoverPrefix}* carrying ${config.builderTag}`;

  return [
    step("Find the builders", {
      notes: [
        discovery,
        `poll every 1 s for up to ${config.waitTimeoutSeconds}s; claim each one as soon as it is online`,
      ],
      commands: [tailscaleStatusArgv(bin, tailscaledPaths(config.stateDir).socket)],
    }),
    step("Claim and probe each builder, in parallel", {
      notes: [
        "host keys pinned from the tailnet (sshHostKeys), or ssh-keyscan over the tailnet with --ssh-key",
        "one ssh round trip writes claim, renews lease and returns info.json; data goes over stdin",
        `up to ${config.probeConcurrency} at once, each as soon as its builder is online`,
        `then each is checked as a Nix store over ssh-ng (NIX_SSHOPTS=-F ${privateSshConfig}); one that fails is refused`,
        "(`nix store info`; `nix store ping` where the local Nix predates 2.19)",
        `go ahead with at least ${config.minBuilders} of them at the wait timeout (--min-builders), else exit 1`,
      ],
      commands: aliases.flatMap((alias) => [
        claimArgv(privateSshConfig, alias),
        storeInfoArgv(`ssh-ng://${config.sshUser}@${alias}?remote-program=<nix-daemon-path>`),
      ]),
      files: [
        {
          path: knownHosts,
          mode: "0644",
          change: "create",
          content: aliases.flatMap((alias) => knownHostsLines(alias, ["<host key from the tailnet>"])).join("\n") +
            "\n",
        },
        { path: privateSshConfig, mode: "0644", change: "create", content: sshLines.join("\n") + "\n" },
      ],
    }),
    step("Configure Nix", {
      notes: [
        facts.machinesFileExists
          ? `${MACHINES_FILE} exists: kept as a backup in ${config.stateDir}/backup/ and restored by stop`
          : `${MACHINES_FILE} does not exist: stop removes it`,
        ...overridden.map((name) => `${nixConfPath} sets ${name} outside dnb's block; dnb's later line wins`),
        restart
          ? "then restart the Nix daemon so it rereads nix.conf"
          : "no Nix daemon socket: single-user Nix, no restart needed",
      ],
      files: [
        {
          path: MACHINES_FILE,
          mode: "0644",
          change: facts.machinesFileExists ? "replace" : "create",
          content: [
            MACHINES_HEADER,
            ...aliases.map((alias) => machinesLineTemplate(config.sshUser, alias, config.sshKey, config.jobsPerCore)),
          ]
            .join("\n") + "\n",
        },
        {
          path: nixConfPath,
          mode: "0644",
          change: "add or replace dnb's block at the end (stop removes it)",
          content: upsertBlock(nixConfText, nixConfBlockBody(config.extraNixConfig), "end"),
        },
        sshFile,
      ],
      commands: [
        ...(restart ? [restart] : []),
      ],
    }),
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

function programsNeeded(role: Config["role"]): Program[] {
  return role === "coordinator" ? ["nix", "tailscale", "ssh"] : ["nix", "tailscale"];
}

/** The whole run as steps: commands as argv, files with their new content; secrets appear only as ***. */
export function buildPlan(config: Config, facts: MachineFacts): Plan {
  const missing = missingPrograms(config, facts);
  const preflight = step("Check this machine", {
    notes: [
      `${facts.os}/${facts.arch}; state in ${config.stateDir} (0755, refused if another user owns it or others can write it)`,
      ...programsNeeded(config.role).map((program) => `${program}: ${facts.programs[program] ?? "not found"}`),
    ],
  });
  const roleSteps = config.role === "builder" ? builderSteps(config, facts) : coordinatorSteps(config, facts);
  return {
    headline: `plan for ${config.role} ${config.hostname} with tags ${config.tags.join(",")}`,
    steps: [preflight, joinStep(config, facts), ...roleSteps],
    missing,
  };
}
