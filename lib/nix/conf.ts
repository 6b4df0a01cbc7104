import { basename, isAbsolute, join } from "node:path";

export const NIX_CONF_DIR = "/etc/nix";
export const MACHINES_FILE = "/etc/nix/machines";

/**
 * How often, in seconds, Nix tries again a derivation its build hook postponed because every
 * builder slot was busy. Nix's default, 5, leaves a slot idle for up to 5 s after each remote build:
 * with --max-jobs 0 every derivation waits so (tests/bench/latency.ts).
 */
export const BUILD_POLL_INTERVAL_SECONDS = 1;

/** The settings dnb's block sets, in its order; the user's extra lines follow them and win. */
export const DNB_NIX_SETTINGS = ["builders", "builders-use-substitutes", "build-poll-interval"] as const;

/**
 * The settings dnb puts in nix.conf: Nix reads builders from the machines file, builders fetch from
 * caches, and a postponed derivation is tried again within a second of a slot coming free.
 */
export function nixConfBlockBody(extraNixConfig: readonly string[], machinesFile = MACHINES_FILE): string[] {
  return [
    `builders = @${machinesFile}`,
    "builders-use-substitutes = true",
    `build-poll-interval = ${BUILD_POLL_INTERVAL_SECONDS}`,
    ...extraNixConfig,
  ];
}

const INCLUDE_LINE = /^\s*(!?)include\s+(\S+)\s*$/;

/**
 * Which file gets dnb's block. Determinate's installer makes nix.conf its own and `!include`s
 * nix.custom.conf for user settings, so dnb writes there when nix.conf includes it.
 */
export function nixConfTarget(nixConfText: string | undefined, dir = NIX_CONF_DIR): string {
  const includesCustom = nixConfIncludes(nixConfText ?? "", dir).some((include) =>
    basename(include.path) === "nix.custom.conf"
  );
  return `${dir}/${includesCustom ? "nix.custom.conf" : "nix.conf"}`;
}

/** A file nix.conf pulls in; Nix refuses to start when a plain `include` is missing, `!include` may be. */
export interface NixConfInclude {
  readonly path: string;
  readonly optional: boolean;
}

/** The `include` and `!include` lines of a nix.conf, relative paths resolved against its folder as Nix does. */
export function nixConfIncludes(nixConfText: string, dir = NIX_CONF_DIR): NixConfInclude[] {
  return nixConfText.split("\n").flatMap((line) => {
    const match = INCLUDE_LINE.exec(line);
    if (match === null) return [];
    const included = match[2]!;
    return [{ path: isAbsolute(included) ? included : join(dir, included), optional: match[1] === "!" }];
  });
}

/** Names of settings that a nix.conf text sets outside dnb's block (dnb's later lines win over them). */
export function settingsSetOutsideBlock(text: string, names: readonly string[]): string[] {
  const inBlock = new Set<number>();
  const lines = text.split("\n");
  let inside = false;
  lines.forEach((line, index) => {
    if (line === "# >>> dnb >>>") inside = true;
    if (inside) inBlock.add(index);
    if (line === "# <<< dnb <<<") inside = false;
  });
  const found = new Set<string>();
  lines.forEach((line, index) => {
    const name = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*=/.exec(line)?.[1];
    if (name !== undefined && !inBlock.has(index) && names.includes(name)) found.add(name);
  });
  return names.filter((name) => found.has(name));
}
