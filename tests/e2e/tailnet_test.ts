/**
 * What only the real tailnet shows (Headscale, the real tailscaled, Tailscale SSH): direct and
 * relayed paths, ephemeral nodes leaving the control server's list, and a builder restarted under
 * its old name.
 */
import assert from "node:assert/strict";
import { createFarm, type Farm } from "./harness/farm.ts";
import { exitWithin, log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { realTailnetTest } from "./harness/prerequisites.ts";
import { eventually } from "../support/eventually.ts";

const COORD_AND_B1 = [{ name: "coord" }, { name: "b1" }];

async function node(farm: Farm, hostName: string) {
  return (await farm.nodes()).filter((candidate) => candidate.hostName === hostName);
}

async function waitUntilClaimable(builder: ReturnType<typeof startBuilder>): Promise<void> {
  await eventually(
    () => `b1 waits to be claimed; its log:\n${log(builder)}`,
    () => log(builder).includes("waiting"),
    30_000,
  );
}

realTailnetTest(
  "no UDP between two runners: the link is relayed through DERP and dnb warns; open again, direct",
  async () => {
    await using farm = await createFarm({ hosts: COORD_AND_B1 });
    await farm.setDirectPath("coord", "b1", "blocked");
    const builder = startBuilder(farm, "b1");
    await waitUntilClaimable(builder);
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "60"]);
    assert.equal(coordinator.code, 0, coordinator.stderr + log(builder));
    assert.match(coordinator.stderr, /dnb: b1 100\.64\.0\.\d+ .* link relayed \(DERP headscale\),/);
    assert.match(coordinator.stderr, /warning: b1 is reached through DERP headscale, not directly/);

    await farm.setDirectPath("coord", "b1", "open");
    // Tailscale upgrades the path on its own once UDP passes (the watchdog's heartbeats keep traffic flowing).
    await eventually(
      "dnb status says direct",
      async () => (await runDnb(farm, "coord", ["status"])).stdout.includes("link direct,"),
      60_000,
      1000,
    );
  },
);

realTailnetTest("an ephemeral builder that logs out is gone from Headscale at once", async () => {
  await using farm = await createFarm({ hosts: COORD_AND_B1 });
  const builder = startBuilder(farm, "b1");
  await waitUntilClaimable(builder);
  assert.equal((await node(farm, "b1")).length, 1);
  const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "60"]);
  assert.equal(coordinator.code, 0, coordinator.stderr);
  const stop = await runDnb(farm, "coord", ["stop"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await exitWithin(builder, 20_000)).code, 0);
  // The builder logged out before it exited: Headscale deleted its node then, not later.
  assert.deepEqual(await node(farm, "b1"), []);
});

realTailnetTest(
  "an ephemeral builder whose link dies goes offline, then is removed after Headscale's inactivity timeout",
  async () => {
    await using farm = await createFarm({ hosts: [{ name: "b1" }], inactivityTimeoutSeconds: 66 });
    const builder = startBuilder(farm, "b1");
    await waitUntilClaimable(builder);
    // No packet says the node left: Headscale learns it only when TCP gives up on its map stream after
    // the server's next keep-alive, which with Linux's defaults takes about 15 minutes of retransmissions.
    await farm.shortenControlRetransmissions();
    await farm.setLink("b1", "down");
    const offline = await eventually(
      "Headscale sees b1 offline",
      async () => (await node(farm, "b1")).every((found) => !found.online),
      180_000,
      1000,
    );
    const removed = await eventually(
      "Headscale removes b1",
      async () => (await node(farm, "b1")).length === 0,
      150_000,
      1000,
    );
    console.log(`b1 offline after ${offline.toFixed(0)} s, removed ${removed.toFixed(0)} s later (timeout 66 s)`);
  },
);

realTailnetTest(
  "a builder restarted under the same name is claimed, not the stale node its first run left",
  async () => {
    await using farm = await createFarm({ hosts: COORD_AND_B1 });
    const first = startBuilder(farm, "b1");
    await waitUntilClaimable(first);
    const [stale] = await node(farm, "b1");
    // A runner that vanished: dnb and its tailscaled die without logging out, so the node stays behind.
    for (const process of await farm.processDetails("b1")) Deno.kill(process.pid, "SIGKILL");
    Deno.removeSync(first.logFile);
    const second = startBuilder(farm, "b1");
    await waitUntilClaimable(second);
    const nodes = await node(farm, "b1");
    assert.ok(nodes.some((found) => found.ipv4 === stale!.ipv4), "the first run's node is still listed");
    const fresh = nodes.find((found) => found.ipv4 !== stale!.ipv4);
    assert.ok(fresh, JSON.stringify(nodes));

    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "60"]);
    assert.equal(coordinator.code, 0, coordinator.stderr + log(second));
    assert.match(coordinator.stderr, new RegExp(`claimed b1 \\(${fresh.ipv4.replaceAll(".", "\\.")}\\)`));
    assert.match(log(second), /claimed by coord/);
  },
);
