import { type Mount } from "../core/disk.ts";
import { nixRelease } from "./daemon_protocol.ts";

/**
 * Where a builder's Nix puts builds' temporary folders. A runner's root disk is nearly full
 * (nothing-but-nix frees space under /nix only), so dnb points Nix's `build-dir` (Nix 2.22 and
 * later) at the file system with the most free space. Pure: parsing `df` and choosing.
 */

/** Nix's own default from 2.30, on the file system of the store. */
export const NIX_BUILDS_DIR = "/nix/var/nix/builds";

/** Local disk file systems; RAM (tmpfs), read-only images, boot partitions and network mounts are left out. */
const BUILD_FS_TYPES = new Set(["ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "bcachefs", "jfs"]);

/** The path becomes a nix.conf value: a plain absolute path, no spaces or quotes. */
const PLAIN_PATH = /^\/[A-Za-z0-9._+@\/-]*$/;

/** The mount that holds `path`: the longest mount point that is a prefix of it. */
export function mountOf(path: string, mounts: readonly Mount[]): Mount | undefined {
  const holds = (mountPoint: string) => mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`);
  return mounts.filter((mount) => holds(mount.mountPoint))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
}

export interface BuildDirCandidate {
  readonly dir: string;
  readonly mountPoint: string;
  readonly availableBytes: number;
}

/**
 * Build directories to try, most free space first: on the file system that holds /nix,
 * /nix/var/nix/builds (Nix's own default from 2.30); elsewhere `<mount point>/dnb-build`.
 * On a tie the store's file system wins.
 */
export function buildDirCandidates(mounts: readonly Mount[]): BuildDirCandidate[] {
  const usable = mounts.filter((mount) =>
    BUILD_FS_TYPES.has(mount.type) && PLAIN_PATH.test(mount.mountPoint) && !/^\/(boot|efi)(\/|$)/.test(mount.mountPoint)
  );
  const store = mountOf(NIX_BUILDS_DIR, usable)?.mountPoint;
  const seen = new Set<string>();
  return usable
    .filter((mount) => !seen.has(mount.mountPoint) && seen.add(mount.mountPoint))
    .map((mount) => ({
      dir: mount.mountPoint === store
        ? NIX_BUILDS_DIR
        : `${mount.mountPoint === "/" ? "" : mount.mountPoint}/dnb-build`,
      mountPoint: mount.mountPoint,
      availableBytes: mount.availableBytes,
    }))
    .sort((a, b) =>
      b.availableBytes - a.availableBytes || Number(b.mountPoint === store) - Number(a.mountPoint === store)
    );
}

/**
 * Where builds go when dnb sets nothing: `build-dir` if the user set it; else Nix's default,
 * /nix/var/nix/builds from 2.30 and the build process's TMPDIR before (unset in ssh sessions, so /tmp).
 * Lix numbers its releases from 2.90, forked from Nix 2.18: counted as before the change.
 */
export function effectiveBuildDir(buildDirSetting: string | null | undefined, nixVersion: string): string {
  if (typeof buildDirSetting === "string") return buildDirSetting;
  const release = nixRelease(nixVersion);
  return release?.major === 2 && release.minor >= 30 && release.minor < 90 ? NIX_BUILDS_DIR : "/tmp";
}

/** The parent folders of an absolute path, outermost first, the path itself last: `/a/b` → `/`, `/a`, `/a/b`. */
export function pathAndAncestors(path: string): string[] {
  const parts = path.split("/").filter((part) => part !== "");
  return ["/", ...parts.map((_, index) => `/${parts.slice(0, index + 1).join("/")}`)];
}
