/**
 * What a builder changes on its machine before it publishes info.json, and how it gives it back:
 * the --enable-kvm udev rule, and Nix's build-dir on the file system with the most free space.
 * Every file goes through writeSystemFile (backed up, marked, put back by restoreSystemFiles).
 */
import { buildDirCandidates, effectiveBuildDir, pathAndAncestors } from "../nix/build_dir.ts";
import type { Context } from "../core/context.ts";
import { freeBytes, mountedFileSystems } from "../core/disk.ts";
import { COMMAND_NOT_FOUND, failureLine, succeeded } from "../core/exec.ts";
import {
  buildIdentity,
  describeIdentity,
  KVM_DEVICE,
  KVM_RULE,
  KVM_RULES_FILE,
  kvmOpenArgv,
  UDEV_APPLY,
} from "../nix/features.ts";
import { describeRestore, pathExists, restoreSystemFiles, writeSystemFile } from "../core/files.ts";
import { say, warn } from "../core/log.ts";
import { NIX_CONF_DIR } from "../nix/conf.ts";
import type { NixProbe } from "../nix/probe.ts";
import { restartNixDaemon, writeNixConfBlock } from "../nix/apply.ts";

const NIX_STORE = "/nix/store";

/** What the builder changed, so the way out undoes exactly that. */
export interface BuilderChanges {
  kvmRule: boolean;
  nixConf: boolean;
  /** A build folder dnb made (removed on exit); undefined when it existed or nothing was made. */
  createdBuildDir?: string;
}

export function noChanges(): BuilderChanges {
  return { kvmRule: false, nixConf: false };
}

