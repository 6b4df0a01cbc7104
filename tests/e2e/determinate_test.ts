/**
 * A coordinator laid out as Determinate Nix installs it: nix.conf `!include`s nix.custom.conf, which
 * is where users (and dnb) put their settings; what Nix then reads is checked, and stop gives both back.
 * On the tailnet the farm gets (real wherever its binaries can be built): the layout is the point here.
 */
import assert from "node:assert/strict";
import { createFarm } from "./harness/farm.ts";
import { log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { farmTest } from "./harness/prerequisites.ts";

farmTest("Determinate layout: the block goes in nix.custom.conf, Nix reads it back, stop restores both", async () => {
  await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }] });
  const etc = `${farm.host("coord").dir}/etc-nix`;
  Deno.writeTextFileSync(
    `${etc}/nix.conf`,
    Deno.readTextFileSync(`${etc}/nix.conf`) + "!include /etc/nix/nix.custom.conf\n",
  );
  Deno.writeTextFileSync(`${etc}/nix.custom.conf`, "# the user's own settings\nkeep-outputs = true\n");
  const before = ["nix.conf", "nix.custom.conf"].map((name) => Deno.readTextFileSync(`${etc}/${name}`));

  const builder = startBuilder(farm, "b1");
  const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "60"]);
  assert.equal(coordinator.code, 0, coordinator.stderr + log(builder));
  assert.equal(Deno.readTextFileSync(`${etc}/nix.conf`), before[0], "nix.conf itself is left alone");
  assert.match(
    Deno.readTextFileSync(`${etc}/nix.custom.conf`),
    /^# the user's own settings\nkeep-outputs = true\n# >>> dnb >>>\nbuilders = @\/etc\/nix\/machines\n/,
  );
  assert.match(coordinator.stderr, /dnb: Nix now reads builders = @\/etc\/nix\/machines\n/);
  // Nix itself reads the block's settings back, the postponed-build poll included.
  const config = await farm.run("coord", ["nix", "show-config"]);
  assert.match(config.stdout, /^build-poll-interval = 1$/m, config.stderr);
  assert.match(config.stdout, /^builders-use-substitutes = true$/m);

  assert.equal((await runDnb(farm, "coord", ["stop"])).code, 0);
  assert.deepEqual(["nix.conf", "nix.custom.conf"].map((name) => Deno.readTextFileSync(`${etc}/${name}`)), before);
});
