import type { Config } from "../config/config.ts";
import { statePath } from "../core/state_dir.ts";
import { type AuthKey } from "../config/credentials.ts";

/** Where a system tailscaled listens (tailscale-cli.md §3.1). */
export function systemTailscaledSocket(os: string): string {
  return os === "darwin" ? "/var/run/tailscaled.socket" : "/var/run/tailscale/tailscaled.sock";
}

/** Where a tailscaled that dnb starts keeps its socket and (in-memory) state. */
export function tailscaledPaths(stateDir: string): { socket: string; stateDir: string } {
  return { socket: statePath(stateDir, "tailscaledSocket"), stateDir: statePath(stateDir, "tailscaledState") };
}

/** `--state=mem:` makes the node ephemeral whatever the key; `--statedir` gives Tailscale SSH its host keys. */
export function tailscaledArgv(bin: string, stateDir: string): string[] {
  const paths = tailscaledPaths(stateDir);
  return [bin, "--state=mem:", `--statedir=${paths.stateDir}`, `--socket=${paths.socket}`];
}

/**
 * What goes in the key file that `tailscale up` reads. OAuth client secrets need
 * `ephemeral` and `preauthorized` set, as Tailscale documents; values the user set win.
 */
export function authKeyForUp(key: AuthKey): string {
  if (key.kind !== "oauth-client-secret") return key.value;
  const query = key.value.includes("?") ? key.value.slice(key.value.indexOf("?") + 1) : "";
  const given = new URLSearchParams(query);
  // Append only what is missing and keep the user's text as written.
  const added = ["ephemeral", "preauthorized"].filter((name) => !given.has(name)).map((name) => `${name}=true`);
  if (added.length === 0) return key.value;
  const separator = query === "" ? (key.value.endsWith("?") ? "" : "?") : "&";
  return `${key.value}${separator}${added.join("&")}`;
}

/** How `tailscale up` proves itself: a key, or workload identity federation; secrets only in 0600 files. */
export type UpCredential =
  | { readonly kind: "key-file"; readonly path: string }
  | { readonly kind: "federated"; readonly clientId: string; readonly idTokenFile: string };

/**
 * What `tailscale up` will read, and from which 0600 file of the state folder: the auth key when
 * one is given, else the OIDC token of a federated identity.
 */
export function upCredential(
  config: Pick<Config, "stateDir" | "authKey" | "federated">,
): { credential: UpCredential; file: string } {
  if (config.authKey !== undefined || config.federated === undefined) {
    const file = statePath(config.stateDir, "authKey");
    return { credential: { kind: "key-file", path: file }, file };
  }
  const file = statePath(config.stateDir, "idToken");
  return { credential: { kind: "federated", clientId: config.federated.clientId, idTokenFile: file }, file };
}

/**
 * With a `?` on the client ID, Tailscale takes every attribute left out as false (tailscale-cli.md §2.3),
 * so both are spelled out: an ephemeral node that needs no device approval.
 */
function credentialArgs(credential: UpCredential): string[] {
  return credential.kind === "key-file" ? [`--auth-key=file:${credential.path}`] : [
    `--client-id=${credential.clientId}?ephemeral=true&preauthorized=true`,
    `--id-token=file:${credential.idTokenFile}`,
  ];
}

/** What `tailscale up` is told: the node's own settings from the config, and how to reach the daemon. */
export interface UpOptions
  extends Pick<Config, "hostname" | "tags" | "acceptRoutes" | "tailscaleUpArgs" | "loginServer" | "authKey"> {
  readonly bin: string;
  /** Absent when reusing the system's tailscaled. */
  readonly socket?: string;
  readonly credential: UpCredential;
  /** Builders run Tailscale SSH so the coordinator reaches them without keys. */
  readonly ssh: boolean;
  readonly timeoutSeconds: number;
}

/** Secrets travel as `file:<path>`, never on the command line; peers are addressed by IP, so no tailnet DNS. */
export function tailscaleUpArgv(options: UpOptions): string[] {
  return [
    options.bin,
    ...socketArgs(options.socket),
    "up",
    ...credentialArgs(options.credential),
    ...(options.loginServer ? [`--login-server=${options.loginServer}`] : []),
    `--hostname=${options.hostname}`,
    // Headscale gives a node its pre-auth key's tags and refuses one that asks for any itself.
    ...(options.authKey?.kind === "headscale-pre-auth-key" ? [] : [`--advertise-tags=${options.tags.join(",")}`]),
    ...(options.ssh ? ["--ssh"] : []),
    ...(options.acceptRoutes ? ["--accept-routes"] : []),
    "--accept-dns=false",
    `--timeout=${options.timeoutSeconds}s`,
    // The user's own flags, validated at the edge, come last.
    ...options.tailscaleUpArgs,
  ];
}

export function tailscaleStatusArgv(bin: string, socket?: string): string[] {
  return [bin, ...socketArgs(socket), "status", "--json"];
}

export function tailscaleLogoutArgv(bin: string, socket?: string): string[] {
  return [bin, ...socketArgs(socket), "logout"];
}

function socketArgs(socket: string | undefined): string[] {
  return socket === undefined ? [] : [`--socket=${socket}`];
}
