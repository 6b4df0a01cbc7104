/** How the coordinator reaches each builder over the tailnet, from `tailscale status --json`. */
import type { TailnetNode } from "./status.ts";

/** `direct`, `relayed (DERP iad)`, or `unknown` before any traffic has flowed. */
export function describeLink(node: TailnetNode | undefined): string {
  if (node === undefined || node.path === "unknown") return "unknown";
  return node.path === "direct" ? "direct" : `relayed (${node.relayVia ?? "relay"})`;
}

/** A relayed builder still works, but every derivation's inputs and outputs take the detour. */
export function relayWarning(alias: string, node: TailnetNode | undefined): string | undefined {
  if (node?.path !== "relay") return undefined;
  return `${alias} is reached through ${node.relayVia ?? "a relay"}, not directly: copies to and from it are slower; ` +
    "a direct path needs UDP between the runners (see tailscale netcheck)";
}
