/**
 * Hostile tailnet peers and builders on the farm: a node named like a wanted builder without the builder
 * tag, two tagged nodes answering to one name, a builder whose info.json carries machines-file syntax, and
 * coordinators that are not the builder's own (without the coordinator tag, or of another run).
 * On the double: it makes the peers a real control server would not (tags rewritten after the join,
 * untagged nodes the policy would hide, two tagged nodes under one name), and the coordinator
 * reaches builders over plain OpenSSH.
 */
import assert from "node:assert/strict";
import { createFarm, type Farm, FARM_AUTH_KEY, HOST_SSH_KEY } from "./harness/farm.ts";
import { coordinatorFiles, dnbArgv, log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { farmTest } from "./harness/prerequisites.ts";
import { listNodes, writeNode } from "./harness/tailnet.ts";
import { eventually } from "../support/eventually.ts";

const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Waits until a node with this HostName is on the tailnet (its `tailscale up` went through). */
async function joined(farm: Farm, hostName: string, logOf: () => string): Promise<void> {
  await eventually(
    () => `${hostName} joins the tailnet; its log:\n${logOf()}`,
    () => listNodes(farm.tailnet).some((node) => node.hostName === hostName),
    20_000,
  );
}

farmTest("an untagged node named like a wanted builder is not claimed, and the coordinator says so", async () => {
  await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "lap" }], tailnet: "double" });
  // A working builder on a node that registered the name b1 first, but without the builder tag (a user's
  // laptop, another repository's node): today's names mode would claim it and send it derivations.
  const impostor = startBuilder(farm, "lap", ["--hostname", "b1"]);
  await joined(farm, "b1", () => log(impostor));
  const node = listNodes(farm.tailnet).find((candidate) => candidate.hostName === "b1")!;
  writeNode(farm.tailnet, { ...node, tags: [] });
  const before = coordinatorFiles(farm);
  const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "10"]);
  assert.equal(coordinator.code, 1, coordinator.stderr);
  assert.match(
    coordinator.stderr,
    /not claiming b1\.tail1a2b3c\.ts\.net \(10\.77\.0\.11\): it is named like a wanted builder but does not carry tag:nix-builder/,
  );
  assert.match(coordinator.stderr.trim().split("\n").pop()!, /^dnb: builders missing after 10s: b1 /);
  assert.equal(exists(`${farm.host("lap").dir}/tmp/dnb/claim`), false, "the impostor was claimed");
  assert.deepEqual(coordinatorFiles(farm), before);
});

farmTest(
  "two tagged nodes answering to one wanted name: the name waits, then is refused naming both; neither is claimed",
  async () => {
    await using farm = await createFarm({
      hosts: [{ name: "coord" }, { name: "b1" }, { name: "twin" }],
      tailnet: "double",
    });
    const builders = [startBuilder(farm, "b1"), startBuilder(farm, "twin", ["--hostname", "b1"])];
    await eventually(
      () => `both join; logs:\n${builders.map(log).join("\n")}`,
      () => listNodes(farm.tailnet).filter((node) => node.hostName === "b1").length === 2,
      20_000,
    );
    const before = coordinatorFiles(farm);
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "10"]);
    assert.equal(coordinator.code, 1, coordinator.stderr);
    assert.match(
      coordinator.stderr,
      /b1 is not ready yet: 2 nodes tagged tag:nix-builder answer to b1 \(b1(-1)?\.tail1a2b3c\.ts\.net \(10\.77\.0\.1[12]\), b1(-1)?\.tail1a2b3c\.ts\.net \(10\.77\.0\.1[12]\)\); dnb will not guess which is the builder/,
    );
    // Neither left within the wait: the name is refused for that.
    assert.match(
      coordinator.stderr.trim().split("\n").pop()!,
      /^dnb: no usable builder \(b1: 2 nodes tagged tag:nix-builder answer to b1 /,
    );
    for (const host of ["b1", "twin"]) {
      assert.equal(exists(`${farm.host(host).dir}/tmp/dnb/claim`), false, `${host} was claimed`);
    }
    assert.deepEqual(coordinatorFiles(farm), before);
  },
);

