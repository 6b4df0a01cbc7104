/**
 * Whether this machine's Nix daemon can ride an ssh master dnb keeps per builder (ssh_config's
 * `ControlPath`, `ControlMaster no`). Nix 2.15 passes `-oLocalCommand=echo started` and waits for
 * that line, which ssh prints only for a connection of its own, never for a session on a master: it
 * would wait forever (NixOS/nix#8329). From 2.16 Nix asks `ssh -O check` first and waits only when
 * no master answers; before 2.15 it waited for nothing. Determinate Nix passes its own `-S` since
 * January 2026, so ssh_config's ControlPath does not reach it, and before that its many connections
 * per store let "started" leak into the protocol (DeterminateSystems/nix-src#441): dnb leaves it be.
 */
import { nixRelease } from "./daemon_protocol.ts";
import type { LocalNix } from "./probe.ts";

export function nixRidesSshMasters(nix: LocalNix | undefined): boolean {
  if (nix === undefined || nix.determinate) return false;
  const release = nixRelease(nix.version);
  return release !== undefined && !(release.major === 2 && release.minor === 15);
}
