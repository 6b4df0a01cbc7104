import assert from "node:assert/strict";
import { classifyJoinFailure } from "../../lib/tailnet/join_errors.ts";

Deno.test("each known `tailscale up` failure maps to what to fix, and only unknown ones are retried", async (t) => {
  // name, what tailscale up printed, the message, the hint (what to fix), and whether a retry can help.
  const cases: [string, string, RegExp, RegExp, boolean][] = [
    [
      "refused tags",
      "backend error: requested tags [tag:prod tag:x] are invalid or not permitted",
      /refused tags tag:prod tag:x/,
      /tagOwners entry/,
      false,
    ],
    [
      "unknown key",
      "backend error: invalid key: API key does not exist",
      /auth key was refused/,
      /new reusable, ephemeral key/,
      false,
    ],
    [
      "used one-off key",
      "backend error: invalid key: API key kAbc not valid",
      /auth key was refused/,
      /new reusable, ephemeral key/,
      false,
    ],
    // Headscale's refusals of a pre-auth key, as the real tailscale 1.94.2 prints them.
    ...["authkey expired", "authkey already used", "invalid authkey", "invalid pre auth key"].map((
      reason,
    ): [string, string, RegExp, RegExp, boolean] => [
      `Headscale: ${reason}`,
      `backend error: ${reason}`,
      /auth key was refused/,
      /headscale preauthkeys create/,
      false,
    ]),
    [
      "OAuth without tags",
      "oauth authkeys require --advertise-tags",
      /OAuth client secret needs tags/,
      /^pass --tags/,
      false,
    ],
    [
      "OAuth scope",
      "user does not have access to this operation",
      /may not create auth keys/,
      /auth_keys \(write\) scope/,
      false,
    ],
    [
      "OIDC subject mismatch",
      'failed to exchange JWT for access token: token exchange failed with status 403: {"message":"forbidden"}',
      /refused this job's OIDC token \(token exchange failed with status 403\)/,
      /subject/,
      false,
    ],
    [
      "federated without tags",
      "federated identity authkeys require --advertise-tags",
      /needs tags/,
      /^pass --tags/,
      false,
    ],
    [
      "daemon not ready",
      "failed to connect to local tailscaled; it doesn't appear to be running",
      /tailscale up failed/,
      /tailscaled log/,
      true,
    ],
    [
      "slow control",
      'timeout waiting for Tailscale service to enter a Running state; check health with "tailscale status"',
      /tailscale up failed/,
      /tailscaled log/,
      true,
    ],
  ];
  for (const [name, stderr, message, hint, transient] of cases) {
    await t.step(name, () => {
      const failure = classifyJoinFailure(stderr);
      assert.match(failure.message, message);
      assert.equal(failure.transient, transient);
      assert.ok(failure.hint.length > 0);
      assert.match(failure.hint, hint);
    });
  }
});
