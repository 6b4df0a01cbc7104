/** The dry run's step that joins the tailnet, for either role. */
import type { Config } from "../config/config.ts";
import type { MachineFacts } from "../core/facts.ts";
import {
  tailscaledArgv,
  tailscaledPaths,
  tailscaleStatusArgv,
  tailscaleUpArgv,
  upCredential,
} from "../tailnet/args.ts";
import { MASK, type PlanStep, step } from "./plan_step.ts";

/** The tailscale CLI the run would use. */
export function tailscaleBin(config: Config, facts: MachineFacts): string {
  return config.tailscaleBin ?? facts.programs.tailscale ?? "tailscale";
}

/** What `tailscale up` would log in with: a key, a federated identity, or nothing. */
function credentialNote(config: Config): string {
  if (config.authKey) {
    return `auth key: ${MASK} from ${config.authKey.source}` +
      (config.authKey.kind === "oauth-client-secret"
        ? " (OAuth client secret; ?ephemeral=true&preauthorized=true added)"
        : "");
  }
  if (config.federated) {
    return `keyless: workload identity federation as ${config.federated.clientId}, with this job's OIDC token for ${config.federated.audience}`;
  }
  return "no credentials: unless a logged-in tailscaled is reused, a builder exits 0 and a coordinator leaves Nix " +
    "building locally (--require-builders: exit 1); set TS_AUTHKEY, --authkey-file or --oauth-client-id";
}

export function joinStep(config: Config, facts: MachineFacts): PlanStep {
  const bin = tailscaleBin(config, facts);
  if (config.tailscale === "existing") {
    return step("Join the tailnet", {
      notes: ["reuse the running, logged-in tailscaled; never log it out (it is not dnb's)"],
      commands: [tailscaleStatusArgv(bin)],
    });
  }
  const federated = config.authKey === undefined ? config.federated : undefined;
  const { credential, file: keyFile } = upCredential(config);
  const notes: string[] = [];
  if (config.tailscale === "auto") {
    notes.push(
      facts.systemTailscaled
        ? "a system tailscaled socket exists: reuse it if it is logged in (and then never log it out); else:"
        : "no system tailscaled found: start one for this run",
    );
  }
  notes.push(
    credentialNote(config),
    `tailscale up gets the ${
      federated ? "OIDC token" : "key"
    } as file:${keyFile} (mode 0600), deleted as soon as up returns`,
    `deadline ${config.joinTimeoutSeconds}s, transient failures retried with backoff`,
  );
  return step("Join the tailnet", {
    notes,
    commands: [
      tailscaledArgv(facts.programs.tailscaled ?? "tailscaled", config.stateDir),
      tailscaleUpArgv({
        ...config,
        bin,
        socket: tailscaledPaths(config.stateDir).socket,
        credential,
        ssh: config.role === "builder",
        timeoutSeconds: config.joinTimeoutSeconds,
      }),
    ],
    files: [{ path: keyFile, mode: "0600", change: "create, then delete after `tailscale up`", content: MASK }],
  });
}
