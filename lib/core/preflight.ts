import { DnbError } from "./errors.ts";

/** dnb changes system files and runs tailscaled, so roles run as root (`sudo -E` keeps TS_AUTHKEY). */
export function requireRoot(role: string): void {
  if (Deno.uid() !== 0) {
    throw new DnbError(`the ${role} role needs root`, { hint: "run it as root, e.g. sudo -E dnb …" });
  }
}
