/** `dnb doctor`'s checks of the machine itself: root, /dev/kvm and free space for /nix. */
import { GIB, gib } from "../core/units.ts";
import { KVM_RULE_BY_HAND } from "../nix/features.ts";
import type { CheckResult, DiskFacts, DoctorFacts, KvmFacts, Privilege } from "./doctor_facts.ts";

/**
 * Builds unpack sources and write outputs under /nix; a GitHub runner starts with about 14-20 GB
 * free. Below 5 GiB a toolchain closure plus a build folder can fill it; below 1 GiB even
 * substituting one fails, so that is a failure rather than a warning.
 */
const DISK_WARN_BYTES = 5 * GIB;
const DISK_FAIL_BYTES = 1 * GIB;

/** The rule --enable-kvm writes, by hand: it opens /dev/kvm to every user, Nix's build users included. */
const KVM_UDEV_FIX = `on a builder, --enable-kvm; by hand: ${KVM_RULE_BY_HAND}`;

export function checkRoot(privilege: Privilege): CheckResult {
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

export function checkKvm(kvm: KvmFacts, facts: Pick<DoctorFacts, "os" | "nix">): CheckResult {
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

export function checkDisk(disk: DiskFacts): CheckResult {
  const where = disk.path === "/nix" ? "/nix" : `${disk.path} (where /nix would go)`;
  if (disk.availableBytes === undefined) {
    return {
      name: "disk",
      status: "warn",
      message: `free space on ${where} unknown: ${disk.problem ?? "df printed nothing"}`,
      fix: `check df -Pk ${disk.path}`,
    };
  }
  const free = `${gib(disk.availableBytes)} GiB free on ${where}`;
  const fix = "free space: nix-collect-garbage -d; on GitHub keep the action's free_disk_space input on (default)";
  if (disk.availableBytes < DISK_FAIL_BYTES) {
    return { name: "disk", status: "fail", message: `${free}, below ${gib(DISK_FAIL_BYTES)} GiB`, fix };
  }
  if (disk.availableBytes < DISK_WARN_BYTES) {
    return { name: "disk", status: "warn", message: `${free}, below ${gib(DISK_WARN_BYTES)} GiB`, fix };
  }
  return { name: "disk", status: "ok", message: free };
}
