/** The secret or identity `tailscale up` joins with: from the environment or a file, never from a flag. */
import { InputError } from "../core/errors.ts";
import { type ConfigSources, envName, parseInput, type RawInput, readOption } from "./inputs.ts";
import { AUTH_KEY_ENV } from "./options.ts";
import { absolutePath, authKeyText, oneLine } from "./schemas.ts";

export interface AuthKey {
  readonly value: string;
  /**
   * OAuth client secrets mint a key at join time and need tags; plain auth keys carry their own.
   * Headscale's pre-auth keys carry their tags too, and Headscale refuses a node that also asks for tags.
   */
  readonly kind: "auth-key" | "oauth-client-secret" | "headscale-pre-auth-key";
  /** Where it came from, for messages: an env var name or `--authkey-file`. */
  readonly source: string;
}

export interface FederatedIdentity {
  /** The federated identity's client ID: not a secret (Tailscale's own action passes it on the command line). */
  readonly clientId: string;
  /** The audience the OIDC token is minted for, as Tailscale's admin console shows it. */
  readonly audience: string;
}

export function readAuthKey(sources: ConfigSources): AuthKey | undefined {
  const keyFile = readOption(sources, "--authkey-file", absolutePath);
  let input: RawInput | undefined;
  if (keyFile !== undefined) {
    let text: string;
    try {
      text = sources.readTextFile(keyFile);
    } catch (error) {
      throw new InputError("--authkey-file", `cannot read ${keyFile}: ${(error as Error).message}`);
    }
    const key = text.trim();
    if (key === "") throw new InputError("--authkey-file", `${keyFile} is empty`);
    input = { value: key, name: "--authkey-file" };
  } else {
    const name = AUTH_KEY_ENV.find((variable) => (sources.env[variable] ?? "") !== "");
    if (name !== undefined) input = { value: sources.env[name]!.trim(), name: envName(sources, name, name) };
  }
  if (input === undefined) return undefined;
  // Never echo a secret back, not even a malformed one.
  const value = parseInput(input, authKeyText, false);
  return {
    value,
    kind: keyKind(value),
    source: input.name,
  };
}

function keyKind(key: string): AuthKey["kind"] {
  if (key.startsWith("tskey-client-")) return "oauth-client-secret";
  return key.startsWith("hskey-auth-") ? "headscale-pre-auth-key" : "auth-key";
}

export function readFederatedIdentity(sources: ConfigSources): FederatedIdentity | undefined {
  const clientId = readOption(
    sources,
    "--oauth-client-id",
    oneLine(128).regex(/^[A-Za-z0-9_-]+$/, { error: "must be a client ID: letters, digits, '_' and '-'" }),
  );
  const audience = readOption(
    sources,
    "--audience",
    oneLine(256).regex(/^[A-Za-z0-9_.:/-]+$/, { error: "must be an audience: letters, digits and . _ : / -" }),
  );
  if (clientId === undefined) {
    if (audience !== undefined) throw new InputError("--audience", "needs --oauth-client-id");
    return undefined;
  }
  if (audience === undefined) {
    throw new InputError("--audience", "is required with --oauth-client-id (the federated identity's audience)");
  }
  return { clientId, audience };
}
