import { Files } from "../../lib/core/files.ts";
import assert from "node:assert/strict";
import { daemonRestartArgv, queryStore } from "../../lib/nix/daemon.ts";
import { DenoRunner } from "../../lib/core/exec.ts";
import { findOnPath } from "../../lib/core/path_lookup.ts";
import { effectiveBuilders } from "../../lib/nix/probe.ts";

import { FakeRunner } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";
import { readBuildersSetting, reportBuildersSetting } from "../../lib/nix/apply.ts";

Deno.test("the daemon restarts under its own name: systemd, launchd, Determinate's launchd job", () => {
  assert.deepEqual(daemonRestartArgv("linux"), ["systemctl", "restart", "nix-daemon.service"]);
  assert.deepEqual(daemonRestartArgv("linux", true), ["systemctl", "restart", "nix-daemon.service"]);
  assert.deepEqual(daemonRestartArgv("darwin"), ["launchctl", "kickstart", "-k", "system/org.nixos.nix-daemon"]);
  assert.deepEqual(daemonRestartArgv("darwin", true), [
    "launchctl",
    "kickstart",
    "-k",
    "system/systems.determinate.nix-daemon",
  ]);
  assert.equal(daemonRestartArgv("freebsd"), undefined);
});

Deno.test("the builders value is read from Nix's own configuration", () => {
  assert.equal(effectiveBuilders('{"builders":{"value":"@/etc/nix/machines"}}'), "@/etc/nix/machines");
  assert.equal(effectiveBuilders('{"builders":{"value":""}}'), "");
  assert.equal(effectiveBuilders('{"system":{"value":"x86_64-linux"}}'), undefined);
});

async function confirmWith(builders: string | undefined): Promise<string[]> {
  const config = builders === undefined ? "{}" : JSON.stringify({ builders: { value: builders } });
  const runner = new FakeRunner([{ when: (argv) => argv.includes("show"), stdout: config }]);
  const ctx = { ...testContext({ env: { PATH: "/usr/bin" } }), runner };
  ctx.files.writeAtomic("/usr/bin/nix", "", 0o755);
  reportBuildersSetting(ctx, await readBuildersSetting(ctx));
  assert.deepEqual(runner.calls[0]?.argv, [
    "/usr/bin/nix",
    "--extra-experimental-features",
    "nix-command",
    "config",
    "show",
    "--json",
  ]);
  return ctx.stderr;
}

Deno.test("after configuring, dnb reads back what Nix uses and warns when something else wins", async () => {
  assert.deepEqual(await confirmWith("@/etc/nix/machines"), ["dnb: Nix now reads builders = @/etc/nix/machines"]);
  const [overridden] = await confirmWith("ssh://other x86_64-linux");
  assert.match(
    overridden!,
    /^dnb: warning: Nix reads builders = "ssh:\/\/other x86_64-linux", not @\/etc\/nix\/machines/,
  );
  const [unknown] = await confirmWith(undefined);
  assert.match(unknown!, /could not ask Nix/);
});

Deno.test("a store is asked with `nix store info`, and `nix store ping` only where Nix has no info command", async () => {
  const notRecognised = "error: 'info' is not a recognised command\nTry 'nix --help' for more information.\n";
  const old = new FakeRunner([
    { when: (argv) => argv[4] === "info", code: 1, stderr: notRecognised },
    { when: (argv) => argv[4] === "ping", stderr: "Store URL: daemon\n" },
  ]);
  assert.equal((await queryStore(old, { storeUri: "daemon", timeoutMs: 1000 })).code, 0);
  assert.deepEqual(old.calls.map((call) => call.argv[4]), ["info", "ping"]);

  // A store that does not answer is not asked twice: the second ssh session would fail the same way.
  const down = new FakeRunner([{ when: () => true, code: 1, stderr: "error: cannot connect to 'b1'\n" }]);
  assert.equal((await queryStore(down, { storeUri: "ssh-ng://root@b1", timeoutMs: 1000 })).code, 1);
  assert.deepEqual(down.calls.map((call) => call.argv[4]), ["info"]);

  const current = new FakeRunner([{ when: (argv) => argv[4] === "info", stderr: "Store URL: daemon\n" }]);
  await queryStore(current, { storeUri: "daemon", nix: "/nix/bin/nix", timeoutMs: 1000 });
  assert.deepEqual(current.calls.map((call) => call.argv), [
    ["/nix/bin/nix", "--extra-experimental-features", "nix-command", "store", "info", "--store", "daemon"],
  ]);
});

const nix = findOnPath(new Files(), "nix", Deno.env.get("PATH") ?? "");
Deno.test({
  name: "the real Nix on this machine answers the store query, by info or by its older name",
  // CI installs Nix (2.8 from Debian, which has only `store ping`): there this test must run.
  ignore: nix === undefined && Deno.env.get("CI") !== "true",
  fn: async () => {
    const result = await queryStore(new DenoRunner(), { storeUri: "dummy://", nix: nix ?? "nix", timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Store URL: dummy/m);
  },
});

Deno.test("a Nix known to predate `store info` (before 2.19) is asked with `ping` at once: no extra process per claim", async () => {
  const ask = async (nixVersion: string | undefined) => {
    const runner = new FakeRunner([{ when: (argv) => argv[4] === "ping" }, { when: (argv) => argv[4] === "info" }]);
    await queryStore(runner, { storeUri: "ssh-ng://root@b1", nixVersion, timeoutMs: 1000 });
    return runner.calls.map((call) => call.argv[4]);
  };
  assert.deepEqual(await ask("2.8.0"), ["ping"]);
  assert.deepEqual(await ask("2.18.9"), ["ping"]);
  assert.deepEqual(await ask("2.19.0"), ["info"]);
  assert.deepEqual(await ask("2.24.9"), ["info"]);
  // Lix numbers its releases from 2.90: asked like an unknown version, info first.
  assert.deepEqual(await ask("2.93.0"), ["info"]);
  assert.deepEqual(await ask(undefined), ["info"]);
});
