/** What a failed `tailscale up` means and whether trying again can help. */
export interface JoinFailure {
  readonly message: string;
  readonly hint: string;
  /** Worth retrying until the join deadline (daemon not ready, control plane slow). */
  readonly transient: boolean;
}

/** Maps the real CLI's messages (shared/docs/tailscale-cli.md §2.4, §2.2) to one line that says what to fix. */
export function classifyJoinFailure(stderr: string): JoinFailure {
  const text = stderr.trim();
  const tags = /requested tags \[([^\]]*)\] are invalid or not permitted/.exec(text)?.[1];
  if (tags !== undefined) {
    return {
      message: `the control plane refused tags ${tags}`,
      hint: "give each tag a tagOwners entry in the tailnet policy; an OAuth client must own every tag it requests",
      transient: false,
    };
  }
  if (/invalid key|unable to validate API key|API key .* not valid/.test(text)) {
    return {
      message: "the auth key was refused (unknown, expired, revoked or a one-off key already used)",
      hint: "create a new reusable, ephemeral key or use an OAuth client secret with the auth_keys scope",
      transient: false,
    };
  }
  const exchange = /token exchange failed with status (\d+)/.exec(text)?.[1];
  if (exchange !== undefined) {
    return {
      message: `Tailscale refused this job's OIDC token (token exchange failed with status ${exchange})`,
      hint: exchange === "403"
        ? "the federated identity's subject does not match this job's token: compare its subject pattern " +
          "(e.g. repo:<owner>/<repo>:ref:refs/heads/main, or :environment:<name>, :pull_request) and the audience " +
          "with the workflow"
        : "check the federated identity's client ID, issuer (https://token.actions.githubusercontent.com) and audience",
      transient: false,
    };
  }
  if (/federated identity authkeys require --advertise-tags/.test(text)) {
    return { message: "a federated identity needs tags", hint: "pass --tags (tailscale_tags)", transient: false };
  }
  if (/oauth authkeys require --advertise-tags/.test(text)) {
    return { message: "an OAuth client secret needs tags", hint: "pass --tags (tailscale_tags)", transient: false };
  }
  if (/unknown attribute|invalid attribute/.test(text)) {
    return {
      message: `the OAuth client secret has a bad attribute: ${text.split("\n")[0]}`,
      hint: "only ?ephemeral=…&preauthorized=…&baseURL=… may follow the secret",
      transient: false,
    };
  }
  if (/^tag: |is not a valid DNS label|too long/.test(text)) {
    return {
      message: `tailscale refused an argument: ${text.split("\n")[0]}`,
      hint: "check --tags and --hostname",
      transient: false,
    };
  }
  if (/user does not have access to this operation/.test(text)) {
    return {
      message: "the OAuth client may not create auth keys",
      hint: "give the OAuth client the auth_keys (write) scope",
      transient: false,
    };
  }
  return {
    message: `tailscale up failed: ${text.split("\n").slice(-1)[0] || "no message"}`,
    hint: "check the tailscaled log in the state folder",
    transient: true,
  };
}
