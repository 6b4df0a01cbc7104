import { pathExists } from "./files.ts";
import { findOnPath } from "./path_lookup.ts";

/** Programs dnb may run; the plan says which are present. */
export const PROGRAMS = ["nix", "tailscale", "tailscaled", "ssh", "ssh-keyscan", "systemctl", "launchctl"] as const;
export type Program = (typeof PROGRAMS)[number];

/** What --dry-run needs to know about this machine; gathered by reading files only, never by running anything. */
export interface MachineFacts {
  readonly os: string;
  readonly arch: string;
  readonly programs: Readonly<Record<Program, string | undefined>>;
  readonly nixConf?: string;
  /** nix.custom.conf, read when nix.conf includes it. */
  readonly nixCustomConf?: string;
  readonly machinesFileExists: boolean;
  readonly sshConfig?: string;
  /** A Nix daemon socket exists, so nix.conf changes need a daemon restart. */
  readonly nixDaemonSocket: boolean;
  /** Determinate Nix's launchd job is installed (macOS): its daemon restarts under that name. */
  readonly determinateLaunchd: boolean;
  /** The system tailscaled's socket exists (auto mode may reuse it). */
  readonly systemTailscaled: boolean;
}

/** Where Nix and Tailscale keep what the facts look for; their own layers know, main.ts hands them in. */
export interface FactPaths {
  readonly nixDaemonSocket: string;
  readonly determinateLaunchdPlist: string;
  readonly systemTailscaledSocket: string;
}

function readIfPresent(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

export function gatherFacts(pathVariable: string, paths: FactPaths): MachineFacts {
  const programs = Object.fromEntries(PROGRAMS.map((program) => [program, findOnPath(program, pathVariable)]));
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    programs: programs as Record<Program, string | undefined>,
    nixConf: readIfPresent("/etc/nix/nix.conf"),
    nixCustomConf: readIfPresent("/etc/nix/nix.custom.conf"),
    machinesFileExists: pathExists("/etc/nix/machines"),
    sshConfig: readIfPresent("/etc/ssh/ssh_config"),
    nixDaemonSocket: pathExists(paths.nixDaemonSocket),
    determinateLaunchd: pathExists(paths.determinateLaunchdPlist),
    systemTailscaled: pathExists(paths.systemTailscaledSocket),
  };
}
