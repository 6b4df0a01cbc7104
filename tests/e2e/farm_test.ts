/**
 * The farm proves itself with no dnb: a hand-written machines file and a real distributed nix-build
 * over each host's plain sshd, and farms that leave nothing behind, with Headscale on the real
 * tailnet wherever its binaries can be built.
 */
import assert from "node:assert/strict";
import { machinesLine } from "../../lib/nix/machines_file.ts";
import { upsertBlock } from "../../lib/core/managed_block.ts";
import { nixConfBlockBody } from "../../lib/nix/conf.ts";
import { sshConfigLines } from "../../lib/ssh/ssh_config.ts";
import { createFarm, type Farm, farmProcess, sweepStaleRuns } from "./harness/farm.ts";
import { leftovers } from "./harness/leftovers.ts";
import { buildOnFarm, probeDerivations } from "./harness/nix_fixtures.ts";
import { farmTest } from "./harness/prerequisites.ts";

const BUILDERS = [{ name: "b1", system: "x86_64-linux" }, { name: "b2", system: "aarch64-linux" }];

/** Points the coordinator's Nix at the builders by hand, pinning `keyFor(builder)` as each host key. */
function configureCoordinator(farm: Farm, keyFor: (name: string) => string): void {
  const coordinator = farm.host("coord");
  const builders = BUILDERS.map(({ name, system }) => ({ ...farm.host(name), system }));
  Deno.writeTextFileSync(
    `${coordinator.dir}/etc-nix/machines`,
    builders.map((builder) =>
      machinesLine({
        sshUser: "root",
        alias: builder.name,
        nixDaemon: "/usr/bin/nix-daemon",
        systems: [builder.system],
        cores: 1,
        jobsPerCore: 1,
        features: [],
        mandatoryFeatures: [],
        hostKey: keyFor(builder.name),
      })
    ).join("\n") + "\n",
  );
  const nixConf = `${coordinator.dir}/etc-nix/nix.conf`;
  Deno.writeTextFileSync(nixConf, upsertBlock(Deno.readTextFileSync(nixConf), nixConfBlockBody([]), "end"));
  Deno.writeTextFileSync(
    `${coordinator.dir}/ssh_config.d/dnb.conf`,
    sshConfigLines(builders.map((b) => ({ alias: b.name, address: b.address, user: "root" })), "/root/.ssh/known_hosts")
      .join("\n") + "\n",
  );
  Deno.writeTextFileSync(
    `${coordinator.dir}/root-ssh/known_hosts`,
    builders.map((builder) => `${builder.name} ${keyFor(builder.name)}\n`).join(""),
  );
}

const distributedBuild = (farm: Farm, perSystem: number) =>
  buildOnFarm(farm, probeDerivations({ "x86_64-linux": perSystem, "aarch64-linux": perSystem }, crypto.randomUUID()));

farmTest("each system's derivations are built on the builder of that system, host keys pinned", async () => {
  await using farm = await createFarm({ hosts: [{ name: "coord" }, ...BUILDERS] });
  configureCoordinator(farm, (name) => farm.host(name).sshHostKey);
  const result = await distributedBuild(farm, 3);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.records.length, 6);
  for (const { host, system } of result.records) assert.equal(host, system === "x86_64-linux" ? "b1" : "b2");
  assert.deepEqual(
    new Set(result.records.map((record) => record.system)),
    new Set(["x86_64-linux", "aarch64-linux"]),
  );
});

farmTest("a wrong pinned host key makes the build fail", async () => {
  await using farm = await createFarm({ hosts: [{ name: "coord" }, ...BUILDERS] });
  // b2's key pinned for b1 too: b1's sshd presents its own key, which must be refused.
  configureCoordinator(farm, () => farm.host("b2").sshHostKey);
  const result = await distributedBuild(farm, 1);
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|failed to find a machine/i,
  );
});

farmTest("destroy leaves no namespace, mount, veth, process or folder of the run", async () => {
  const vethsBefore = (await leftovers("none")).veths;
  const farm = await createFarm({ hosts: [{ name: "a" }, { name: "b" }] });
  const daemon = farm.spawn("a", ["sleep", "600"]);
  const during = await leftovers(farm.runId);
  assert.equal(during.netns.length, 3, "two hosts and the switch");
  assert.ok(during.mounts.length >= 3);
  assert.ok(during.processes.length >= 2, "sshd of both hosts");
  await farm.destroy();
  await daemon.status;
  assert.deepEqual(await leftovers(farm.runId), {
    netns: [],
    mounts: [],
    processes: [],
    veths: vethsBefore,
    folder: false,
  });
});

