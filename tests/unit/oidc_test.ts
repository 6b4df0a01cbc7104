import assert from "node:assert/strict";
import { fetchIdToken, idTokenServiceAvailable } from "../../lib/tailnet/oidc.ts";
import { DnbError } from "../../lib/core/errors.ts";
import { testContext } from "../support/context.ts";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vcjpyZWY6cmVmcy9oZWFkcy9tYWluIn0.c2lnbmF0dXJl";
const SERVICE = {
  ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/token?api-version=2.0",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-secret-123",
};

Deno.test("the token service is there only when the job may request a token (id-token: write)", () => {
  assert.equal(idTokenServiceAvailable(SERVICE), true);
  assert.equal(idTokenServiceAvailable({ ...SERVICE, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "" }), false);
  assert.equal(idTokenServiceAvailable({}), false);
});

Deno.test("the OIDC token is asked for with the audience and the request token, and both are secrets", async () => {
  const requests: { url: string; authorization: string | null }[] = [];
  const ctx = testContext({
    env: SERVICE,
    fetch: (url, init) => {
      requests.push({ url, authorization: new Headers(init.headers).get("authorization") });
      return Promise.resolve(Response.json({ value: JWT }));
    },
  });
  assert.equal(await fetchIdToken(ctx, "api.tailscale.com/TfedAbc"), JWT);
  assert.equal(requests.length, 1);
  const url = new URL(requests[0]!.url);
  assert.equal(url.searchParams.get("api-version"), "2.0");
  assert.equal(url.searchParams.get("audience"), "api.tailscale.com/TfedAbc");
  assert.equal(requests[0]!.authorization, "bearer request-secret-123");
  assert.equal(ctx.redactor.redact("x request-secret-123 y").includes("request-secret-123"), false);
});

Deno.test("a refused or empty answer fails with what to fix", async (t) => {
  // name, the answer, the message, and the hint: only a refusal has a fix the workflow can make.
  const cases: [string, Response, RegExp, RegExp | undefined][] = [
    ["HTTP 403", new Response("forbidden", { status: 403 }), /HTTP 403/, /id-token: write/],
    ["no token in the answer", Response.json({ count: 0 }), /sent no token/, undefined],
    ["not a JWT", Response.json({ value: "hello world" }), /sent no token/, undefined],
  ];
  for (const [name, response, message, hint] of cases) {
    await t.step(name, async () => {
      const ctx = testContext({ env: SERVICE, fetch: () => Promise.resolve(response) });
      await assert.rejects(fetchIdToken(ctx, "aud"), (error: unknown) => {
        assert.ok(error instanceof DnbError);
        assert.match(error.message, message);
        if (hint === undefined) assert.equal(error.hint, undefined);
        else assert.match(error.hint ?? "", hint);
        return true;
      });
    });
  }
});
