import assert from "node:assert/strict";
import type { Cluster, ClusterMember, Member } from "../../lib/farm/cluster.ts";
import { type BuilderRow, builderRow, builderRows, type FarmRow, farmRow } from "../../lib/report/builder_row.ts";
import { readyLine } from "../../lib/report/ready_line.ts";
import { statusBuilder, statusLine, statusReport, statusText } from "../../lib/report/status.ts";
import { coordinatorOutputs, farmSummary, outputBuilder, summaryRow } from "../../lib/report/summary.ts";
import { GIB } from "../../lib/core/units.ts";
import { builderInfo } from "../support/builder_info.ts";
import { farmSettings } from "../support/cluster.ts";

const disk = { buildDir: "/mnt/dnb-build", buildDirFreeBytes: 68.2 * GIB, storeFreeBytes: 20 * GIB };

const linux: Member = {
  alias: "nix-builder-1",
  address: "100.64.0.11",
  hostKeys: ["ssh-ed25519 AAAA"],
  info: builderInfo({ cores: 4, features: ["kvm", "nixos-test"], disk }),
  readySeconds: 1.25,
};
const mac: Member = {
  alias: "mac",
  address: "100.64.0.12",
  hostKeys: [],
  info: builderInfo({ system: "aarch64-darwin", systems: ["aarch64-darwin", "x86_64-darwin"], cores: 3 }),
  readySeconds: 12.04,
};

function claimed(member: Member, state: ClusterMember["state"], derivations?: number): ClusterMember {
  return {
    ...member,
    claimedAt: "2026-11-25T05:00:00.000Z",
    lastHeartbeat: "2026-11-25T05:03:00.000Z",
    missed: 0,
    state,
    ...(derivations !== undefined && {
      usage: {
        version: 1,
        claimedAt: "2026-11-25T05:00:00.000Z",
        at: "2026-11-25T05:10:00.000Z",
        derivations,
        busySeconds: 300,
      },
    }),
  };
}

Deno.test("a builder's row: max jobs is cores × jobs per core, worked out once; disk and link as given", () => {
  assert.deepEqual(builderRow(linux, 2, "direct"), {
    name: "nix-builder-1",
    address: "100.64.0.11",
    systems: ["x86_64-linux"],
    cores: 4,
    maxJobs: 8,
    features: ["kvm", "nixos-test"],
    readySeconds: 1.25,
    link: "direct",
    buildDir: "/mnt/dnb-build",
    buildDirFreeBytes: 68.2 * GIB,
    storeFreeBytes: 20 * GIB,
  });
  // A builder that did not say where it builds has no disk fields, and an unknown link by default.
  const row = builderRow(mac, 3);
  assert.equal(row.maxJobs, 9);
  assert.equal(row.link, "unknown");
  assert.ok(!("buildDir" in row));
  assert.deepEqual(
    builderRows([linux, mac], 1, new Map([["mac", "relayed (DERP iad)"]])).map((r) => [r.name, r.maxJobs, r.link]),
    [["nix-builder-1", 4, "unknown"], ["mac", 3, "relayed (DERP iad)"]],
  );
});

Deno.test("a farm row adds what the farm record knows: claim, heartbeat, state and the latest reading", () => {
  const row = farmRow(claimed(linux, "ready", 7), 2);
  assert.equal(row.maxJobs, 8);
  assert.deepEqual([row.claimedAt, row.lastHeartbeat, row.state], [
    "2026-11-25T05:00:00.000Z",
    "2026-11-25T05:03:00.000Z",
    "ready",
  ]);
  assert.deepEqual(row.usage, {
    derivations: 7,
    busySeconds: 300,
    claimedSeconds: 600,
    utilizationPercent: 50,
    at: "2026-11-25T05:10:00.000Z",
  });
  assert.equal(farmRow(claimed(mac, "lost"), 2).usage, null);
});

