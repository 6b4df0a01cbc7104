import type { Files } from "./files.ts";
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

export function gatherFacts(
  files: Files,
  platform: { os: string; arch: string },
  pathVariable: string,
  paths: FactPaths,
): MachineFacts {
  const programs = Object.fromEntries(PROGRAMS.map((program) => [program, findOnPath(files, program, pathVariable)]));
  return {
    os: platform.os,
    arch: platform.arch,
    programs: programs as Record<Program, string | undefined>,
    nixConf: files.readText("/etc/nix/nix.conf"),
    nixCustomConf: files.readText("/etc/nix/nix.custom.conf"),
    machinesFileExists: files.exists("/etc/nix/machines"),
    sshConfig: files.readText("/etc/ssh/ssh_config"),
    nixDaemonSocket: files.exists(paths.nixDaemonSocket),
    determinateLaunchd: files.exists(paths.determinateLaunchdPlist),
    systemTailscaled: files.exists(paths.systemTailscaledSocket),
  };
}
