/**
 * Leases, the watchdog, late and lost builders, and teardown that gives every file back, on the
 * real tailnet (Headscale, tailscaled, Tailscale SSH).
 */
import assert from "node:assert/strict";
import { createFarm, type Farm, TWO_SYSTEM_HOSTS } from "./harness/farm.ts";
import {
  coordinatorFiles,
  exitWithin,
  log,
  runCoordinator,
  runDnb,
  startBuilder,
  startCoordinator,
} from "./harness/dnb.ts";
import { buildOnFarm, probeDerivations } from "./harness/nix_fixtures.ts";
import { realTailnetTest } from "./harness/prerequisites.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";
import { eventually } from "../support/eventually.ts";

async function peersOfCoordinator(farm: Farm): Promise<string[]> {
  const status = await farm.run("coord", ["tailscale", "--socket=/tmp/dnb/tailscaled.sock", "status", "--json"]);
  return parseStatus(status.stdout).peers.map((peer) => peer.hostName).sort();
}

/** Whether a pid is a process that has not yet ended (a zombie has ended). */
function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

const machinesOf = (farm: Farm) => Deno.readTextFileSync(`${farm.host("coord").dir}/etc-nix/machines`);

realTailnetTest("stop releases every builder within 15 s and gives each file back byte for byte", async (t) => {
  const cases = [
    { name: "no machines file before", setup: (_farm: Farm) => {} },
    {
      name: "a machines file and a nix.conf without a final newline before",
      setup: (farm: Farm) => {
        const dir = farm.host("coord").dir;
        Deno.writeTextFileSync(`${dir}/etc-nix/machines`, "ssh://old-builder x86_64-linux\n");
        Deno.writeTextFileSync(`${dir}/etc-nix/nix.conf`, Deno.readTextFileSync(`${dir}/etc-nix/nix.conf`).trimEnd());
      },
    },
  ];
  for (const testCase of cases) {
    await t.step(testCase.name, async () => {
      await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
      testCase.setup(farm);
      const before = coordinatorFiles(farm);
      const builders = ["b1", "b2"].map((name) => startBuilder(farm, name));
      const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--wait-timeout", "60"]);
      assert.equal(coordinator.code, 0, coordinator.stderr);
      assert.notDeepEqual(coordinatorFiles(farm), before);
      assert.deepEqual(await peersOfCoordinator(farm), ["b1", "b2"]);

      const started = performance.now();
      // The name users know: the coordinator installed it.
      const stop = await farm.run("coord", ["/tmp/dnb/bin/stop-nix-builders"], { timeoutMs: 60_000 });
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stderr, /dnb: stop: released b1, b2/);
      // The pid file names the watchdog (its command line is checked before it is signalled).
      assert.match(stop.stderr, /dnb: stop: watchdog stopped\n/);
      const exits = await Promise.all(builders.map((builder) => exitWithin(builder, 15_000)));
      assert.deepEqual(exits.map((exit) => exit.code), [0, 0]);
      assert.ok((performance.now() - started) / 1000 <= 15);
      // Headscale deletes each ephemeral node at its logout and tells the peers in the next netmap.
      await eventually(
        "the builders' nodes are gone",
        async () => (await peersOfCoordinator(farm)).length === 0,
        10_000,
      );
      assert.deepEqual(coordinatorFiles(farm), before);

      const again = await runDnb(farm, "coord", ["stop"]);
      assert.equal(again.code, 0);
      assert.match(again.stderr, /^dnb: stop: already stopped at .*; nothing to do\n$/);
      const session = JSON.parse(Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/tailscale.json`));
      const post = await runDnb(farm, "coord", ["post"]);
      assert.equal(post.code, 0, post.stderr);
      assert.match(post.stderr, /dnb: post: stop already ran\ndnb: post: logged this node out of the tailnet\n/);
      // Its command line names dnb's socket, so post stops the tailscaled dnb started.
      await eventually("post stops dnb's tailscaled", () => !isRunning(session.daemonPid), 10_000);
      const postAgain = await runDnb(farm, "coord", ["post"]);
      assert.equal(postAgain.code, 0);
      assert.match(postAgain.stderr, /dnb: post: no tailnet session of dnb's here/);
      const noState = await runDnb(farm, "coord", ["post", "--state-dir", "/tmp/elsewhere"]);
      assert.equal(noState.code, 0);
      assert.match(noState.stderr, /dnb: post: no coordinator state in \/tmp\/elsewhere/);
      assert.deepEqual(coordinatorFiles(farm), before);
    });
  }
});

realTailnetTest(
  "coordinator lost (watchdog killed, or its link down) with --lease 8: builders exit 1 within 13 s",
  async (t) => {
    const cases: [string, (farm: Farm) => Promise<void>][] = [
      ["watchdog killed", (farm) => {
        const pid = Number(Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/watchdog.pid`));
        Deno.kill(pid, "SIGKILL");
        return Promise.resolve();
      }],
      ["coordinator link down", (farm) => farm.setLink("coord", "down")],
    ];
    for (const [name, loseCoordinator] of cases) {
      await t.step(name, async () => {
        await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }, { name: "b2" }] });
        const builders = ["b1", "b2"].map((host) => startBuilder(farm, host, ["--lease", "8"]));
        const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--lease", "8"]);
        assert.equal(coordinator.code, 0, coordinator.stderr);
        // The watchdog keeps the leases fresh past the lease itself.
        await new Promise((resolve) => setTimeout(resolve, 10_000));
        assert.deepEqual(builders.map(log).filter((text) => text.includes("coordinator lost")), []);
        await loseCoordinator(farm);
        const exits = await Promise.all(builders.map((builder) => exitWithin(builder, 13_000)));
        assert.deepEqual(exits.map((exit) => exit.code), [1, 1]);
        for (const builder of builders) {
          assert.match(log(builder), /coordinator lost: the lease was not renewed for 8s/);
        }
      });
    }
  },
);

