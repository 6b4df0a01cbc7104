import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";
import { succeeded } from "../core/exec.ts";

/**
 * The first Tailscale release whose keyless join works with dnb's `--client-id=<id>?ephemeral=…`:
 * 1.90.0 to 1.90.3 sent the `?…` attributes on to the token exchange, which refused them
 * (fixed by tailscale/tailscale commit bad03eef, "strip query params on clientID").
 */
export const KEYLESS_MIN_VERSION = [1, 90, 4] as const;

/** `1.94.2`, `1.102.3-ERR-BuildInfo` (go install), `1.94.2-t3caf7d9e7-g…` → [major, minor, patch]. */
export function parseTailscaleVersion(text: string): [number, number, number] | undefined {
  const match = /^\s*(\d{1,4})\.(\d{1,4})\.(\d{1,4})/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

export function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let index = 0; index < minimum.length; index++) {
    const [have, need] = [version[index] ?? 0, minimum[index]!];
    if (have !== need) return have > need;
  }
  return true;
}

/** Refuses a keyless join with a Tailscale that cannot do it, before anything is started. */
export async function requireKeylessSupport(ctx: Context, tailscale: string): Promise<void> {
  const result = await ctx.runner.run({ argv: [tailscale, "version"], timeoutMs: 10_000 });
  const firstLine = result.stdout.split("\n")[0] ?? "";
  const version = succeeded(result) ? parseTailscaleVersion(firstLine) : undefined;
  const minimum = KEYLESS_MIN_VERSION.join(".");
  if (version === undefined) {
    throw new DnbError(`${tailscale} version did not print a version, and a keyless join needs ${minimum} or later`, {
      hint: "use a Tailscale release you know, or let dnb install its own (--tailscale up without tailscale on PATH)",
    });
  }
  if (!atLeast(version, KEYLESS_MIN_VERSION)) {
    throw new DnbError(`${tailscale} is Tailscale ${version.join(".")}; a keyless join needs ${minimum} or later`, {
      hint: "update Tailscale, or join with an auth key (TS_AUTHKEY) instead of --oauth-client-id",
    });
  }
}
