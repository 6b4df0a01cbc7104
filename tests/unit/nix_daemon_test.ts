import assert from "node:assert/strict";
import { daemonRestartArgv } from "../../lib/nix_daemon.ts";
import { effectiveBuilders } from "../../lib/nix_probe.ts";
import { confirmBuilders } from "../../lib/nix_setup.ts";
import { FakeRunner } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";

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
  const bin = Deno.makeTempDirSync({ prefix: "dnb-nix-bin-" });
  try {
    Deno.writeTextFileSync(`${bin}/nix`, "", { mode: 0o755 });
    const config = builders === undefined ? "{}" : JSON.stringify({ builders: { value: builders } });
    const runner = new FakeRunner([{ when: (argv) => argv.includes("show"), stdout: config }]);
    const ctx = { ...testContext({ env: { PATH: bin } }), runner };
    await confirmBuilders(ctx);
    assert.deepEqual(runner.calls[0]?.argv, [
      `${bin}/nix`,
      "--extra-experimental-features",
      "nix-command",
      "config",
      "show",
      "--json",
    ]);
    return ctx.stderr;
  } finally {
    Deno.removeSync(bin, { recursive: true });
  }
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
