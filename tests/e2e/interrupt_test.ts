/**
 * A farm run that fails, is interrupted or is killed outright leaves nothing on the machine, and
 * the farm works wherever the checkout lives (users clone into /tmp, which every host replaces).
 * Farms get the real tailnet wherever its binaries can be built, so Headscale and every tailscaled
 * must go too.
 */
import assert from "node:assert/strict";
import { FARM_BASE, type RunRecord } from "./harness/cleanup.ts";
import { ensureMountPoints, readRecord, releaseMountPoints } from "./harness/cleanup.ts";
import { farmProcess } from "./harness/farm.ts";
import { leftovers, running } from "./harness/leftovers.ts";
import { farmTest } from "./harness/prerequisites.ts";
import { fromFileUrl } from "../support/paths.ts";
import { eventually } from "../support/eventually.ts";

const REPO = fromFileUrl(new URL("../../", import.meta.url));
const decoder = new TextDecoder();

function denoRun(repo: string, script: string, args: string[] = []): string[] {
  return ["run", "-A", "--frozen", "--config", `${repo}/deno.json`, `${repo}/${script}`, ...args];
}

/** The record of the farm run owned by `pid`, once it exists. */
function recordOwnedBy(pid: number): RunRecord | undefined {
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(FARM_BASE)];
  } catch {
    return undefined;
  }
  return entries.map((entry) => readRecord(`${FARM_BASE}/${entry.name}`)).find((record) => record?.ownerPid === pid);
}

function pidsIn(netns: string): number[] {
  const result = new Deno.Command("ip", { args: ["netns", "pids", netns], stderr: "null" }).outputSync();
  return decoder.decode(result.stdout).split(/\s+/).filter((pid) => pid !== "").map(Number);
}

/** Kills `child` with SIGKILL once `moment` holds of its run, then waits until the run has left nothing. */
async function killAt(
  child: Deno.ChildProcess,
  moment: (record: RunRecord) => boolean,
): Promise<{ record: RunRecord; pids: number[] }> {
  let record: RunRecord | undefined;
  await eventually("the moment to kill", () => {
    record = recordOwnedBy(child.pid);
    return record !== undefined && moment(record);
  }, 60_000);
  const pids = [...record!.pids, ...record!.netns.flatMap(pidsIn)];
  child.kill("SIGKILL");
  await child.status;
  // No handler runs on SIGKILL: the reaper must notice and sweep.
  await eventually("the killed run swept", async () => {
    const left = await leftovers(record!.runId);
    return left.netns.length + left.mounts.length === 0 && !left.folder && !pids.some(running);
  }, 30_000);
  return { record: record!, pids };
}

farmTest(
  "a demo killed with SIGKILL while dnb runs in its hosts leaves no namespace, mount, process or folder",
  async () => {
    const demo = new Deno.Command(Deno.execPath(), {
      args: denoRun(REPO, "tests/tools/demo.ts"),
      stdout: "null",
      stderr: "null",
    }).spawn();
    // The worst moment: every host up, the builders' tailscaled doubles running, the coordinator
    // half-way through claiming (a builder claimed, the farm's files not yet all written).
    const claimed = (record: RunRecord) =>
      ["b1", "b2"].some((host) => {
        try {
          return Deno.statSync(`${FARM_BASE}/${record.runId}/hosts/${host}/tmp/dnb/claim`).isFile;
        } catch {
          return false;
        }
      });
    const { record, pids } = await killAt(demo, claimed);
    assert.equal(record.netns.length, 4, "the switch and three hosts");
    assert.ok(pids.length >= 6, `sshd in each host, two builders and the coordinator: ${pids.length}`);
    const left = await leftovers(record.runId);
    assert.deepEqual([left.netns, left.mounts, left.processes, left.folder], [[], [], [], false]);
  },
);

farmTest("a farm killed with SIGKILL while its hosts are being made leaves nothing behind", async () => {
  const child = farmProcess(
    `await createFarm({ hosts: ["a", "b", "c", "d", "e", "f"].map((name) => ({ name })) });` +
      `await new Promise(() => {});`,
    { stdout: "null", stderr: "null" },
  ).spawn();
  // Some namespaces made, no sshd yet: host creation is under way.
  const { record } = await killAt(child, (record) => record.netns.length >= 3 && record.pids.length === 0);
  // The reaper swept the run: besides the namespaces, mounts and pids the kill waited for, no process names it.
  const left = await leftovers(record.runId);
  assert.deepEqual([left.netns, left.mounts, left.processes, left.folder], [[], [], [], false]);
});

farmTest("the demo passes from a checkout under /tmp, which each host's own /tmp would hide", async () => {
  const checkout = Deno.makeTempDirSync({ dir: "/tmp", prefix: "dnb-checkout-" });
  try {
    // README.md too: the farm serves the Headscale policy the README gives.
    for (const entry of ["main.ts", "deno.json", "deno.lock", "README.md", "lib", "tests"]) {
      const copy = await new Deno.Command("cp", { args: ["-a", `${REPO}/${entry}`, checkout] }).output();
      assert.ok(copy.success, decoder.decode(copy.stderr));
    }
    const demo = await new Deno.Command(Deno.execPath(), { args: denoRun(checkout, "tests/tools/demo.ts") }).output();
    const stdout = decoder.decode(demo.stdout);
    assert.equal(demo.code, 0, stdout + decoder.decode(demo.stderr));
    assert.match(stdout, /every derivation was built on the builder of its system/);
    assert.match(stdout, /demo: farm removed/);
  } finally {
    Deno.removeSync(checkout, { recursive: true });
  }
});

Deno.test("mount points a farm needs are made where absent, and only those are removed with the last farm", () => {
  const root = Deno.makeTempDirSync({ prefix: "dnb-mount-points-" });
  try {
    Deno.mkdirSync(`${root}/etc`);
    Deno.mkdirSync(`${root}/present`);
    const points = {
      paths: [`${root}/nix`, `${root}/etc/nix`, `${root}/present`, `${root}/etc/ssh/ssh_config.d`],
      madeList: `${root}/base/made.json`,
    };
    ensureMountPoints(points);
    for (const path of points.paths) assert.ok(Deno.statSync(path).isDirectory, path);
    const made = [`${root}/nix`, `${root}/etc/nix`, `${root}/etc/ssh/ssh_config.d`];
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(points.madeList)), made);

    releaseMountPoints(points, true);
    for (const path of made) assert.ok(Deno.statSync(path).isDirectory, `kept while a farm is live: ${path}`);

    // Something of the user's went into /nix meanwhile: that folder stays, and stays listed.
    Deno.writeTextFileSync(`${root}/nix/keep`, "");
    releaseMountPoints(points, false);
    assert.throws(() => Deno.statSync(`${root}/etc/nix`), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(`${root}/etc/ssh/ssh_config.d`), Deno.errors.NotFound);
    assert.ok(Deno.statSync(`${root}/present`).isDirectory, "a mount point the machine had is never removed");
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(points.madeList)), [`${root}/nix`]);

    Deno.removeSync(`${root}/nix/keep`);
    releaseMountPoints(points, false);
    assert.throws(() => Deno.statSync(`${root}/nix`), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(points.madeList), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
