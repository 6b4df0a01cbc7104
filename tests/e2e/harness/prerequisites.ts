/**
 * Farm tests need root, network namespaces, OpenSSH and Nix. Off CI a missing prerequisite skips
 * them with the reason; under CI (CI=true) it fails them, so a broken set-up never passes silently.
 */
const PROGRAMS = [
  "ip",
  "unshare",
  "nsenter",
  "mount",
  "umount",
  "ssh",
  "ssh-keygen",
  "sshd",
  "nix-build",
  "nix-store",
  "nix-daemon",
  "setpriv",
  "losetup",
  "mkfs.ext4",
];
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

function onPath(program: string): boolean {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), ...SBIN];
  return dirs.some((dir) => {
    try {
      return Deno.statSync(`${dir}/${program}`).isFile;
    } catch {
      return false;
    }
  });
}

/** The Debian packages that provide the programs above. */
export const FARM_PACKAGES = ["nix-bin", "openssh-server", "openssh-client", "iproute2", "util-linux", "e2fsprogs"];

export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (Deno.build.os !== "linux") return ["Linux"];
  if (Deno.uid() !== 0) missing.push("root");
  for (const program of PROGRAMS) if (!onPath(program)) missing.push(program);
  if (missing.length === 0) {
    const probe = new Deno.Command("ip", { args: ["netns", "list"], stdout: "null", stderr: "null" }).outputSync();
    if (!probe.success) missing.push("a working `ip netns`");
  }
  return missing;
}

export const MISSING = missingPrerequisites();
const UNDER_CI = Deno.env.get("CI") === "true";

if (MISSING.length > 0 && !UNDER_CI) {
  console.warn(
    `farm tests skipped: missing ${MISSING.join(", ")} (run as root on Debian/Ubuntu after ` +
      `apt-get install ${FARM_PACKAGES.join(" ")})`,
  );
}

/** A farm test: runs when the machine can host a farm; under CI a missing prerequisite is a failure. */
export function farmTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore: MISSING.length > 0 && !UNDER_CI,
    // Farms start long-lived processes (sshd, daemons) that outlive single steps by design.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: MISSING.length > 0
      ? () => Promise.reject(new Error(`farm prerequisites missing under CI: ${MISSING.join(", ")}`))
      : fn,
  });
}
