import { claimBuilder } from "./claim.ts";
import type { FarmSettings } from "./cluster.ts";
import type { Context } from "../core/context.ts";
import type { Candidate } from "../tailnet/discovery.ts";
import { protocolMismatch } from "../nix/daemon_protocol.ts";
import { parseStorePing, queryStore, type StorePing } from "../nix/daemon.ts";
import { storeUri } from "../nix/machines_file.ts";
import { failureLine, REMOTE_OUTPUT_BYTES, type Runner, succeeded } from "../core/exec.ts";
import { type Member } from "./cluster.ts";
import { statePath } from "../core/state_dir.ts";
import type { LocalNix } from "../nix/probe.ts";
import { nixRidesSshMasters } from "../nix/ssh_masters.ts";
import { controlPathFor, startSshMaster, stopSshMaster } from "../ssh/master.ts";

export type Admission =
  /** warnings: worth a line, not a refusal (a daemon protocol that differs from the coordinator's). */
  | { readonly kind: "admitted"; readonly member: Omit<Member, "readySeconds">; readonly warnings: readonly string[] }
  | { readonly kind: "retry"; readonly reason: string }
  | { readonly kind: "refused"; readonly reason: string };

/**
 * Claims one builder and checks it answers as a Nix store over ssh-ng, the way Nix will connect,
 * and trusts the ssh user (else it could not build input-addressed derivations sent to it).
 * dnb's own ssh config must already hold the candidate (the Claimer writes it). `coordinatorNix` is this
 * machine's Nix: its version is compared with the builder's daemon protocol, and it decides whether
 * the builder gets an ssh master, which then carries the claim and the store check, and is ended
 * when the builder is not admitted.
 */
export async function admitBuilder(
  settings: FarmSettings,
  ctx: Context,
  candidate: Candidate,
  hostKeys: readonly string[],
  coordinatorNix: LocalNix | undefined,
): Promise<Admission> {
  const sshConfig = statePath(settings.stateDir, "sshConfig");
  const masterPath = nixRidesSshMasters(coordinatorNix) ? controlPathFor(settings, candidate.alias) : undefined;
  // The master goes first and the claim rides it: one ssh handshake per builder, not one per command.
  const warnings: string[] = [];
  if (masterPath !== undefined && !await startSshMaster(ctx, sshConfig, candidate.alias, masterPath)) {
    warnings.push(`${candidate.alias}: its shared ssh connection did not come up; Nix connects anew for each build`);
  }
  const notAdmitted = async (kind: "retry" | "refused", reason: string): Promise<Admission> => {
    if (masterPath !== undefined) await stopSshMaster(ctx, sshConfig, candidate.alias, masterPath);
    return { kind, reason };
  };
  const outcome = await claimBuilder(ctx, {
    sshConfig,
    alias: candidate.alias,
    builderStateDir: settings.builderStateDir,
    claim: { coordinator: settings.hostname, at: new Date(ctx.now()).toISOString(), lease: settings.leaseSeconds },
  });
  if (!outcome.ok) return await notAdmitted(outcome.retry ? "retry" : "refused", outcome.reason);
  const member = { alias: candidate.alias, address: candidate.node.ipv4, hostKeys, info: outcome.info };
  const ping = await pingStore(settings, ctx, member, coordinatorNix?.version);
  if (!ping.ok) return await notAdmitted("refused", `it does not answer as a Nix store over ssh-ng (${ping.reason})`);
  // Nix before 2.15, on either side, prints no Trusted line: trust is then unknown and not held against it.
  if (ping.trusted === false) {
    return await notAdmitted(
      "refused",
      `its Nix does not trust ${settings.sshUser} (nix store info says Trusted: 0), so it would refuse ` +
        `input-addressed derivations sent to it; set trusted-users = ${settings.sshUser} in the builder's nix.conf`,
    );
  }
  // The daemon that answered is the one builds reach; its own Nix version, where it says, beats info.json's.
  const mismatch = coordinatorNix === undefined
    ? undefined
    : protocolMismatch(candidate.alias, ping.version ?? outcome.info.nixVersion, coordinatorNix.version);
  return { kind: "admitted", member, warnings: mismatch === undefined ? warnings : [...warnings, mismatch] };
}

/**
 * Asks a builder, as root and over the same ssh entries Nix will use, whether it answers as a Nix
 * store over ssh-ng, and what it says about itself (its daemon's version, whether it trusts us).
 * NIX_SSHOPTS points ssh at dnb's own config, so this runs before any system file changes.
 */
async function pingStore(
  settings: FarmSettings,
  ctx: Context,
  member: Pick<Member, "alias" | "info">,
  coordinatorNix: string | undefined,
): Promise<{ ok: boolean; reason: string } & StorePing> {
  // The builder's daemon answers through this: its output is bounded like every read of a peer's.
  const bounded: Runner = {
    run: (spec) => ctx.runner.run({ ...spec, maxOutputBytes: REMOTE_OUTPUT_BYTES }),
    start: (spec) => ctx.runner.start(spec),
    watch: (spec) => ctx.runner.watch(spec),
  };
  const result = await queryStore(bounded, {
    storeUri: storeUri({ sshUser: settings.sshUser, alias: member.alias, nixDaemon: member.info.nixDaemon }),
    // Added to the runner's allow-listed environment: nothing else of dnb's own is passed on.
    nixVersion: coordinatorNix,
    env: { NIX_SSHOPTS: `-F ${statePath(settings.stateDir, "sshConfig")}` },
    timeoutMs: 60_000,
  });
  // Nix prints these as notices on stderr; stdout is read too in case a version moves them.
  return {
    ok: succeeded(result),
    reason: failureLine(result),
    ...parseStorePing(`${result.stderr}\n${result.stdout}`),
  };
}