realTailnetTest(
  "a builder lost mid-build leaves the machines file; that build fails, the re-run succeeds elsewhere",
  async () => {
    await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }, { name: "b2" }] });
    for (const host of ["b1", "b2"]) startBuilder(farm, host, ["--lease", "8"]);
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--lease", "8"]);
    assert.equal(coordinator.code, 0, coordinator.stderr);
    const slow = 'derivation { name = "slow"; system = "x86_64-linux"; nonce = "' + crypto.randomUUID() +
      '"; builder = "/bin/sh"; args = [ "-c" "/bin/sleep 12; /bin/grep \'^# host=\' /etc/nix/nix.conf > $out" ]; }\n';
    const build = buildOnFarm(farm, slow, { name: "slow" });
    let busy = "";
    await eventually("a builder starts the build", async () => {
      for (const host of ["b1", "b2"]) {
        if ((await farm.processes(host)).some((line) => line.includes("/bin/sleep 12"))) busy = host;
      }
      return busy !== "";
    }, 30_000);
    await farm.setLink(busy, "down");
    const dropped = await eventually(
      "the lost builder leaves the machines file",
      () => !machinesOf(farm).includes(`@${busy}?`),
      15_000,
    );
    const failed = await build;
    assert.notEqual(failed.code, 0, "the build on the lost builder cannot succeed");
    const status = JSON.parse((await runDnb(farm, "coord", ["status", "--json"])).stdout);
    assert.equal(
      status.builders.find((builder: { name: string }) => builder.name === busy).state,
      "lost",
    );
    const again = await buildOnFarm(farm, slow, { name: "slow" });
    assert.equal(again.code, 0, again.stderr);
    const other = busy === "b1" ? "b2" : "b1";
    assert.deepEqual(again.outputs, [`# host=${other}\n`]);
    console.log(`lost builder dropped ${dropped.toFixed(1)}s after its link went down (lease 8, heartbeat every 2s)`);
  },
);

