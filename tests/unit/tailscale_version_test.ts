import assert from "node:assert/strict";
import { DnbError } from "../../lib/core/errors.ts";
import { atLeast, parseTailscaleVersion, requireKeylessSupport } from "../../lib/tailnet/version.ts";
import { FakeRunner } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";

Deno.test("Tailscale versions are read as released, go-installed and development builds print them", () => {
  assert.deepEqual(parseTailscaleVersion("1.94.2\n  tailscale commit: abc\n"), [1, 94, 2]);
  assert.deepEqual(parseTailscaleVersion("1.102.3-ERR-BuildInfo"), [1, 102, 3]);
  assert.deepEqual(parseTailscaleVersion("1.90.4-t3caf7d9e7-g084ee3b64"), [1, 90, 4]);
  assert.equal(parseTailscaleVersion("unknown"), undefined);
  assert.ok(atLeast([1, 90, 4], [1, 90, 4]));
  assert.ok(atLeast([1, 102, 0], [1, 90, 4]), "compared as numbers, not text");
  assert.ok(!atLeast([1, 90, 3], [1, 90, 4]));
  assert.ok(!atLeast([1, 9, 99], [1, 90, 4]));
});

function withVersion(stdout: string, code = 0) {
  const ctx = testContext();
  return {
    ...ctx,
    runner: new FakeRunner([{ when: (argv) => argv[1] === "version", stdout, code }]),
  };
}

Deno.test("a keyless join refuses Tailscale 1.90.0 to 1.90.3 and one that prints no version, naming both", async () => {
  for (
    const [stdout, code, message] of [
      ["1.90.3\n", 0, /tailscale is Tailscale 1\.90\.3; a keyless join needs 1\.90\.4 or later/],
      ["1.88.1\n", 0, /Tailscale 1\.88\.1; a keyless join needs 1\.90\.4/],
      ["", 1, /did not print a version, and a keyless join needs 1\.90\.4 or later/],
    ] as const
  ) {
    await assert.rejects(
      requireKeylessSupport(withVersion(stdout, code), "tailscale"),
      (error: Error) => error instanceof DnbError && message.test(error.message),
    );
  }
});

Deno.test("a keyless join goes ahead with Tailscale 1.90.4 and later", async () => {
  for (const stdout of ["1.90.4\n", "1.94.2\n", "1.102.3-ERR-BuildInfo\n"]) {
    const ctx = withVersion(stdout);
    await requireKeylessSupport(ctx, "/usr/bin/tailscale");
    assert.deepEqual(ctx.runner.calls.map((call) => call.argv), [["/usr/bin/tailscale", "version"]]);
  }
});
