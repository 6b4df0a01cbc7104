/**
 * Honest features and free space on the farm: real Nix 2.8, real /dev/kvm permissions, real df, on
 * the tailnet the farm gets (real wherever its binaries can be built).
 */
import assert from "node:assert/strict";
import { createFarm } from "./harness/farm.ts";
import { exitWithin, log, runCoordinator, startBuilder } from "./harness/dnb.ts";
import { farmTest } from "./harness/prerequisites.ts";

/** Whether root opens /dev/kvm read-write on this machine (farm hosts share its /dev). */
function rootOpensKvm(): boolean {
  try {
    Deno.openSync("/dev/kvm", { read: true, write: true }).close();
    return true;
  } catch {
    return false;
  }
}

farmTest(
  "kvm and nixos-test only where builds can open /dev/kvm; each builder's free space in the coordinator's lines",
  async () => {
    // b1 builds as root (the farm's single-user Nix); b2 as Nix's build users, who are not in /dev/kvm's group.
    await using farm = await createFarm({
      hosts: [{ name: "coord" }, { name: "b1" }, { name: "b2", buildUsers: true }],
    });
    const confsBefore = ["b1", "b2"].map((name) => Deno.readTextFileSync(`${farm.host(name).dir}/etc-nix/nix.conf`));
    const builders = ["b1", "b2"].map((name) => startBuilder(farm, name));
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--wait-timeout", "60"]);
    assert.equal(coordinator.code, 0, coordinator.stderr + builders.map(log).join("\n"));

    const features = Object.fromEntries(
      Deno.readTextFileSync(`${farm.host("coord").dir}/etc-nix/machines`).trim().split("\n").slice(1)
        .map((line) => line.split(" "))
        .map((fields) => [fields[0]!.split("@")[1]!.split("?")[0]!, fields[5]!.split(",")]),
    );
    // Nix 2.8 reports benchmark and big-parallel itself; they are passed on as they are.
    for (const name of ["b1", "b2"]) assert.ok(features[name].includes("big-parallel"), `${name}: ${features[name]}`);
    assert.ok(!features.b2.includes("kvm") && !features.b2.includes("nixos-test"), `b2: ${features.b2}`);
    const kvm = rootOpensKvm();
    assert.equal(features.b1.includes("kvm"), kvm, `b1: ${features.b1}`);
    assert.equal(features.b1.includes("nixos-test"), kvm, `b1: ${features.b1}`);
    assert.match(
      log(builders[1]!),
      kvm
        ? /not offering kvm, nixos-test, which Nix reports: \/dev\/kvm does not open read-write for build user nixbld1 \(group nixbld\); --enable-kvm/
        : /not offering nixos-test, which Nix reports: this machine has no \/dev\/kvm/,
    );

    // Nix 2.8 has no build-dir: builds stay in /tmp, nix.conf is untouched, and the free space is told.
    for (const name of ["b1", "b2"]) {
      assert.match(
        coordinator.stderr,
        new RegExp(
          `dnb: ${name} 100\\.64\\.\\S+ .* builds in /tmp \\(\\d+\\.\\d GiB free\\), /nix \\d+\\.\\d GiB free, ready in`,
        ),
      );
      assert.match(log(builders[name === "b1" ? 0 : 1]!), /Nix 2\.8\.0 has no build-dir setting/);
    }
    const info = JSON.parse(Deno.readTextFileSync(`${farm.host("b1").dir}/tmp/dnb/info.json`));
    assert.equal(info.disk.buildDir, "/tmp");
    assert.ok(info.disk.buildDirFreeBytes > 0 && info.disk.storeFreeBytes > 0);
    // Same Nix everywhere: no protocol warning; Nix 2.8 prints no Trusted line: no trust complaint either.
    assert.doesNotMatch(coordinator.stderr, /daemon protocol|does not trust/);

    for (const name of ["b1", "b2"]) Deno.writeTextFileSync(`${farm.host(name).dir}/tmp/dnb/done`, "");
    for (const builder of builders) assert.equal((await exitWithin(builder, 15_000)).code, 0, log(builder));
    assert.deepEqual(
      ["b1", "b2"].map((name) => Deno.readTextFileSync(`${farm.host(name).dir}/etc-nix/nix.conf`)),
      confsBefore,
    );
  },
);