realTailnetTest(
  "a builder that joins after the coordinator exited is claimed and used, even by a running nix-daemon",
  async () => {
    await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
    startBuilder(farm, "b1", ["--hostname", "run-5-b1"]);
    // Two wanted, one there at the wait timeout: the farm goes ahead, and the watchdog claims the second when it
    // comes (never more than --expect: a third would not be claimed).
    const coordinator = await runCoordinator(farm, "coord", [
      "--discover-prefix",
      "run-5-",
      "--expect",
      "2",
      "--min-builders",
      "1",
      "--wait-timeout",
      "10",
      "--lease",
      "8",
    ]);
    assert.equal(coordinator.code, 0, coordinator.stderr);
    assert.ok(!machinesOf(farm).includes("aarch64-linux"));
    // A daemon that read nix.conf before the late builder came: it must see the rewritten machines file.
    farm.spawn("coord", ["nix-daemon"]);
    await eventually("nix-daemon listens", () => {
      try {
        return Deno.statSync(`${farm.host("coord").dir}/nix/var/nix/daemon-socket/socket`).isSocket === true;
      } catch {
        return false;
      }
    }, 10_000);
    startBuilder(farm, "b2", ["--hostname", "run-5-b2"]);
    await eventually("the watchdog claims the late builder", () => machinesOf(farm).includes("@run-5-b2?"), 30_000);
    const build = await buildOnFarm(farm, probeDerivations({ "aarch64-linux": 2 }, crypto.randomUUID()), {
      name: "late",
      env: { NIX_REMOTE: "daemon" },
    });
    assert.equal(build.code, 0, build.stderr);
    assert.deepEqual(build.records.map((record) => record.host), ["b2", "b2"]);
    const watchdogLog = Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/watchdog.log`);
    assert.match(watchdogLog, /watchdog: claimed late builder run-5-b2 \(aarch64-linux\)/);
  },
);

realTailnetTest("SIGTERM to a coordinator still waiting for builders leaves every file as it was", async () => {
  await using farm = await createFarm({ hosts: [{ name: "coord" }] });
  const before = coordinatorFiles(farm);
  const coordinator = startCoordinator(farm, "coord", ["--builders", "ghost", "--wait-timeout", "60"]);
  await eventually("the coordinator waits", () => log(coordinator).includes("joined the tailnet"), 30_000);
  coordinator.kill("SIGTERM");
  assert.equal((await exitWithin(coordinator, 15_000)).code, 1);
  assert.match(log(coordinator), /dnb: coordinator stopped by SIGTERM\n$/);
  assert.deepEqual(coordinatorFiles(farm), before);
});

realTailnetTest(
  "status shows each builder's state, address, systems and heartbeat, in text and versioned JSON",
  async () => {
    await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }] });
    startBuilder(farm, "b1", ["--lease", "8"]);
    assert.equal((await runCoordinator(farm, "coord", ["--builders", "b1", "--lease", "8"])).code, 0);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const json = JSON.parse((await runDnb(farm, "coord", ["status", "--json"])).stdout);
    assert.equal(json.version, 1);
    assert.equal(json.coordinator, "coord");
    assert.equal(json.watchdog.running, true);
    assert.equal(json.stoppedAt, null);
    assert.deepEqual(Object.keys(json.builders[0]), [
      "name",
      "address",
      "systems",
      "cores",
      "maxJobs",
      "features",
      "link",
      "claimedAt",
      "lastHeartbeat",
      "state",
      "usage",
    ]);
    assert.equal(json.builders[0].state, "ready");
    assert.equal(json.builders[0].link, "direct");
    assert.ok(Date.parse(json.builders[0].lastHeartbeat) > Date.parse(json.builders[0].claimedAt));
    const text = await runDnb(farm, "coord", ["status"]);
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /^coordinator coord, ready at .*, lease 8s, watchdog running \(pid \d+\)\nb1 +ready +100\.64\.0\.\d+ .* link direct,/,
    );
  },
);
