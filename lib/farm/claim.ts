import { type BuilderInfo, parseBuilderInfo } from "../protocol/builder_info.ts";
import type { Context } from "../core/context.ts";
import { claimArgv } from "../protocol/scripts.ts";
import { plainLine, REMOTE_OUTPUT_BYTES, succeeded } from "../core/exec.ts";

/** ssh's own words come last: a builder's stderr past this is not read for them. */
const STDERR_TAIL_BYTES = 4096;

export type ClaimOutcome =
  | { readonly ok: true; readonly info: BuilderInfo }
  /** retry: the builder may just not be ready (sshd starting, info.json not yet written). */
  | { readonly ok: false; readonly retry: boolean; readonly reason: string };

/** Classifies an ssh failure: some mean "try again soon", others "this builder can never be used". */
export function classifyClaimFailure(code: number, stderr: string): { retry: boolean; reason: string } {
  const text = stderr.slice(-STDERR_TAIL_BYTES).trim();
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* differs/i.test(text)) {
    return { retry: false, reason: "its SSH host key does not match the key it advertised on the tailnet" };
  }
  if (/tailnet policy does not permit you to SSH/.test(text)) {
    return {
      retry: false,
      reason: "the tailnet policy does not let this node SSH to it as that user (add an ssh rule with action accept)",
    };
  }
  if (/requires an additional check/.test(text)) {
    return { retry: false, reason: "its Tailscale SSH rule is `check`; non-interactive SSH needs `accept`" };
  }
  if (/Permission denied/.test(text)) {
    return { retry: false, reason: "SSH refused the login (check --ssh-user and --ssh-key)" };
  }
  if (code === 3) return { retry: true, reason: "it has not published info.json yet" };
  return { retry: true, reason: plainLine(text.split("\n").pop() ?? "") || `ssh exited ${code}` };
}

/** One ssh round trip: writes claim, renews lease and reads info.json; data goes over stdin. */
export async function claimBuilder(
  ctx: Context,
  request: { sshConfig: string; alias: string; builderStateDir: string; claim: Record<string, unknown> },
): Promise<ClaimOutcome> {
  const result = await ctx.runner.run({
    argv: claimArgv(request.sshConfig, request.alias),
    stdin: `${request.builderStateDir}\n${JSON.stringify(request.claim)}\n`,
    timeoutMs: 30_000,
    maxOutputBytes: REMOTE_OUTPUT_BYTES,
  });
  if (result.overflowed) {
    return { ok: false, retry: false, reason: `it answered the claim with more than ${REMOTE_OUTPUT_BYTES} bytes` };
  }
  if (!succeeded(result)) {
    return { ok: false, ...classifyClaimFailure(result.timedOut ? -1 : result.code, result.stderr) };
  }
  const parsed = parseBuilderInfo(result.stdout);
  if (parsed.info === undefined) return { ok: false, retry: false, reason: `it sent an invalid ${parsed.problem}` };
  return { ok: true, info: parsed.info };
}
