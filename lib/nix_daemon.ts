/** How to restart the Nix daemon so it rereads nix.conf; undefined where there is no known way. */
export function daemonRestartArgv(os: string): string[] | undefined {
  if (os === "linux") return ["systemctl", "restart", "nix-daemon.service"];
  // launchd needs kickstart -k: a plain stop/start leaves the old daemon's settings (install-flox-action#24).
  if (os === "darwin") return ["launchctl", "kickstart", "-k", "system/org.nixos.nix-daemon"];
  return undefined;
}

/** Asks a store (a builder over ssh-ng, or `daemon`, the local Nix daemon) whether it answers. */
export function storePingArgv(storeUri: string, nix = "nix"): string[] {
  return [nix, "--extra-experimental-features", "nix-command", "store", "ping", "--store", storeUri];
}
