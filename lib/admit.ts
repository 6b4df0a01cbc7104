import { claimBuilder } from "./claim.ts";
import type { FarmSettings } from "./cluster.ts";
import type { Context } from "./context.ts";
import type { Candidate } from "./discovery.ts";
import { type Member, pingStore, privateSshConfig } from "./nix_setup.ts";

export type Admission =
  | { readonly kind: "admitted"; readonly member: Member }
  | { readonly kind: "retry"; readonly reason: string }
  | { readonly kind: "refused"; readonly reason: string };

/**
 * Claims one builder and checks it answers as a Nix store over ssh-ng, the way Nix will connect.
 * dnb's own ssh config must already hold the candidate (writeSshState).
 */
export async function admitBuilder(
  settings: FarmSettings,
  ctx: Context,
  candidate: Candidate,
  hostKeys: readonly string[],
): Promise<Admission> {
  const outcome = await claimBuilder(ctx, {
    sshConfig: privateSshConfig(settings.stateDir),
    alias: candidate.alias,
    builderStateDir: settings.builderStateDir,
    claim: { coordinator: settings.hostname, at: new Date(ctx.now()).toISOString(), lease: settings.leaseSeconds },
  });
  if (!outcome.ok) return { kind: outcome.retry ? "retry" : "refused", reason: outcome.reason };
  const member: Member = {
    alias: candidate.alias,
    address: candidate.node.ipv4,
    hostKeys,
    info: outcome.info,
    readySeconds: 0,
  };
  const ping = await pingStore(settings, ctx, member);
  if (!ping.ok) return { kind: "refused", reason: `it does not answer as a Nix store over ssh-ng (${ping.reason})` };
  return { kind: "admitted", member };
}
