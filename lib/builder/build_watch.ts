/**
 * How a builder sees the builds Nix runs on it, with no help from Nix: every local build writes a log
 * under `<log dir>/drvs/<2 chars>/<rest of the .drv name>[.bz2]` and runs in a fresh directory
 * `nix-build-<name>.drv-<n>` that Nix removes when the build ends.
 */
import { NIX_BUILDS_DIR } from "../nix/build_dir.ts";
import { modifiedAt } from "../core/files.ts";
import type { BuildSample } from "../protocol/usage.ts";

/** Nix's default log folder (NIX_LOG_DIR) holds one log per derivation it built. */
export const NIX_DRV_LOG_DIR = "/nix/var/log/nix/drvs";

/** Where build directories live: the daemon's TMPDIR up to Nix 2.29, `<state dir>/builds` since Nix 2.30 and Lix, and a `build-dir` dnb chose. */
export function buildDirRoots(env: Readonly<Record<string, string | undefined>>, buildDir?: string): string[] {
  const roots = [env.TMPDIR || "/tmp", "/tmp", NIX_BUILDS_DIR, ...(buildDir ? [buildDir] : [])];
  return [...new Set(roots.map(canonical))];
}

const BUILD_DIR_PREFIX = "nix-build-";
const RECENT_MS = 1000;

function canonical(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    // Made later (Nix creates its builds folder with the first build).
    return path;
  }
}

function entries(path: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(path)];
  } catch {
    return [];
  }
}

/** Watches a machine's derivation logs and build directories; what is there when it starts does not count. */
export class BuildWatch {
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

  constructor(logDir: string, roots: readonly string[]) {
    this.#logDir = logDir;
    this.#roots = roots;
    this.#scanLogs();
    this.#leftover = new Set(this.#buildDirs());
  }

  /** Derivation logs new since the last look, and how many builds run now. */
  look(at: number): BuildSample {
    const running = this.#buildDirs().filter((path) => !this.#leftover.has(path)).length;
    return { at, newLogs: this.#scanLogs(), running };
  }

  #buildDirs(): string[] {
    return this.#roots.flatMap((root) =>
      entries(root).filter((entry) => entry.isDirectory && entry.name.startsWith(BUILD_DIR_PREFIX))
        .map((entry) => `${root}/${entry.name}`)
    );
  }

  /** Returns how many log files appeared since the previous scan. */
  #scanLogs(): number {
    let added = 0;
    for (const folder of entries(this.#logDir)) {
      if (!folder.isDirectory) continue;
      const path = `${this.#logDir}/${folder.name}`;
      const mtime = modifiedAt(path);
      const known = this.#folderMtimes.get(path);
      if (known !== undefined && known === mtime) continue;
      // File times are coarse (a kernel tick): a folder changed in the last second may change again
      // without its mtime moving, so it is listed again until its mtime is older than that.
      this.#folderMtimes.set(path, mtime !== undefined && Date.now() - mtime > RECENT_MS ? mtime : undefined);
      for (const log of entries(path)) {
        const name = `${folder.name}/${log.name}`;
        if (!log.isFile || this.#logs.has(name)) continue;
        this.#logs.add(name);
        added++;
      }
    }
    return added;
  }
}
