/**
 * /dev/kvm for Nix's build users: the one test of whether builds can open it (as the user Nix
 * builds as), and --enable-kvm's udev rule that opens it, applied at once and undone on the way out.
 */
import type { Context } from "../core/context.ts";
import { COMMAND_NOT_FOUND, failureLine, succeeded } from "../core/exec.ts";
import { say, warn } from "../core/log.ts";
import { writeSystemFile } from "../core/system_files.ts";
import {
  buildIdentity,
  describeIdentity,
  KVM_DEVICE,
  KVM_RULE,
  KVM_RULES_FILE,
  kvmOpenArgv,
  UDEV_APPLY,
} from "../nix/features.ts";

export async function applyUdevRules(ctx: Context): Promise<string | undefined> {
  for (const argv of UDEV_APPLY) {
    const result = await ctx.runner.run({ argv, timeoutMs: 30_000 });
    if (!succeeded(result)) return `${argv.join(" ")} failed: ${failureLine(result)}`;
  }
  return undefined;
}

/**
 * --enable-kvm: a udev rule that opens /dev/kvm to Nix's build users, applied at once. Returns
 * whether the rule was written (then the way out removes it and applies the rules again).
 */
export async function enableKvm(ctx: Context, stateDir: string): Promise<boolean> {
  if (ctx.platform.os !== "linux") {
    warn(ctx, `--enable-kvm: only Linux has ${KVM_DEVICE}; ignored on ${ctx.platform.os}`);
    return false;
  }
  if (!ctx.files.exists(KVM_DEVICE)) {
    warn(ctx, `--enable-kvm: this machine has no ${KVM_DEVICE} (no hardware virtualisation); kvm stays off`);
    return false;
  }
  writeSystemFile(ctx.files, stateDir, KVM_RULES_FILE, KVM_RULE);
  const problem = await applyUdevRules(ctx);
  if (problem === undefined) say(ctx, `wrote ${KVM_RULES_FILE} and applied it: ${KVM_DEVICE} is open to build users`);
  else warn(ctx, `--enable-kvm: ${problem}; kvm is offered only if ${KVM_DEVICE} opens anyway`);
  return true;
}

/** Whether /dev/kvm opens read-write as the user Nix runs builds as; a reason when it does not. */
export async function kvmUsable(ctx: Context, buildUsersGroup: string): Promise<{ usable: boolean; why?: string }> {
  if (ctx.platform.os !== "linux") return { usable: false };
  if (!ctx.files.exists(KVM_DEVICE)) return { usable: false, why: `this machine has no ${KVM_DEVICE}` };
  const read = (path: string) => ctx.files.readText(path) ?? "";
  const identity = buildIdentity(buildUsersGroup, read("/etc/group"), read("/etc/passwd"));
  const result = await ctx.runner.run({ argv: kvmOpenArgv(identity), timeoutMs: 10_000 });
  if (succeeded(result)) return { usable: true };
  if (result.code === COMMAND_NOT_FOUND) return { usable: false, why: "setpriv is missing, so it cannot be tested" };
  return { usable: false, why: `${KVM_DEVICE} does not open read-write for ${describeIdentity(identity)}` };
}
