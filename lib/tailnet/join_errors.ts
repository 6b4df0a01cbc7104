/** What a failed `tailscale up` means and whether trying again can help. */
export interface JoinFailure {
  readonly message: string;
  readonly hint: string;
  /** Worth retrying until the join deadline (daemon not ready, control plane slow). */
  readonly transient: boolean;
}

const permanent = (message: string, hint: string): JoinFailure => ({ message, hint, transient: false });
const firstLine = (text: string) => text.split("\n")[0];

/** The real CLI's messages (shared/docs/tailscale-cli.md §2.4, §2.2), each with the line that says what to fix. */
const RULES: readonly (readonly [RegExp, (match: RegExpExecArray, text: string) => JoinFailure])[] = [
  [/requested tags \[([^\]]*)\] are invalid or not permitted/, (match) =>
    permanent(
      `the control plane refused tags ${match[1]}`,
      "give each tag a tagOwners entry in the tailnet policy; an OAuth client must own every tag it requests",
    )],
  [/invalid key|unable to validate API key|API key .* not valid/, () =>
    permanent(
      "the auth key was refused (unknown, expired, revoked or a one-off key already used)",
      "create a new reusable, ephemeral key or use an OAuth client secret with the auth_keys scope",
    )],
  // Headscale's words for the same (hscontrol/types/preauth_key.go, db/preauth_keys.go, auth.go at v0.29.2).
  [
    /authkey expired|authkey already used|invalid authkey|auth-key (?:not found|expired|has already been used)|failed to parse auth-key|invalid pre auth key/,
    () =>
      permanent(
        "the auth key was refused (unknown, expired, revoked or a one-off key already used)",
        "create a new key: headscale preauthkeys create --tags <the role's tag> --reusable --ephemeral",
      ),
  ],
  [/token exchange failed with status (\d+)/, (match) =>
    permanent(
      `Tailscale refused this job's OIDC token (token exchange failed with status ${match[1]})`,
      match[1] === "403"
        ? "the federated identity's subject does not match this job's token: compare its subject pattern " +
          "(e.g. repo:<owner>/<repo>:ref:refs/heads/main, or :environment:<name>, :pull_request) and the audience " +
          "with the workflow"
        : "check the federated identity's client ID, issuer (https://token.actions.githubusercontent.com) and audience",
    )],
  [
    /federated identity authkeys require --advertise-tags/,
    () => permanent("a federated identity needs tags", "pass --tags (tailscale_tags)"),
  ],
  [
    /oauth authkeys require --advertise-tags/,
    () => permanent("an OAuth client secret needs tags", "pass --tags (tailscale_tags)"),
  ],
  [/unknown attribute|invalid attribute/, (_, text) =>
    permanent(
      `the OAuth client secret has a bad attribute: ${firstLine(text)}`,
      "only ?ephemeral=…&preauthorized=…&baseURL=… may follow the secret",
    )],
  [
    /^tag: |is not a valid DNS label|too long/,
    (_, text) => permanent(`tailscale refused an argument: ${firstLine(text)}`, "check --tags and --hostname"),
  ],
  [
    /user does not have access to this operation/,
    () => permanent("the OAuth client may not create auth keys", "give the OAuth client the auth_keys (write) scope"),
  ],
];

/** Maps a failed `tailscale up`'s stderr to one line that says what to fix; anything unknown is worth a retry. */
export function classifyJoinFailure(stderr: string): JoinFailure {
  const text = stderr.trim();
  for (const [pattern, describe] of RULES) {
    const match = pattern.exec(text);
    if (match) return describe(match, text);
  }
  return {
    message: `tailscale up failed: ${text.split("\n").slice(-1)[0] || "no message"}`,
    hint: "check the tailscaled log in the state folder",
    transient: true,
  };
}
