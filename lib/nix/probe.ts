import { z } from "zod";
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import { findOnPath } from "../core/path_lookup.ts";
import { succeeded } from "../core/exec.ts";

/** What Nix itself says this machine builds: dnb advertises exactly that (no guessed kvm). */
export interface NixSettings {
  readonly system: string;
  readonly extraPlatforms: readonly string[];
  readonly systemFeatures: readonly string[];
  /** Nix's `cores` setting; 0 means all. */
  readonly cores: number;
  /** The group whose members run builds; empty when builds run as the Nix process's own user. */
  readonly buildUsersGroup: string;
  /**
   * Nix's `build-dir` setting: undefined when this Nix has no such setting (before 2.22), null when
   * it is not set (Nix's default applies), else the directory builds' temporary folders go in.
   */
  readonly buildDir: string | null | undefined;
}

const setting = <T extends z.ZodType>(value: T) => z.object({ value }).optional();
const configSchema = z.object({
  system: z.object({ value: z.string() }),
  "extra-platforms": setting(z.array(z.string())),
  "system-features": setting(z.array(z.string())),
  cores: setting(z.number()),
  "build-users-group": setting(z.string()),
  "build-dir": setting(z.string().nullable()),
});

/** Parses `nix config show --json` (or `nix show-config --json` on older Nix). */
export function parseNixConfig(json: string): NixSettings {
  const parsed = configSchema.parse(JSON.parse(json));
  return {
    system: parsed.system.value,
    extraPlatforms: parsed["extra-platforms"]?.value ?? [],
    systemFeatures: parsed["system-features"]?.value ?? [],
    cores: parsed.cores?.value ?? 0,
    buildUsersGroup: parsed["build-users-group"]?.value ?? "",
    // An empty path is how an unset optional setting may print; either way Nix's default applies.
    buildDir: parsed["build-dir"] === undefined ? undefined : parsed["build-dir"].value || null,
  };
}

/** The `builders` value Nix reads from its configuration (`nix config show --json`), or undefined when absent. */
export function effectiveBuilders(json: string): string | undefined {
  const parsed = z.object({ builders: setting(z.string()) }).safeParse(JSON.parse(json));
  return parsed.success ? parsed.data.builders?.value : undefined;
}

/** `nix (Nix) 2.8.0` → `2.8.0`; Determinate prints `nix (Determinate Nix 3.6.2) 2.29.0`. */
export function parseNixVersion(text: string): string {
  const version = /(\d+\.\d+(?:\.\d+)?[0-9A-Za-z.+_-]*)\s*$/.exec(text.trim().split("\n")[0] ?? "")?.[1];
  if (version === undefined) throw new DnbError(`cannot read the Nix version from ${JSON.stringify(text.trim())}`);
  return version;
}

/**
 * Nix's effective configuration as JSON: `nix config show --json`, or `nix show-config --json` on
 * Nix before 2.20; undefined when neither works.
 */
export async function readNixConfigJson(ctx: Context, nix: string): Promise<string | undefined> {
  for (const command of [["config", "show"], ["show-config"]]) {
    const result = await ctx.runner.run({
      argv: [nix, "--extra-experimental-features", "nix-command", ...command, "--json"],
      timeoutMs: 30_000,
    });
    if (succeeded(result)) return result.stdout;
  }
  return undefined;
}

/** The stable daemon path of a multi-user install, else where PATH finds it. */
const PROFILE_DAEMON = "/nix/var/nix/profiles/default/bin/nix-daemon";

export interface NixProbe extends NixSettings {
  readonly version: string;
  readonly daemonPath: string;
}

/** The Nix on this machine as `nix --version` names it. */
export interface LocalNix {
  readonly version: string;
  /** Determinate Systems' build (`nix (Determinate Nix 3.6.2) 2.29.0`), whose ssh handling differs. */
  readonly determinate: boolean;
}

/** This machine's Nix, or undefined where there is no Nix (the coordinator compares it with builders'). */
export async function localNix(ctx: Context): Promise<LocalNix | undefined> {
  const nix = findOnPath(ctx.files, "nix", ctx.env.PATH ?? "");
  if (nix === undefined) return undefined;
  const result = await ctx.runner.run({ argv: [nix, "--version"], timeoutMs: 10_000 });
  if (!succeeded(result)) return undefined;
  try {
    return { version: parseNixVersion(result.stdout), determinate: /\(Determinate Nix /.test(result.stdout) };
  } catch {
    return undefined;
  }
}

export async function probeNix(ctx: Context): Promise<NixProbe> {
  const nix = findOnPath(ctx.files, "nix", ctx.env.PATH ?? "");
  if (nix === undefined) {
    throw new DnbError("Nix is not installed here", { hint: "install Nix first; the action does, with install_nix" });
  }
  const configJson = await readNixConfigJson(ctx, nix);
  if (configJson === undefined) throw new DnbError("nix could not print its configuration", { hint: "check nix.conf" });
  const settings = parseNixConfig(configJson);
  const version = await ctx.runner.run({ argv: [nix, "--version"], timeoutMs: 10_000 });
  const daemonPath = ctx.files.exists(PROFILE_DAEMON)
    ? PROFILE_DAEMON
    : findOnPath(ctx.files, "nix-daemon", ctx.env.PATH ?? "");
  if (daemonPath === undefined) throw new DnbError("nix-daemon was not found", { hint: "install Nix with its daemon" });
  return { ...settings, version: parseNixVersion(version.stdout), daemonPath };
}
