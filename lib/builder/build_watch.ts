/**
 * How a builder sees the builds Nix runs on it, with no help from Nix: every local build writes a log
 * under `<log dir>/drvs/<2 chars>/<rest of the .drv name>[.bz2]` and runs in a fresh directory
 * `nix-build-<name>.drv-<n>` that Nix removes when the build ends.
 */
import { NIX_BUILDS_DIR } from "../nix/build_dir.ts";
import type { Files } from "../core/files.ts";
import type { BuildSample } from "../protocol/usage.ts";

/** Nix's default log folder (NIX_LOG_DIR) holds one log per derivation it built. */
export const NIX_DRV_LOG_DIR = "/nix/var/log/nix/drvs";

/** Where build directories live: the daemon's TMPDIR up to Nix 2.29, `<state dir>/builds` since Nix 2.30 and Lix, and a `build-dir` dnb chose. */
export function buildDirRoots(
  files: Files,
  env: Readonly<Record<string, string | undefined>>,
  buildDir?: string,
): string[] {
  const roots = [env.TMPDIR || "/tmp", "/tmp", NIX_BUILDS_DIR, ...(buildDir ? [buildDir] : [])];
  // A folder made later (Nix creates its builds folder with the first build) keeps its own name.
  return [...new Set(roots.map((root) => files.canonical(root)))];
}

const BUILD_DIR_PREFIX = "nix-build-";
const RECENT_MS = 1000;

/** Watches a machine's derivation logs and build directories; what is there when it starts does not count. */
export class BuildWatch {
  readonly #files: Files;
  readonly #logDir: string;
  readonly #roots: readonly string[];
  readonly #logs = new Set<string>();
  /**
   * Each log folder's mtime when last listed (undefined: list it again). A folder is listed again only
   * when its mtime moves, i.e. when a file was created in it: logs pile up on long-lived machines.
   */
  readonly #folderMtimes = new Map<string, number | undefined>();
  /** Build directories left from before (a `--keep-failed` build) are not builds running now. */
  readonly #leftover: Set<string>;

  constructor(files: Files, logDir: string, roots: readonly string[], now: number) {
    this.#files = files;
    this.#logDir = logDir;
    this.#roots = roots;
    this.#scanLogs(now);
    this.#leftover = new Set(this.#buildDirs());
  }

  /** Derivation logs new since the last look, and how many builds run now. */
  look(at: number): BuildSample {
    const running = this.#buildDirs().filter((path) => !this.#leftover.has(path)).length;
    return { at, newLogs: this.#scanLogs(at), running };
  }

  #buildDirs(): string[] {
    return this.#roots.flatMap((root) =>
      this.#files.list(root).filter((entry) => entry.isDirectory && entry.name.startsWith(BUILD_DIR_PREFIX))
        .map((entry) => `${root}/${entry.name}`)
    );
  }

  /** Returns how many log files appeared since the previous scan. */
  #scanLogs(now: number): number {
    let added = 0;
    for (const folder of this.#files.list(this.#logDir)) {
      if (!folder.isDirectory) continue;
      const path = `${this.#logDir}/${folder.name}`;
      const mtime = this.#files.modifiedAt(path);
      const known = this.#folderMtimes.get(path);
      if (known !== undefined && known === mtime) continue;
      // File times are coarse (a kernel tick): a folder changed in the last second may change again
      // without its mtime moving, so it is listed again until its mtime is older than that.
      this.#folderMtimes.set(path, mtime !== undefined && now - mtime > RECENT_MS ? mtime : undefined);
      for (const log of this.#files.list(path)) {
        const name = `${folder.name}/${log.name}`;
        if (!log.isFile || this.#logs.has(name)) continue;
        this.#logs.add(name);
        added++;
      }
    }
    return added;
  }
}
