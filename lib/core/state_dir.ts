import { DnbError } from "./errors.ts";
import type { Context } from "./context.ts";

/** Every file and folder dnb keeps in its state folder (design.md section 3), by what it is for. */
export const STATE_FILES = {
  // The builder's side of the protocol (design.md section 4): the coordinator reads and writes these over ssh.
  info: "info.json",
  claim: "claim",
  lease: "lease",
  done: "done",
  usage: "usage.json",
  // The coordinator's farm.
  cluster: "cluster.json",
  stopped: "stopped.json",
  watchdogPid: "watchdog.pid",
  watchdogLog: "watchdog.log",
  knownHosts: "known_hosts",
  sshConfig: "ssh_config",
  stopCommand: "bin",
  // The tailnet node dnb runs, and the secrets `tailscale up` reads (0600, deleted after use).
  tailscaleSession: "tailscale.json",
  tailscaledSocket: "tailscaled.sock",
  tailscaledState: "tailscale",
  tailscaledLog: "tailscaled.log",
  tailscaleBin: "tailscale-bin",
  tailscaleBuild: "tailscale-build",
  authKey: "authkey",
  idToken: "idtoken",
  // System files dnb changed, with their originals.
  changes: "changes.json",
  backups: "backup",
} as const;

export type StateFile = keyof typeof STATE_FILES;

export function statePath(stateDir: string, file: StateFile): string {
  return `${stateDir}/${STATE_FILES[file]}`;
}

/**
 * Creates dnb's state folder (0755) or checks an existing one: it holds files other processes
 * trust (claim, lease, known_hosts), so a symlink, another owner or group/world write is refused.
 */
export function ensureStateDir(ctx: Pick<Context, "files" | "host">, path: string): void {
  let info = ctx.files.lstat(path);
  if (info === undefined) {
    ctx.files.makeDir(path, 0o755);
    info = ctx.files.lstat(path)!;
  }
  const refuse = (why: string) =>
    new DnbError(`state folder ${path} ${why}`, { hint: "use --state-dir with a folder only you can write" });
  if (info.isSymlink) throw refuse("is a symbolic link");
  if (!info.isDirectory) throw refuse("is not a folder");
  if (info.uid !== null && info.uid !== ctx.host.uid()) throw refuse(`is owned by uid ${info.uid}, not by this user`);
  if (((info.mode ?? 0) & 0o022) !== 0) throw refuse("is writable by other users");
}
