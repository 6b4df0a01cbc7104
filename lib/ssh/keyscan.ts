import type { Context } from "../core/context.ts";
import { REMOTE_OUTPUT_BYTES } from "../core/exec.ts";
import { parseHostKey } from "./host_keys.ts";

/** Host keys of a plain-OpenSSH builder, fetched over the tailnet (WireGuard already authenticates the peer). */
export async function scanHostKeys(ctx: Context, address: string): Promise<string[]> {
  const result = await ctx.runner.run({
    argv: ["ssh-keyscan", "-T", "5", "-t", "ed25519,ecdsa,rsa", address],
    timeoutMs: 15_000,
    maxOutputBytes: REMOTE_OUTPUT_BYTES,
  });
  return result.stdout.split("\n")
    .filter((line) => line.startsWith(`${address} `))
    .map((line) => parseHostKey(line.slice(address.length + 1)))
    .filter((key): key is string => key !== undefined);
}
