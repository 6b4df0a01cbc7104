import { delimiter, join } from "node:path";
import { pathExists } from "./files.ts";
import { DETERMINATE_LAUNCHD_PLIST } from "../nix/daemon.ts";
import { systemTailscaledSocket } from "../tailnet/args.ts";

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

export const NIX_DAEMON_SOCKET = "/nix/var/nix/daemon-socket/socket";

function readIfPresent(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

export function findOnPath(program: string, pathVariable: string): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, program);
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

export function gatherFacts(pathVariable: string): MachineFacts {
  const programs = Object.fromEntries(PROGRAMS.map((program) => [program, findOnPath(program, pathVariable)]));
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    programs: programs as Record<Program, string | undefined>,
    nixConf: readIfPresent("/etc/nix/nix.conf"),
    nixCustomConf: readIfPresent("/etc/nix/nix.custom.conf"),
    machinesFileExists: pathExists("/etc/nix/machines"),
    sshConfig: readIfPresent("/etc/ssh/ssh_config"),
    nixDaemonSocket: pathExists(NIX_DAEMON_SOCKET),
    determinateLaunchd: pathExists(DETERMINATE_LAUNCHD_PLIST),
    systemTailscaled: pathExists(systemTailscaledSocket(Deno.build.os)),
  };
}
