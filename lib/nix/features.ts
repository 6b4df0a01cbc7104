/**
 * Which system features a builder may honestly advertise, and the udev rule of --enable-kvm.
 * Pure: argv lists and text; lib/builder_setup.ts runs them.
 */

export const KVM_DEVICE = "/dev/kvm";
export const KVM_RULES_FILE = "/etc/udev/rules.d/99-dnb-kvm.rules";

/**
 * GitHub's Linux runners have /dev/kvm as root:kvm 0660, and Nix's build users are not in the kvm
 * group (runner-images#8542); this rule, the one workflows commonly use there, opens it to all users.
 */
const KVM_RULE_LINE = 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"';
export const KVM_RULE = [
  "# Written by dnb --enable-kvm so Nix's build users can open /dev/kvm; removed when the builder exits.",
  KVM_RULE_LINE,
  "",
].join("\n");

/** The same rule set up by hand, for a machine where dnb does not run as a builder (doctor's fix). */
export const KVM_RULE_BY_HAND = `echo '${KVM_RULE_LINE}' | sudo tee ${KVM_RULES_FILE} && ` +
  "sudo udevadm control --reload-rules && sudo udevadm trigger --name-match=kvm";

/** Rereads the rules and applies them to /dev/kvm now; settle waits until udev has done so. */
export const UDEV_APPLY: readonly (readonly string[])[] = [
  ["udevadm", "control", "--reload-rules"],
  ["udevadm", "trigger", "--name-match=kvm"],
  ["udevadm", "settle", "--timeout=10"],
];

/** Features that need a KVM device the builds can open (nixpkgs' NixOS tests run QEMU with KVM). */
const NEEDS_KVM = new Set(["kvm", "nixos-test"]);

/**
 * Nix's own system-features, less kvm and nixos-test on Linux when the build users cannot open
 * /dev/kvm: Nix decides kvm with access() as the user it runs as (root), not as the build users.
 * Nothing is ever added: big-parallel and the rest appear only where Nix reports them. Other
 * kernels keep Nix's list (macOS routes NixOS tests through apple-virt, not /dev/kvm).
 */
export function honestFeatures(nixFeatures: readonly string[], os: string, kvmUsable: boolean): string[] {
  if (os !== "linux" || kvmUsable) return [...nixFeatures];
  return nixFeatures.filter((feature) => !NEEDS_KVM.has(feature));
}

/** Who Nix runs builds as, for the /dev/kvm test. */
export type BuildIdentity =
  /** build-users-group is empty: builds run as the Nix process's user (root for dnb's builders). */
  | { readonly kind: "self" }
  /** A member of the group: its uid, the group as gid, and its supplementary groups, as Nix sets them. */
  | { readonly kind: "user"; readonly user: string; readonly group: string }
  /** Nobody is listed (auto-allocated uids): an unprivileged uid with only the group. */
  | { readonly kind: "group"; readonly group: string };

const UNPRIVILEGED_UID = "65534";

/** Finds a build user of `group` in /etc/group's member list, else by primary group in /etc/passwd. */
export function buildIdentity(group: string, etcGroup: string, etcPasswd: string): BuildIdentity {
  if (group === "") return { kind: "self" };
  const entry = etcGroup.split("\n").map((line) => line.split(":")).find((fields) => fields[0] === group);
  const member = entry?.[3]?.split(",").map((name) => name.trim()).find((name) => name !== "");
  if (member !== undefined) return { kind: "user", user: member, group };
  const gid = entry?.[2];
  const byPrimaryGroup = gid === undefined
    ? undefined
    : etcPasswd.split("\n").map((line) => line.split(":")).find((fields) => fields.length > 3 && fields[3] === gid);
  return byPrimaryGroup?.[0] ? { kind: "user", user: byPrimaryGroup[0], group } : { kind: "group", group };
}

/**
 * A fixed script, the device its argument: opening read-write is the test (a redirection failure
 * makes `exec` exit non-zero). `<>` would create a missing file, so only a character device is opened.
 */
const OPEN_READ_WRITE = '[ -c "$1" ] && exec 3<>"$1"';

/** Opens /dev/kvm read-write as the builds' user would; exit 0 means builds can use KVM. */
export function kvmOpenArgv(identity: BuildIdentity): string[] {
  const open = ["sh", "-c", OPEN_READ_WRITE, "sh", KVM_DEVICE];
  switch (identity.kind) {
    case "self":
      return open;
    case "user":
      return ["setpriv", "--reuid", identity.user, "--regid", identity.group, "--init-groups", "--", ...open];
    case "group":
      return ["setpriv", "--reuid", UNPRIVILEGED_UID, "--regid", identity.group, "--clear-groups", "--", ...open];
  }
}

export function describeIdentity(identity: BuildIdentity): string {
  switch (identity.kind) {
    case "self":
      return "root (build-users-group is empty)";
    case "user":
      return `build user ${identity.user} (group ${identity.group})`;
    case "group":
      return `an unlisted build user of group ${identity.group}`;
  }
}