farmTest("two farms at once do not collide, and the sweeper leaves a live run alone", async () => {
  const [first, second] = await Promise.all([
    createFarm({ hosts: [{ name: "x" }, { name: "y" }] }),
    createFarm({ hosts: [{ name: "x" }, { name: "y" }] }),
  ]);
  try {
    assert.notEqual(first.runId, second.runId);
    assert.deepEqual(await sweepStaleRuns(), []);
    for (const farm of [first, second]) {
      const y = farm.host("y");
      Deno.writeTextFileSync(`${farm.host("x").dir}/root-ssh/known_hosts`, `${y.address} ${y.sshHostKey}\n`);
      const hop = await farm.run("x", [
        "ssh",
        "-o",
        "BatchMode=yes",
        `root@${y.address}`,
        "head -n 1 /etc/nix/nix.conf",
      ]);
      assert.deepEqual([hop.code, hop.stdout], [0, "# host=y\n"], hop.stderr);
    }
  } finally {
    await Promise.all([first.destroy(), second.destroy()]);
  }
});

farmTest("the sweeper removes what a killed run left behind, and only that", async () => {
  const farm = await createFarm({ hosts: [{ name: "a" }] });
  // Play a killed test process: its run record now names a dead owner.
  const record = JSON.parse(Deno.readTextFileSync(`${farm.dir}/run.json`));
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  Deno.writeTextFileSync(`${farm.dir}/run.json`, JSON.stringify({ ...record, ownerPid: dead.pid }));
  const live = await createFarm({ hosts: [{ name: "a" }] });
  try {
    const deadRun = await leftovers(farm.runId);
    assert.deepEqual(deadRun.netns, []);
    assert.deepEqual(deadRun.mounts, []);
    assert.throws(() => Deno.statSync(farm.dir));
    assert.equal((await leftovers(live.runId)).netns.length, 2);
    assert.ok(Deno.statSync(live.dir).isDirectory, "the sweeper removed a live run's folder");
  } finally {
    await live.destroy();
    await farm.destroy();
  }
});

farmTest("an interrupted test process removes its farm on the way out", async () => {
  const child = farmProcess(
    `const farm = await createFarm({ hosts: [{ name: "a" }, { name: "b" }] });` +
      `console.log(farm.runId); await new Promise(() => {});`,
    { stdout: "piped", stderr: "inherit" },
  ).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const runId = new TextDecoder().decode(value).trim();
  assert.match(runId, /^[0-9a-f]{8}$/);
  assert.equal((await leftovers(runId)).netns.length, 3);
  child.kill("SIGINT");
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  assert.equal(status.code, 130);
  const left = await leftovers(runId);
  assert.deepEqual([left.netns, left.mounts, left.processes, left.folder], [[], [], [], false]);
});

/** A farm with a known_hosts entry for y on x, so x can ssh to y strictly. */
function trustY(farm: Farm): string {
  const y = farm.host("y");
  Deno.writeTextFileSync(`${farm.host("x").dir}/root-ssh/known_hosts`, `${y.address} ${y.sshHostKey}\n`);
  return y.address;
}

const hop = (farm: Farm, address: string) =>
  farm.run("x", [
    "ssh",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=2",
    `root@${address}`,
    "head -n 1 /etc/nix/nix.conf",
  ]);

farmTest("a second test process with its own farm runs beside this one", async () => {
  const mine = await createFarm({ hosts: [{ name: "x" }, { name: "y" }] });
  try {
    const other = await farmProcess(
      `const farm = await createFarm({ hosts: [{ name: "x" }, { name: "y" }] });` +
        `const y = farm.host("y");` +
        `Deno.writeTextFileSync(farm.host("x").dir + "/root-ssh/known_hosts", y.address + " " + y.sshHostKey + "\\n");` +
        `const hop = await farm.run("x", ["ssh", "-o", "BatchMode=yes", "root@" + y.address, "head -n 1 /etc/nix/nix.conf"]);` +
        `await farm.destroy();` +
        `Deno.exit(hop.stdout === "# host=y\\n" ? 0 : 1);`,
    ).output();
    assert.equal(other.code, 0, new TextDecoder().decode(other.stderr));
    // The other process swept stale runs on start: ours, alive, must still work.
    const result = await hop(mine, trustY(mine));
    assert.deepEqual([result.code, result.stdout], [0, "# host=y\n"], result.stderr);
  } finally {
    await mine.destroy();
  }
});

farmTest("fault helpers: a stopped sshd and a downed link make a host unreachable", async () => {
  await using farm = await createFarm({ hosts: [{ name: "x" }, { name: "y" }, { name: "z" }] });
  const address = trustY(farm);
  assert.equal((await hop(farm, address)).code, 0);
  await farm.setLink("y", "down");
  assert.equal((await hop(farm, address)).code, 255);
  await farm.setLink("y", "up");
  assert.equal((await hop(farm, address)).code, 0);
  await farm.stopSshd("y");
  const refused = await hop(farm, address);
  assert.equal(refused.code, 255);
  assert.match(refused.stderr, /Connection refused/);
  const sleeper = farm.spawn("z", ["sleep", "600"]);
  sleeper.kill("SIGKILL");
  assert.equal((await sleeper.status).success, false);
});