async function applyUdevRules(ctx: Context): Promise<string | undefined> {
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
export async function enableKvm(ctx: Context, stateDir: string, rulesFile = KVM_RULES_FILE): Promise<boolean> {
  if (ctx.platform.os !== "linux") {
    warn(ctx, `--enable-kvm: only Linux has ${KVM_DEVICE}; ignored on ${ctx.platform.os}`);
    return false;
  }
  if (!ctx.fileExists(KVM_DEVICE)) {
    warn(ctx, `--enable-kvm: this machine has no ${KVM_DEVICE} (no hardware virtualisation); kvm stays off`);
    return false;
  }
  writeSystemFile(stateDir, rulesFile, KVM_RULE);
  const problem = await applyUdevRules(ctx);
  if (problem === undefined) say(ctx, `wrote ${rulesFile} and applied it: ${KVM_DEVICE} is open to build users`);
  else warn(ctx, `--enable-kvm: ${problem}; kvm is offered only if ${KVM_DEVICE} opens anyway`);
  return true;
}

/** Whether /dev/kvm opens read-write as the user Nix runs builds as; a reason when it does not. */
export async function kvmUsable(ctx: Context, buildUsersGroup: string): Promise<{ usable: boolean; why?: string }> {
  if (ctx.platform.os !== "linux") return { usable: false };
  if (!ctx.fileExists(KVM_DEVICE)) return { usable: false, why: `this machine has no ${KVM_DEVICE}` };
  const read = (path: string) => {
    try {
      return ctx.readTextFile(path);
    } catch {
      return "";
    }
  };
  const identity = buildIdentity(buildUsersGroup, read("/etc/group"), read("/etc/passwd"));
  const result = await ctx.runner.run({ argv: kvmOpenArgv(identity), timeoutMs: 10_000 });
  if (succeeded(result)) return { usable: true };
  if (result.code === COMMAND_NOT_FOUND) return { usable: false, why: "setpriv is missing, so it cannot be tested" };
  return { usable: false, why: `${KVM_DEVICE} does not open read-write for ${describeIdentity(identity)}` };
}

/** Where builds go and how much room there is; `changes` is updated as files are written. */
export interface BuildDirOutcome {
  readonly buildDir: string;
  readonly buildDirFreeBytes?: number;
  readonly storeFreeBytes?: number;
  /** Why dnb left the build folder where it was, for the log. */
  readonly note?: string;
}

/** Effects the build-dir choice needs; tests hand in a temporary nix.conf folder and fake file modes. */
export interface BuildDirDeps {
  readonly nixConfDir: string;
  readonly lstat: (path: string) => Deno.FileInfo | undefined;
}

const REAL_DEPS: BuildDirDeps = {
  nixConfDir: NIX_CONF_DIR,
  lstat: (path) => {
    try {
      return Deno.lstatSync(path);
    } catch {
      return undefined;
    }
  },
};

/** Nix refuses a build-dir with a world-writable or symlinked folder on its path (Nix 2.30 and later). */
function unsafePath(dir: string, lstat: BuildDirDeps["lstat"]): string | undefined {
  return pathAndAncestors(dir).find((path) => {
    const info = lstat(path);
    return info !== undefined && (info.isSymlink || ((info.mode ?? 0) & 0o002) !== 0);
  });
}

function freeBytesAt(ctx: Context, path: string, lstat: BuildDirDeps["lstat"]): Promise<number | undefined> {
  // df needs a path that exists; Nix makes its default build folder only on the first build.
  return freeBytes(ctx, pathAndAncestors(path).reverse().find((candidate) => lstat(candidate) !== undefined) ?? "/");
}

/**
 * Points Nix's build-dir at the local file system with the most free space, as a marked block in
 * nix.conf (or nix.custom.conf). Builds that arrive over ssh-ng as root run in a fresh
 * `nix-daemon --stdio`, which reads nix.conf when it starts; the system daemon (builds for a
 * non-root ssh user) is restarted. Where Nix has no build-dir (before 2.22), the user set one, or
 * the machine is not Linux, nothing changes and the outcome says where builds go.
 */
export async function prepareBuildDir(
  ctx: Context,
  stateDir: string,
  nix: NixProbe,
  changes: BuilderChanges,
  deps: BuildDirDeps = REAL_DEPS,
): Promise<BuildDirOutcome> {
  const current = effectiveBuildDir(nix.buildDir, nix.version);
  const outcome = async (buildDir: string, note?: string): Promise<BuildDirOutcome> => ({
    buildDir,
    buildDirFreeBytes: await freeBytesAt(ctx, buildDir, deps.lstat),
    storeFreeBytes: await freeBytesAt(ctx, NIX_STORE, deps.lstat),
    note,
  });
  if (ctx.platform.os !== "linux") return outcome(current);
  if (nix.buildDir === undefined) {
    return outcome(current, `Nix ${nix.version} has no build-dir setting (2.22 and later do): builds use ${current}`);
  }
  if (nix.buildDir !== null) return outcome(current, `build-dir is set in nix.conf: kept`);
  const choice = buildDirCandidates(await mountedFileSystems(ctx))
    .find((candidate) => unsafePath(candidate.dir, deps.lstat) === undefined);
  if (choice === undefined) return outcome(current, `no local file system fits better: builds use ${current}`);
  if (choice.dir === current) return outcome(current);
  if (deps.lstat(choice.dir) === undefined) {
    Deno.mkdirSync(choice.dir, { recursive: true, mode: 0o755 });
    Deno.chmodSync(choice.dir, 0o755);
    changes.createdBuildDir = choice.dir;
  }
  writeNixConfBlock(stateDir, [`build-dir = ${choice.dir}`], deps.nixConfDir);
  changes.nixConf = true;
  try {
    await restartNixDaemon(ctx);
  } catch (error) {
    warn(ctx, `${(error as Error).message}; builds over ssh-ng as root use ${choice.dir} anyway`);
  }
  return outcome(choice.dir);
}

/** The way out: every file back byte for byte, udev and the Nix daemon told, dnb's build folder gone. Warns, never throws. */
export async function undoBuilderChanges(ctx: Context, stateDir: string, changes: BuilderChanges): Promise<void> {
  try {
    const restore = restoreSystemFiles(stateDir);
    if (restore.restored.length + restore.removed.length > 0) say(ctx, describeRestore(restore));
  } catch (error) {
    warn(ctx, `could not put back every file: ${(error as Error).message}`);
  }
  if (changes.kvmRule) {
    const problem = await applyUdevRules(ctx);
    if (problem !== undefined) warn(ctx, `${KVM_DEVICE} may stay open to all users: ${problem}`);
  }
  if (changes.nixConf) {
    try {
      await restartNixDaemon(ctx);
    } catch (error) {
      warn(ctx, (error as Error).message);
    }
  }
  if (changes.createdBuildDir !== undefined && pathExists(changes.createdBuildDir)) {
    try {
      Deno.removeSync(changes.createdBuildDir, { recursive: true });
    } catch (error) {
      warn(ctx, `could not remove ${changes.createdBuildDir}: ${(error as Error).message}`);
    }
  }
}
