/** `dnb doctor`'s tailnet checks: the tailscaled dnb would use, and what only the tailnet policy can tell. */
import { DEFAULT_BUILDER_TAG, DEFAULT_COORDINATOR_TAG } from "../config/config.ts";
import type { TailnetNode } from "../tailnet/status.ts";
import { TAILSCALE_VERSION } from "../tailnet/install.ts";
import type { CheckResult, TailnetAnswer, TailscaleFacts } from "./doctor_facts.ts";

function nodeLine(self: TailnetNode): string {
  return `${self.shortName || self.hostName}${self.ipv4 ? ` (${self.ipv4})` : ""}, ${
    self.tags.length > 0 ? `tags ${self.tags.join(",")}` : "no tags"
  }`;
}

/** Which tailscaled answered: dnb's own, the system's that dnb reused, or the system's. */
function daemonName(via: TailscaleFacts["via"]): string {
  if (via.kind === "system") return "the system tailscaled";
  return via.socket === undefined ? "the system tailscaled dnb reused" : `dnb's tailscaled (${via.socket})`;
}

/** Why this node is not on the tailnet. */
function notRunning(answer: TailnetAnswer): string {
  if (answer.kind === "not-installed") return "not installed";
  if (answer.kind === "no-answer") return `not logged in: no tailscaled answers (${answer.problem})`;
  return `not logged in (BackendState ${answer.backendState})`;
}

/** The node when this machine is logged in and running, else undefined. */
function runningNode(answer: TailnetAnswer): TailnetNode | undefined {
  return answer.kind === "status" && answer.backendState === "Running" ? answer.self : undefined;
}

/**
 * A node dnb's own session points at must be up; without one, dnb joins by itself when it has a
 * key, so a machine that is not on the tailnet yet fails only when dnb could not join either.
 */
export function checkTailscale(tailscale: TailscaleFacts, os: string): CheckResult {
  const { answer, via } = tailscale;
  const self = runningNode(answer);
  if (self !== undefined) {
    const message = `${nodeLine(self)}, ${daemonName(via)}`;
    if (self.tags.length > 0) return { name: "tailscale", status: "ok", message };
    return {
      name: "tailscale",
      status: "warn",
      message,
      fix: "tailnet rules for dnb's tags do not cover an untagged node: let dnb start its own (--tailscale up)",
    };
  }
  const why = notRunning(answer);
  if (via.kind === "dnb") {
    return {
      name: "tailscale",
      status: "fail",
      message: `dnb's node (state ${via.stateDir}) is ${why}`,
      fix:
        `a killed run leaves this behind: dnb post clears it, or run dnb --role … again; see ${via.stateDir}/tailscaled.log`,
    };
  }
  const install = answer.kind === "not-installed"
    ? `installs Tailscale ${TAILSCALE_VERSION} (${os === "darwin" ? "built from its Go module" : "sha256-pinned"}), `
    : "";
  if (tailscale.authKeySource !== undefined) {
    return {
      name: "tailscale",
      status: "warn",
      message: why,
      fix: `dnb --role … ${install}starts its own tailscaled and joins with the key from ${tailscale.authKeySource}`,
    };
  }
  return {
    name: "tailscale",
    status: "fail",
    message: `${why}, and no auth key is set`,
    fix: `set TS_AUTHKEY or DNB_TAILSCALE_AUTHKEY (or DNB_AUTHKEY_FILE): dnb --role … then ${install}` +
      "starts its own tailscaled and joins",
  };
}

/** Tag ownership lives in the tailnet policy, which only an API token can read: say how to look instead. */
export function checkTailnetAcl(tailscale: TailscaleFacts): CheckResult {
  const self = runningNode(tailscale.answer);
  const accepted = self !== undefined && self.tags.length > 0
    ? `; this node's tags (${self.tags.join(",")}) were accepted at login`
    : "";
  return {
    name: "tailnet-acl",
    status: "skip",
    message: `tag ownership not checked: it needs a Tailscale API token${accepted}`,
    verify: `in the tailnet policy, tagOwners must own ${DEFAULT_BUILDER_TAG} and ${DEFAULT_COORDINATOR_TAG}, ` +
      "the OAuth client must hold both tags, and an ssh rule must accept root (README: Tailscale setup); " +
      "else joining fails with 'requested tags … are invalid or not permitted'",
  };
}
