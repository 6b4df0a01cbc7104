import { DnbError } from "./errors.ts";
import type { Context } from "./context.ts";

/** dnb changes system files and runs tailscaled, so roles run as root (`sudo -E` keeps TS_AUTHKEY). */
export function requireRoot(ctx: Pick<Context, "host">, role: string): void {
  if (ctx.host.uid() !== 0) {
    throw new DnbError(`the ${role} role needs root`, { hint: "run it as root, e.g. sudo -E dnb …" });
  }
}
