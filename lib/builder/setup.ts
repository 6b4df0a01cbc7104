/**
 * What a builder changes on its machine before it publishes info.json, and how it gives it back:
 * the --enable-kvm udev rule, and Nix's build-dir on the file system with the most free space.
 * Every file goes through writeSystemFile (backed up, marked, put back by restoreSystemFiles).
 */
import { buildDirCandidates, effectiveBuildDir, pathAndAncestors } from "../nix/build_dir.ts";
import type { Context } from "../core/context.ts";
import { freeBytes, mountedFileSystems } from "../core/disk.ts";
import { KVM_DEVICE } from "../nix/features.ts";
import { say, warn } from "../core/log.ts";
import type { NixProbe } from "../nix/probe.ts";
import { restartNixDaemon, writeNixConfBlock } from "../nix/apply.ts";
import { describeRestore, restoreSystemFiles } from "../core/system_files.ts";
import type { Files } from "../core/files.ts";
import { applyUdevRules } from "./kvm.ts";

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

/** Where builds go and how much room there is; `changes` is updated as files are written. */
export interface BuildDirOutcome {
  readonly buildDir: string;
  readonly buildDirFreeBytes?: number;
  readonly storeFreeBytes?: number;
  /** Why dnb left the build folder where it was, for the log. */
  readonly note?: string;
}

/** Nix refuses a build-dir with a world-writable or symlinked folder on its path (Nix 2.30 and later). */
function unsafePath(files: Files, dir: string): string | undefined {
  return pathAndAncestors(dir).find((path) => {
    const info = files.lstat(path);
    return info !== undefined && (info.isSymlink || ((info.mode ?? 0) & 0o002) !== 0);
  });
}

function freeBytesAt(ctx: Context, path: string): Promise<number | undefined> {
  // df needs a path that exists; Nix makes its default build folder only on the first build.
  return freeBytes(ctx, pathAndAncestors(path).reverse().find((candidate) => ctx.files.exists(candidate)) ?? "/");
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
): Promise<BuildDirOutcome> {
  const current = effectiveBuildDir(nix.buildDir, nix.version);
  const outcome = async (buildDir: string, note?: string): Promise<BuildDirOutcome> => ({
    buildDir,
    buildDirFreeBytes: await freeBytesAt(ctx, buildDir),
    storeFreeBytes: await freeBytesAt(ctx, NIX_STORE),
    note,
  });
  if (ctx.platform.os !== "linux") return outcome(current);
  if (nix.buildDir === undefined) {
    return outcome(current, `Nix ${nix.version} has no build-dir setting (2.22 and later do): builds use ${current}`);
  }
  if (nix.buildDir !== null) return outcome(current, `build-dir is set in nix.conf: kept`);
  const choice = buildDirCandidates(await mountedFileSystems(ctx))
    .find((candidate) => unsafePath(ctx.files, candidate.dir) === undefined);
  if (choice === undefined) return outcome(current, `no local file system fits better: builds use ${current}`);
  if (choice.dir === current) return outcome(current);
  if (ctx.files.lstat(choice.dir) === undefined) {
    ctx.files.makeDir(choice.dir, 0o755);
    changes.createdBuildDir = choice.dir;
  }
  writeNixConfBlock(ctx.files, stateDir, [`build-dir = ${choice.dir}`]);
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
    const restore = restoreSystemFiles(ctx.files, stateDir);
    if (restore.restored.length + restore.removed.length > 0) say(ctx, describeRestore(restore));
    for (const refused of restore.refused) warn(ctx, `left alone: ${refused}`);
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
  if (changes.createdBuildDir !== undefined) {
    try {
      ctx.files.remove(changes.createdBuildDir, { recursive: true });
    } catch (error) {
      warn(ctx, `could not remove ${changes.createdBuildDir}: ${(error as Error).message}`);
    }
  }
}
