import { basename } from "node:path";

export const NIX_CONF_DIR = "/etc/nix";
export const MACHINES_FILE = "/etc/nix/machines";

/** The settings dnb puts in nix.conf: Nix reads builders from the machines file, builders fetch from caches. */
export function nixConfBlockBody(extraNixConfig: readonly string[], machinesFile = MACHINES_FILE): string[] {
  return [`builders = @${machinesFile}`, "builders-use-substitutes = true", ...extraNixConfig];
}

const INCLUDE_LINE = /^\s*!?include\s+(\S+)\s*$/;

/**
 * Which file gets dnb's block. Determinate's installer makes nix.conf its own and `!include`s
 * nix.custom.conf for user settings, so dnb writes there when nix.conf includes it.
 */
export function nixConfTarget(nixConfText: string | undefined, dir = NIX_CONF_DIR): string {
  const includesCustom = (nixConfText ?? "").split("\n").some((line) => {
    const included = INCLUDE_LINE.exec(line)?.[1];
    return included !== undefined && basename(included) === "nix.custom.conf";
  });
  return `${dir}/${includesCustom ? "nix.custom.conf" : "nix.conf"}`;
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
