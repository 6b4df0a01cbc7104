/** The dry run's steps for a builder: describe and publish itself, wait to be claimed, clean up. */
import type { Config } from "../config/config.ts";
import type { MachineFacts } from "../core/facts.ts";
import { NIX_BUILDS_DIR } from "../nix/build_dir.ts";
import { KVM_DEVICE, KVM_RULE, KVM_RULES_FILE, UDEV_APPLY } from "../nix/features.ts";
import { tailscaledPaths, tailscaleLogoutArgv } from "../tailnet/args.ts";
import { tailscaleBin } from "./plan_join.ts";
import { type PlannedFile, type PlanStep, step } from "./plan_step.ts";

/** info.json with a placeholder for every value the builder measures when it starts. */
function infoTemplate(config: Config, facts: MachineFacts) {
  return {
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
}

function describeStep(config: Config): PlanStep {
  const kvmRule: PlannedFile = {
    path: KVM_RULES_FILE,
    mode: "0644",
    change: "create, removed when the builder exits",
    content: KVM_RULE,
  };
  return step("Describe this builder", {
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
  });
}

export function builderSteps(config: Config, facts: MachineFacts): PlanStep[] {
  return [
    describeStep(config),
    step("Publish what this builder offers", {
      files: [{
        path: `${config.stateDir}/info.json`,
        mode: "0644",
        change: "create",
        content: JSON.stringify(infoTemplate(config, facts), null, 2) + "\n",
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
        tailscaleLogoutArgv(tailscaleBin(config, facts), tailscaledPaths(config.stateDir).socket),
        ...(config.enableKvm ? UDEV_APPLY : []),
      ],
    }),
  ];
}
