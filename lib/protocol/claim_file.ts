/**
 * The builder's reading of its `claim` file: the coordinator's JSON line, then `client <address>`, which the
 * claim script takes from $SSH_CLIENT (see CLAIM_SCRIPT). The address is what the builder asks its own
 * tailnet about; the JSON says only what the claimer calls itself.
 */
import { DNS_LABEL, IPV4, IPV6 } from "./grammar.ts";

export interface ClaimFile {
  /** The claimer's tailnet address, from sshd; absent when the file has none (a claim not made over ssh). */
  readonly client?: string;
  /** The name the claimer gave itself, when it is a DNS label: only ever shown, never trusted. */
  readonly coordinator?: string;
}

/** A claim is one short JSON line and an address; anything much larger is no claim. */
const MAX_CLAIM_BYTES = 4096;

export function parseClaimFile(text: string): ClaimFile {
  if (text.length > MAX_CLAIM_BYTES) return {};
  const [json = "", clientLine = ""] = text.split("\n");
  const client = /^client (\S+)$/.exec(clientLine)?.[1];
  let coordinator: unknown;
  try {
    coordinator = (JSON.parse(json) as { coordinator?: unknown } | null)?.coordinator;
  } catch {
    coordinator = undefined;
  }
  return {
    client: client !== undefined && (IPV4.test(client) || IPV6.test(client)) ? client : undefined,
    coordinator: typeof coordinator === "string" && DNS_LABEL.test(coordinator) ? coordinator : undefined,
  };
}
