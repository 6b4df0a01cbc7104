/** The job's OpenID Connect token from GitHub's token service, for keyless joins (workload identity federation). */
import { z } from "zod";
import type { Context } from "../core/context.ts";
import { DnbError } from "../core/errors.ts";

/** A JWT: three base64url parts. */
const tokenResponse = z.object({
  value: z.string().max(16_384).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/),
});

/** Whether this job may ask for a token at all: GitHub sets both variables only with `permissions: id-token: write`. */
export function idTokenServiceAvailable(env: Context["env"]): boolean {
  return (env.ACTIONS_ID_TOKEN_REQUEST_URL ?? "") !== "" && (env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "") !== "";
}

/** Asks GitHub's token service for a token minted for `audience`; the request token and the answer are secrets. */
export async function fetchIdToken(ctx: Context, audience: string): Promise<string> {
  const requestToken = ctx.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!;
  ctx.redactor.add(requestToken);
  const url = new URL(ctx.env.ACTIONS_ID_TOKEN_REQUEST_URL!);
  url.searchParams.set("audience", audience);
  let response: Response;
  try {
    response = await ctx.fetch(url.href, {
      headers: { Authorization: `bearer ${requestToken}`, Accept: "application/json" },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new DnbError(`could not reach GitHub's OIDC token service: ${(error as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DnbError(`GitHub's OIDC token service answered HTTP ${response.status}`, {
      hint: "the job needs `permissions: id-token: write`",
    });
  }
  const parsed = tokenResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new DnbError("GitHub's OIDC token service sent no token");
  return parsed.data.value;
}
