import assert from "node:assert/strict";
import { runCli } from "../../lib/cli.ts";
import type { Cluster, ClusterMember } from "../../lib/farm/cluster.ts";
import { DONE_SCRIPT } from "../../lib/protocol/scripts.ts";

import { testContext } from "../support/context.ts";
import { FakeRunner } from "../support/fake_runner.ts";
import { builderInfo } from "../support/builder_info.ts";
import { writeSystemFile } from "../../lib/core/system_files.ts";
import { actionsEnv } from "../support/github.ts";
import { farmSettings } from "../support/cluster.ts";

const info = builderInfo({
  hostname: "b",
  cores: 2,
  memoryBytes: 1,
  nixVersion: "2.8.0",
  nixDaemon: "/usr/bin/nix-daemon",
});
const member = (alias: string, state: ClusterMember["state"]): ClusterMember => ({
  alias,
  address: "100.64.0.2",
  hostKeys: [],
  info,
  readySeconds: 1,
  claimedAt: "2026-11-25T05:00:00.000Z",
  lastHeartbeat: "2026-11-25T05:00:00.000Z",
  missed: 0,
  state,
});

function farmState(stateDir: string): void {
  const cluster: Cluster = {
    version: 1,
    settings: farmSettings({ stateDir }),
    wanted: { kind: "names", names: ["b1", "b2", "b3"], tag: "tag:nix-builder" },
    readyAt: "2026-11-25T05:00:00.000Z",
    builders: [member("b1", "ready"), member("b2", "ready"), member("b3", "lost")],
  };
  Deno.writeTextFileSync(`${stateDir}/cluster.json`, JSON.stringify(cluster));
}

Deno.test("stop tells every ready builder, names one it cannot reach, exits 1 and still records that it ran", async () => {
  const stateDir = Deno.makeTempDirSync({ prefix: "dnb-stop-" });
  try {
    farmState(stateDir);
    const ctx = testContext({ env: { DNB_STATE_DIR: stateDir }, root: "/" });
    const runner = new FakeRunner([
      { when: (argv) => argv[0] === "ssh" && argv[3] === "b1" },
      { when: (argv) => argv.includes("b2"), code: 255, stderr: "ssh: connect to host b2: No route to host" },
    ]);
    const code = await runCli(["stop"], "dnb", { ...ctx, runner, sleep: () => Promise.resolve() });
    assert.equal(code, 1);
    assert.equal(ctx.stderr.at(-1), "dnb: stop: could not reach b2 (its lease ends it within 120s)");
    // The lost builder is not bothered; b2 is tried three times.
    assert.deepEqual(runner.calls.map((call) => call.argv[3]), ["b1", "b2", "b2", "b2"]);
    assert.ok(runner.calls.every((call) => call.argv[4] === DONE_SCRIPT && call.stdin === "/tmp/dnb\n"));
    const status = JSON.parse(Deno.readTextFileSync(`${stateDir}/cluster.json`)) as Cluster;
    assert.deepEqual(status.builders.map((b) => b.state), ["done", "ready", "lost"]);
    const stopped = JSON.parse(Deno.readTextFileSync(`${stateDir}/stopped.json`));
    assert.deepEqual([stopped.released, stopped.unreachable], [["b1"], ["b2"]]);

    const again = testContext({ env: { DNB_STATE_DIR: stateDir }, root: "/" });
    assert.equal(await runCli(["stop"], "dnb", again), 0);
    assert.match(again.stderr[0]!, /^dnb: stop: already stopped at .*; nothing to do$/);
    assert.deepEqual(again.runner.calls, []);
  } finally {
    Deno.removeSync(stateDir, { recursive: true });
  }
});