Deno.test("every view renders the same row: ready line, summary table, outputs, status text and status JSON", () => {
  const row = farmRow(claimed(linux, "ready", 7), 3);
  assert.equal(
    readyLine(row),
    "nix-builder-1 100.64.0.11 x86_64-linux 4 cores 12 jobs features kvm,nixos-test link unknown, " +
      "builds in /mnt/dnb-build (68.2 GiB free), /nix 20.0 GiB free, ready in 1.3s",
  );
  assert.equal(
    summaryRow(row),
    "| nix-builder-1 | 100.64.0.11 | x86_64-linux | 4 | 12 | kvm, nixos-test | unknown | " +
      "68.2 GiB free in /mnt/dnb-build, /nix 20.0 GiB free | 1.3 s |",
  );
  assert.equal(
    statusLine(row),
    "nix-builder-1            ready  100.64.0.11      x86_64-linux 4 cores, 12 jobs, features kvm,nixos-test, " +
      "link unknown, last heartbeat 2026-11-25T05:03:00.000Z",
  );
  const facts = { name: "nix-builder-1", address: "100.64.0.11", systems: ["x86_64-linux"], cores: 4, maxJobs: 12 };
  const features = ["kvm", "nixos-test"];
  assert.deepEqual(outputBuilder(row), { ...facts, features, readySeconds: 1.3, link: "unknown", ...disk });
  assert.deepEqual(statusBuilder(row), {
    ...facts,
    features,
    link: "unknown",
    claimedAt: row.claimedAt,
    lastHeartbeat: row.lastHeartbeat,
    state: "ready",
    usage: row.usage,
  });
  // The JSON views keep their documented key order.
  assert.deepEqual(Object.keys(outputBuilder(row)), [
    "name",
    "address",
    "systems",
    "cores",
    "maxJobs",
    "features",
    "readySeconds",
    "link",
    "buildDir",
    "buildDirFreeBytes",
    "storeFreeBytes",
  ]);
  assert.deepEqual(Object.keys(statusBuilder(row)), [
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
});

Deno.test("no view works out max jobs again: each shows the row's", () => {
  // A row whose max jobs is not cores × anything: every view must still show 5.
  const row: FarmRow = { ...farmRow(claimed(mac, "done"), 1), maxJobs: 5 };
  assert.match(readyLine(row), / 3 cores 5 jobs /);
  assert.match(summaryRow(row), /\| 3 \| 5 \|/);
  assert.match(statusLine(row), / 3 cores, 5 jobs,/);
  assert.equal(outputBuilder(row).maxJobs, 5);
  assert.equal(statusBuilder(row).maxJobs, 5);
  const rows: BuilderRow[] = [row];
  assert.equal(JSON.parse(coordinatorOutputs("coord", rows, "", 1).builders!)[0].maxJobs, 5);
  assert.match(farmSummary("coord", rows, 1), /\| mac \| 100\.64\.0\.12 \| aarch64-darwin, x86_64-darwin \| 3 \| 5 \|/);
});

Deno.test("the ready line: features or -, the link, the build folder when the builder said, seconds to the tenth", () => {
  assert.equal(
    readyLine(builderRow(mac, 2, "relayed (DERP iad)")),
    "mac 100.64.0.12 aarch64-darwin,x86_64-darwin 3 cores 6 jobs features - link relayed (DERP iad), ready in 12.0s",
  );
  const unknownFree = { ...linux, info: builderInfo({ cores: 1, disk: { buildDir: "/tmp" } }), readySeconds: 0 };
  assert.equal(
    readyLine(builderRow(unknownFree, 1, "direct")),
    "nix-builder-1 100.64.0.11 x86_64-linux 1 cores 1 jobs features - link direct, " +
      "builds in /tmp (free space unknown), /nix free space unknown, ready in 0.0s",
  );
});

Deno.test("dnb status: the farm's line, a line per builder and the utilization, all from the same rows", () => {
  const cluster: Cluster = {
    version: 1,
    settings: farmSettings({ stateDir: "/state" }),
    wanted: { kind: "names", names: ["nix-builder-1", "mac"], tag: "tag:nix-builder" },
    readyAt: "2026-11-25T05:00:00.000Z",
    builders: [claimed(linux, "ready", 7), claimed(mac, "lost")],
  };
  const status = {
    stateDir: "/state",
    cluster,
    stoppedAt: "2026-11-25T06:00:00.000Z",
    watchdog: { pid: 4242, running: true },
    links: new Map([["nix-builder-1", "relayed (DERP headscale)"]]),
  };
  assert.equal(
    statusText(status),
    [
      "coordinator coord, ready at 2026-11-25T05:00:00.000Z, lease 120s, watchdog running (pid 4242), " +
      "stopped at 2026-11-25T06:00:00.000Z",
      "nix-builder-1            ready  100.64.0.11      x86_64-linux 4 cores, 8 jobs, features kvm,nixos-test, " +
      "link relayed (DERP headscale), last heartbeat 2026-11-25T05:03:00.000Z",
      "mac                      lost   100.64.0.12      aarch64-darwin,x86_64-darwin 3 cores, 6 jobs, features -, " +
      "link unknown, last heartbeat 2026-11-25T05:03:00.000Z",
      "",
      "utilization, as each builder saw it:",
      "builder        derivations   busy  claimed  utilization",
      "nix-builder-1            7  5m00s   10m00s          50%",
      "mac                      -      -        -            -",
      "farm: 7 derivation(s); 5.00 busy minutes of 10.0 runner minutes (50%)",
      "",
    ].join("\n"),
  );
  const report = statusReport(status);
  assert.deepEqual(report.builders.map((builder) => builder.maxJobs), [8, 6]);
  assert.deepEqual(report.builders.map((builder) => builder.link), ["relayed (DERP headscale)", "unknown"]);
  assert.deepEqual(
    report.builders,
    cluster.builders.map((member) => statusBuilder(farmRow(member, 2, status.links.get(member.alias)))),
  );
  assert.deepEqual(
    statusReport({
      stateDir: "/none",
      cluster: undefined,
      stoppedAt: null,
      watchdog: { pid: null, running: false },
      links: new Map(),
    }),
    {
      version: 1,
      stateDir: "/none",
      coordinator: null,
      readyAt: null,
      stoppedAt: null,
      leaseSeconds: null,
      watchdog: { pid: null, running: false },
      builders: [],
      utilization: {
        buildersReporting: 0,
        derivations: 0,
        busyMinutes: 0,
        runnerMinutes: 0,
        utilizationPercent: null,
      },
    },
  );
});
