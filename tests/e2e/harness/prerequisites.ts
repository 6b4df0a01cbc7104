/**
 * Farm tests need root, network namespaces, OpenSSH and Nix; tests of the real tailnet also need
 * tailscale and headscale, built with Go. Off CI a missing prerequisite skips them with the reason;
 * under CI (CI=true) it fails them, so a broken set-up never passes silently.
 */
import { cachedBinaries, goAvailable } from "./tailnet_binaries.ts";

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
  "openssl",
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
export const FARM_PACKAGES = [
  "nix-bin",
  "openssh-server",
  "openssh-client",
  "iproute2",
  "util-linux",
  "e2fsprogs",
  "openssl",
];

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

/** What the real tailnet lacks here: nothing when its binaries are built or Go can build them. */
export const MISSING_FOR_REAL_TAILNET = [...MISSING, ...(cachedBinaries() || goAvailable() ? [] : ["Go"])];

if (MISSING_FOR_REAL_TAILNET.length > MISSING.length && !UNDER_CI) {
  console.warn("real-tailnet tests skipped: no Go to build tailscale and headscale; other farms use the double");
}

function farmTestWith(missing: readonly string[], name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore: missing.length > 0 && !UNDER_CI,
    // Farms start long-lived processes (sshd, daemons) that outlive single steps by design.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: missing.length > 0
      ? () => Promise.reject(new Error(`farm prerequisites missing under CI: ${missing.join(", ")}`))
      : fn,
  });
}

/** A farm test: runs when the machine can host a farm, on whichever tailnet the farm gets. */
export function farmTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  farmTestWith(MISSING, name, fn);
}

/** A test of the real tailnet (Headscale, tailscaled, Tailscale SSH): its farms must get it. */
export function realTailnetTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  farmTestWith(MISSING_FOR_REAL_TAILNET, name, fn);
}
