/**
 * Farms that are not whole: fewer builders than wanted (--min-builders), and runs without any
 * Tailscale credentials (pull requests from forks get no secrets). Partial farms run on the real
 * tailnet (Headscale, tailscaled, Tailscale SSH); runs without credentials never reach one.
 */
import assert from "node:assert/strict";
import { createFarm, type Farm, TWO_SYSTEM_HOSTS } from "./harness/farm.ts";
import { coordinatorFiles, exitWithin, log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { farmTest, realTailnetTest } from "./harness/prerequisites.ts";
import { eventually } from "../support/eventually.ts";
import { actionsEnv, HOST_STEP_FILES } from "../support/github.ts";

const machines = (farm: Farm) => coordinatorFiles(farm)["etc-nix/machines"]!;

realTailnetTest("--min-builders: go ahead with the builders that came, and the watchdog adds a late one", async () => {
  await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
  // A short lease: the watchdog looks for late builders every lease/4 seconds.
  startBuilder(farm, "b1", ["--lease", "8"]);
  const coordinator = await runCoordinator(farm, "coord", [
    "--builders",
    "b1 b2",
    "--min-builders",
    "1",
    "--wait-timeout",
    "10",
    "--lease",
    "8",
  ]);
  assert.equal(coordinator.code, 0, coordinator.stderr);
  assert.match(
    coordinator.stderr,
    /dnb: warning: going ahead with 1 builder\(s\) \(--min-builders 1\); not ready: b2; the watchdog adds late ones/,
  );
  assert.match(machines(farm), /root@b1\?/);
  assert.doesNotMatch(machines(farm), /root@b2\?/);
  // b2's runner finally starts: the watchdog claims it and Nix gets it without a restart.
  startBuilder(farm, "b2", ["--lease", "8"]);
  await eventually("b2 in the machines file", () => machines(farm).includes("root@b2?"), 30_000);
  assert.equal((await runDnb(farm, "coord", ["stop"])).code, 0);
});

realTailnetTest(
  "--min-builders: below it, exit 1 naming the missing, the claimed builder released, nothing changed",
  async () => {
    await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
    const before = coordinatorFiles(farm);
    const builder = startBuilder(farm, "b1");
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--wait-timeout", "10"]);
    assert.equal(coordinator.code, 1);
    assert.match(
      coordinator.stderr.trim().split("\n").pop()!,
      /^dnb: builders missing after 10s: b2 \(1 ready, 2 needed\)/,
    );
    assert.deepEqual(coordinatorFiles(farm), before);
    assert.equal((await exitWithin(builder, 15_000)).code, 0, log(builder));
  },
);

farmTest("no credentials: builders leave with 0, the coordinator leaves Nix local with a notice", async (t) => {
  await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
  const before = coordinatorFiles(farm);
  const onActions = actionsEnv();

  await t.step("builder", async () => {
    const builder = startBuilder(farm, "b1", [], onActions);
    const exit = await exitWithin(builder, 20_000);
    assert.equal(exit.code, 0, log(builder));
    assert.match(log(builder), /::notice::dnb: no Tailscale credentials: no auth key .*this builder is not needed/);
  });

  await t.step("coordinator", async () => {
    const coordinator = await runCoordinator(
      farm,
      "coord",
      ["--builders", "b1 b2"],
      actionsEnv({ output: HOST_STEP_FILES.output }),
    );
    assert.equal(coordinator.code, 0, coordinator.stderr);
    assert.match(coordinator.stderr, /::notice::dnb: no Tailscale credentials: .*Nix builds on this machine alone/);
    assert.deepEqual(coordinatorFiles(farm), before);
    assert.match(
      Deno.readTextFileSync(`${farm.host("coord").dir}${HOST_STEP_FILES.output}`),
      /^builders<<.*\n\[\]\n/m,
    );
  });

  await t.step("keyless without an OIDC token (no id-token: write)", async () => {
    const coordinator = await runCoordinator(farm, "coord", [
      "--builders",
      "b1",
      "--oauth-client-id",
      "TfedAbc123",
      "--audience",
      "api.tailscale.com/TfedAbc123",
    ], {});
    assert.equal(coordinator.code, 0, coordinator.stderr);
    assert.match(coordinator.stderr, /--oauth-client-id needs this job's OIDC token.*id-token: write/);
  });

  await t.step("--require-builders makes it an error", async () => {
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--require-builders"], {});
    assert.equal(coordinator.code, 1);
    assert.match(coordinator.stderr.trim().split("\n").pop()!, /^dnb: no Tailscale credentials: /);
    assert.deepEqual(coordinatorFiles(farm), before);
  });
});
