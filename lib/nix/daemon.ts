import { type CommandResult, type Runner, succeeded } from "../core/exec.ts";
import { nixRelease } from "./daemon_protocol.ts";

/** The socket of a multi-user Nix's daemon: where it exists, nix.conf changes need a daemon restart. */
export const NIX_DAEMON_SOCKET = "/nix/var/nix/daemon-socket/socket";

/** Determinate Nix's launchd job on macOS; on Linux its daemon keeps systemd's nix-daemon.service. */
export const DETERMINATE_LAUNCHD_PLIST = "/Library/LaunchDaemons/systems.determinate.nix-daemon.plist";

/** How to restart the Nix daemon so it rereads nix.conf; undefined where there is no known way. */
export function daemonRestartArgv(os: string, determinate = false): string[] | undefined {
  if (os === "linux") return ["systemctl", "restart", "nix-daemon.service"];
  // launchd needs kickstart -k: a plain stop/start leaves the old daemon's settings (install-flox-action#24).
  if (os === "darwin") {
    return ["launchctl", "kickstart", "-k", `system/${determinate ? "systems.determinate" : "org.nixos"}.nix-daemon`];
  }
  return undefined;
}

/**
 * Asks a store (a builder over ssh-ng, or `daemon`, the local Nix daemon) whether it answers.
 * `nix store info` since Nix 2.19; `ping` is the name before, and a deprecated alias since.
 */
export function storeInfoArgv(storeUri: string, nix = "nix", command: "info" | "ping" = "info"): string[] {
  return [nix, "--extra-experimental-features", "nix-command", "store", command, "--store", storeUri];
}

/** Nix before 2.19 answers `nix store info` so, at once and before reaching any store. */
const NO_STORE_INFO = /'info' is not a recogni[sz]ed command/;

/** Whether this Nix version is known to predate `nix store info` (Nix before 2.19; Lix, 2.90 on, is asked). */
function beforeStoreInfo(nixVersion: string | undefined): boolean {
  const release = nixVersion === undefined ? undefined : nixRelease(nixVersion);
  return release !== undefined && release.major === 2 && release.minor < 19;
}

/**
 * Asks a store about itself: `nix store info`, or `nix store ping` on a Nix known to predate it.
 * Where the version is not known, info first, and ping when Nix answers that it has no such command
 * (one extra local process, no ssh); a store that does not answer is not asked twice.
 */
export async function queryStore(
  runner: Runner,
  spec: {
    storeUri: string;
    nix?: string;
    /** The local Nix's version, when known: saves the extra process on every claim of an older Nix. */
    nixVersion?: string;
    env?: Readonly<Record<string, string>>;
    timeoutMs: number;
  },
): Promise<CommandResult> {
  const run = (command: "info" | "ping") =>
    runner.run({ argv: storeInfoArgv(spec.storeUri, spec.nix, command), env: spec.env, timeoutMs: spec.timeoutMs });
  if (beforeStoreInfo(spec.nixVersion)) return await run("ping");
  const info = await run("info");
  return !succeeded(info) && NO_STORE_INFO.test(info.stderr) ? await run("ping") : info;
}

/** What `nix store info` says about the store it reached; lines a Nix too old to print them leave undefined. */
export interface StorePing {
  /** The remote daemon's Nix version (protocol 1.33 and later, Nix 2.7 on). */
  readonly version?: string;
  /** Whether the daemon trusts the connecting user (protocol 1.35 and later, Nix 2.15 on, on both sides). */
  readonly trusted?: boolean;
}

/** Parses the notice lines `Version: 2.24.9` and `Trusted: 1` that `nix store info` prints on stderr. */
export function parseStorePing(output: string): StorePing {
  const trusted = /^Trusted: ([01])\s*$/m.exec(output)?.[1];
  return {
    version: /^Version: ([0-9][0-9A-Za-z.+_-]*)\s*$/m.exec(output)?.[1],
    trusted: trusted === undefined ? undefined : trusted === "1",
  };
}