Deno.test("stop keeps the final reading each builder sends with done; status and post's step summary show it", async () => {
  const stateDir = Deno.makeTempDirSync({ prefix: "dnb-stop-" });
  try {
    farmState(stateDir);
    const cluster = JSON.parse(Deno.readTextFileSync(`${stateDir}/cluster.json`)) as Cluster;
    // b3 was lost after one heartbeat had brought its reading.
    const lastHeartbeat = {
      version: 1 as const,
      claimedAt: "2026-11-25T05:00:00.000Z",
      at: "2026-11-25T05:02:00.000Z",
      derivations: 1,
      busySeconds: 30,
    };
    Deno.writeTextFileSync(
      `${stateDir}/cluster.json`,
      JSON.stringify({
        ...cluster,
        builders: cluster.builders.map((b) => b.alias === "b3" ? { ...b, usage: lastHeartbeat } : b),
      }),
    );
    const final = (derivations: number, busySeconds: number) =>
      JSON.stringify({ ...lastHeartbeat, at: "2026-11-25T05:10:00.000Z", derivations, busySeconds }) + "\n";
    const runner = new FakeRunner([
      { when: (argv) => argv.includes("b1"), stdout: final(7, 300) },
      { when: (argv) => argv.includes("b2"), stdout: "not a reading\n" },
    ]);
    const summaryFile = `${stateDir}/summary.md`;
    const ctx = testContext({ env: { DNB_STATE_DIR: stateDir, ...actionsEnv({ summary: summaryFile }) }, root: "/" });
    assert.equal(await runCli(["post"], "dnb", { ...ctx, runner }), 0);
    assert.deepEqual(ctx.stderr.filter((line) => line.startsWith("dnb: stop:   ")), [
      "dnb: stop:   builder  derivations   busy  claimed  utilization",
      "dnb: stop:   b1                 7  5m00s   10m00s          50%",
      "dnb: stop:   b2                 -      -        -            -",
      "dnb: stop:   b3                 1    30s    2m00s          25%",
      "dnb: stop:   farm: 8 derivation(s); 5.50 busy minutes of 12.0 runner minutes (46%)",
    ]);
    const summary = Deno.readTextFileSync(summaryFile);
    assert.match(summary, /^### dnb: farm utilization\n/);
    assert.match(
      summary,
      /\n\| b1 \| 7 \| 5m00s \| 10m00s \| 50% \|\n\| b2 \| - \| - \| - \| - \|\n\| b3 \| 1 \| 30s \|/,
    );
    assert.match(
      summary,
      /\n\| \*\*farm\*\* \| \*\*8\*\* \| \*\*5\.50 min\*\* \| \*\*12\.0 min\*\* \| \*\*46%\*\* \|\n/,
    );

    const status = testContext({ env: { DNB_STATE_DIR: stateDir }, root: "/" });
    assert.equal(await runCli(["status", "--json"], "dnb", status), 0);
    const report = JSON.parse(status.stdout.join(""));
    assert.deepEqual(report.builders.map((b: { usage: { derivations: number } | null }) => b.usage?.derivations), [
      7,
      undefined,
      1,
    ]);
    assert.deepEqual(report.utilization, {
      buildersReporting: 2,
      derivations: 8,
      busyMinutes: 5.5,
      runnerMinutes: 12,
      utilizationPercent: 45.8,
    });
  } finally {
    Deno.removeSync(stateDir, { recursive: true });
  }
});

Deno.test("post on a builder that was killed puts back the system files it changed", async () => {
  const ctx = testContext({ files: { "/etc/nix/nix.conf": "sandbox = true" } });
  const stateDir = "/run/dnb";
  ctx.files.makeDir(stateDir, 0o700);
  const rule = "/etc/udev/rules.d/99-dnb-kvm.rules";
  writeSystemFile(
    ctx.files,
    stateDir,
    "/etc/nix/nix.conf",
    "sandbox = true\n# >>> dnb >>>\nbuild-dir = /mnt/dnb-build\n# <<< dnb <<<\n",
  );
  writeSystemFile(ctx.files, stateDir, rule, 'KERNEL=="kvm", MODE="0666"\n');
  assert.equal(await runCli(["post", "--state-dir", stateDir], "dnb", ctx), 0);
  assert.equal(ctx.files.readText("/etc/nix/nix.conf"), "sandbox = true");
  assert.equal(ctx.files.exists(rule), false);
  assert.ok(ctx.stderr.some((line) => line.startsWith("dnb: post: put back /etc/nix/nix.conf") && line.includes(rule)));
});
