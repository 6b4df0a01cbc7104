/**
 * The ssh master dnb keeps per builder, on the real tailnet (Tailscale SSH on the builders, Nix 2.8
 * on the coordinator): Nix's sessions ride it, a master that dies leaves builds working, and stop
 * ends it. Connections are counted by the coordinator's own TCP counter (ActiveOpens, per network
 * namespace), so one that came and went between two looks still counts.
 */
import assert from "node:assert/strict";
import { createFarm, type Farm } from "./harness/farm.ts";
import { log, runCoordinator, runDnb, startBuilder } from "./harness/dnb.ts";
import { buildOnFarm, probeDerivations } from "./harness/nix_fixtures.ts";
import { realTailnetTest } from "./harness/prerequisites.ts";
import { eventually } from "../support/eventually.ts";

const DERIVATIONS = 6;

/** TCP connections this host has opened so far. */
async function activeOpens(farm: Farm, host: string): Promise<number> {
  const snmp = (await farm.run(host, ["cat", "/proc/net/snmp"])).stdout.split("\n").filter((line) =>
    line.startsWith("Tcp:")
  );
  const names = snmp[0]!.split(/\s+/);
  return Number(snmp[1]!.split(/\s+/)[names.indexOf("ActiveOpens")]);
}

/** New TCP connections the coordinator opened for a build of DERIVATIONS derivations, which must succeed. */
async function connectionsForBuild(farm: Farm): Promise<number> {
  const before = await activeOpens(farm, "coord");
  const build = await buildOnFarm(farm, probeDerivations({ "x86_64-linux": DERIVATIONS }, crypto.randomUUID()));
  assert.equal(build.code, 0, build.stderr);
  assert.ok(build.records.every((record) => record.host === "b1"));
  return await activeOpens(farm, "coord") - before;
}

/** What Nix from 2.16 asks before each session: the system's ssh config, as the daemon reads it. */
async function masterPid(farm: Farm): Promise<number | undefined> {
  const check = await farm.run("coord", ["ssh", "-O", "check", "b1"]);
  const pid = /Master running \(pid=(\d+)\)/.exec(check.stderr)?.[1];
  return check.code === 0 && pid !== undefined ? Number(pid) : undefined;
}

realTailnetTest("Nix's sessions ride dnb's ssh master; a dead master leaves builds working; stop ends it", async () => {
  await using farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }] });
  const builder = startBuilder(farm, "b1");
  const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1"]);
  assert.equal(coordinator.code, 0, coordinator.stderr + log(builder));
  assert.ok(await masterPid(farm) !== undefined, "the master answers through the system's ssh config");

  // A session on the master prints no LocalCommand line: Nix from 2.16 found the master and waits for none.
  const session = await farm.run(
    "coord",
    ["ssh", "b1", "-x", "-oPermitLocalCommand=yes", "-oLocalCommand=echo started", "--", "echo", "remote"],
    { env: { SHELL: "/bin/sh" } },
  );
  assert.equal(session.stdout, "remote\n", session.stderr);
  const shared = await connectionsForBuild(farm);
  assert.ok(shared <= 1, `${shared} new connections for ${DERIVATIONS} derivations on the master`);

  // The master dies: sessions connect on their own, one per derivation at least, and the build still works.
  Deno.kill((await masterPid(farm))!, "SIGKILL");
  assert.equal(await masterPid(farm), undefined);
  const alone = await connectionsForBuild(farm);
  assert.ok(alone >= DERIVATIONS, `${alone} new connections for ${DERIVATIONS} derivations without a master`);

  // A re-run claims b1 again and gives it a new master; stop ends it and leaves no socket.
  const again = await runCoordinator(farm, "coord", ["--builders", "b1"]);
  assert.equal(again.code, 0, again.stderr);
  const pid = await masterPid(farm);
  assert.ok(pid !== undefined);
  const stop = await runDnb(farm, "coord", ["stop"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(await masterPid(farm), undefined);
  await eventually("the master process is gone", () => {
    try {
      Deno.kill(pid, "SIGCONT");
      return false;
    } catch {
      return true;
    }
  }, 5_000);
  assert.deepEqual(
    [...Deno.readDirSync(`${farm.host("coord").dir}/tmp/dnb`)].filter((entry) => /^mux-b1$/.test(entry.name)),
    [],
  );
});