farmTest(
  "a builder whose info.json carries machines-file syntax is refused by name and nothing is written",
  async () => {
    await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }], tailnet: "double" });
    const builder = startBuilder(farm, "b1");
    const infoPath = `${farm.host("b1").dir}/tmp/dnb/info.json`;
    await eventually(() => `b1 publishes info.json; its log:\n${log(builder)}`, () => exists(infoPath), 20_000);
    await joined(farm, "b1", () => log(builder));
    // `;` starts a new machines entry, `@path` includes a file (Nix printed it in a build error), `#` comments out
    // the rest of the line, pinned host key included.
    const info = JSON.parse(Deno.readTextFileSync(infoPath));
    Deno.writeTextFileSync(infoPath, JSON.stringify({ ...info, nixDaemon: "/nix/store/x;@/etc/shadow#" }));
    const before = coordinatorFiles(farm);
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1", "--wait-timeout", "20"]);
    assert.equal(coordinator.code, 1, coordinator.stderr);
    assert.match(
      coordinator.stderr,
      /refusing b1: it sent an invalid info\.json: nixDaemon: nixDaemon must be an absolute path of letters, digits/,
    );
    assert.deepEqual(coordinatorFiles(farm), before);
    const state = Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/ssh_config`);
    assert.doesNotMatch(state, /shadow/);
  },
);

farmTest(
  "only the builder's own run's coordinator may claim it: others' claims are removed, it keeps waiting",
  async () => {
    await using farm = await createFarm({
      hosts: [{ name: "coord" }, { name: "b1" }, { name: "evil" }, { name: "other" }],
      tailnet: "double",
    });
    const run = { GITHUB_ACTIONS: "true", GITHUB_RUN_ID: "111", GITHUB_RUN_ATTEMPT: "1" };
    const name = "nix-builder-111-1-b1";
    const builder = farm.spawn("b1", dnbArgv(["--role", "builder", "--hostname", name, "--builder-timeout", "120"]), {
      env: { TS_AUTHKEY: FARM_AUTH_KEY, ...run },
      log: `${farm.host("b1").dir}/logs/dnb-builder.log`,
    });
    await joined(farm, name, () => log(builder));
    const claimFile = `${farm.host("b1").dir}/tmp/dnb/claim`;
    const claimWith = (host: string, hostname: string, tags: string) =>
      farm.run(
        host,
        dnbArgv([
          "--role",
          "coordinator",
          "--hostname",
          hostname,
          "--tags",
          tags,
          "--ssh-key",
          HOST_SSH_KEY,
          "--builders",
          name,
          "--wait-timeout",
          "30",
        ]),
        { env: { TS_AUTHKEY: FARM_AUTH_KEY }, timeoutMs: 120_000 },
      );

    // A node without the coordinator tag, even one named as this run's coordinator would be.
    const untagged = await claimWith("evil", "nix-coordinator-111-1", "tag:nix-builder");
    assert.equal(untagged.code, 0, untagged.stderr);
    await eventually(
      () => `b1 ignores the untagged claim; its log:\n${log(builder)}`,
      () =>
        /ignoring a claim: nix-coordinator-111-1 \(10\.77\.0\.12\) does not carry tag:nix-coordinator/.test(
          log(builder),
        ),
      10_000,
    );
    assert.equal(exists(claimFile), false, "the refused claim is still there");
    // Its node leaves the tailnet (not `dnb stop`, which would tell b1 it is done): the name is free again.
    const logout = await farm.run("evil", ["tailscale", "--socket=/tmp/dnb/tailscaled.sock", "logout"]);
    assert.equal(logout.code, 0, logout.stderr);

    // A coordinator with the tag, of another run.
    const otherRun = await claimWith("other", "nix-coordinator-222-1", "tag:nix-coordinator");
    assert.equal(otherRun.code, 0, otherRun.stderr);
    await eventually(
      () => `b1 ignores the other run's claim; its log:\n${log(builder)}`,
      () =>
        /ignoring a claim: nix-coordinator-222-1 \(10\.77\.0\.13\) is not this run's coordinator nix-coordinator-111-1/
          .test(log(builder)),
      10_000,
    );
    assert.equal(exists(claimFile), false);
    assert.doesNotMatch(log(builder), /claimed by/);

    // The run's own coordinator claims it.
    const own = await claimWith("coord", "nix-coordinator-111-1", "tag:nix-coordinator");
    assert.equal(own.code, 0, own.stderr);
    await eventually(
      () => `b1 takes its own coordinator's claim; its log:\n${log(builder)}`,
      () => /claimed by nix-coordinator-111-1 \(10\.77\.0\.10\)/.test(log(builder)),
      10_000,
    );
    assert.match(Deno.readTextFileSync(claimFile), /\nclient 10\.77\.0\.10\n$/);
    const stop = await runDnb(farm, "coord", ["stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await builder.status).code, 0, log(builder));
  },
);
