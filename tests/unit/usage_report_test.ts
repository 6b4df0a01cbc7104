import assert from "node:assert/strict";
import type { ClusterMember } from "../../lib/farm/cluster.ts";
import type { BuilderUsage } from "../../lib/protocol/usage.ts";
import {
  formatDuration,
  usageMarkdown,
  usageNotes,
  usageRows,
  usageText,
  usageTotals,
} from "../../lib/report/usage.ts";
import { builderInfo } from "../support/builder_info.ts";

const CLAIMED = "2026-11-25T05:00:00.000Z";

function member(alias: string, usage?: Partial<BuilderUsage> & { claimedMinutes?: number }): ClusterMember {
  const { claimedMinutes = 10, ...rest } = usage ?? {};
  return {
    alias,
    address: "100.64.0.2",
    hostKeys: [],
    info: builderInfo({
      hostname: alias,
      cores: 2,
      memoryBytes: 1,
      nixVersion: "2.8.0",
      nixDaemon: "/usr/bin/nix-daemon",
      startedAt: CLAIMED,
    }),
    readySeconds: 1,
    claimedAt: CLAIMED,
    lastHeartbeat: CLAIMED,
    missed: 0,
    state: "ready",
    usage: usage === undefined ? undefined : {
      version: 1,
      claimedAt: CLAIMED,
      at: new Date(Date.parse(CLAIMED) + claimedMinutes * 60_000).toISOString(),
      derivations: 0,
      busySeconds: 0,
      ...rest,
    },
  };
}

const FARM = [
  member("b1", { derivations: 12, busySeconds: 480 }),
  member("mac-builder", { derivations: 3, busySeconds: 65.4, claimedMinutes: 9.5 }),
  member("b3", { derivations: 0 }),
  member("old"),
];

Deno.test("rows and totals: each builder's reading, the farm's runner and busy minutes; no reading is no row data", () => {
  const rows = usageRows(FARM);
  assert.deepEqual(rows[0], {
    name: "b1",
    usage: {
      derivations: 12,
      busySeconds: 480,
      claimedSeconds: 600,
      utilizationPercent: 80,
      at: "2026-11-25T05:10:00.000Z",
    },
  });
  assert.equal(rows[1]!.usage?.utilizationPercent, 11.5);
  assert.deepEqual(rows[3], { name: "old", usage: null });
  assert.deepEqual(usageTotals(rows), {
    buildersReporting: 3,
    derivations: 15,
    busyMinutes: 9.09,
    runnerMinutes: 29.5,
    utilizationPercent: 30.8,
  });
});

Deno.test("durations read at a glance in a table cell", () => {
  const cases: [number, string][] = [[0, "0.0s"], [4.24, "4.2s"], [9.96, "10.0s"], [42.4, "42s"], [65.4, "1m05s"], [
    3599.6,
    "1h00m",
  ], [3725, "1h02m"]];
  for (const [seconds, text] of cases) assert.equal(formatDuration(seconds), text, String(seconds));
});

Deno.test("the terminal table: aligned columns, the farm totals and what they mean", () => {
  const rows = usageRows(FARM);
  assert.deepEqual(usageText(rows, usageTotals(rows)), [
    "builder      derivations   busy  claimed  utilization",
    "b1                    12  8m00s   10m00s          80%",
    "mac-builder            3  1m05s    9m30s          12%",
    "b3                     0   0.0s   10m00s         0.0%",
    "old                    -      -        -            -",
    "farm: 15 derivation(s); 9.09 busy minutes of 29.5 runner minutes (31%)",
    "b3 built nothing: the farm would have done as well without it",
  ]);
});

Deno.test("the step summary: a markdown table with the farm's totals in bold, and the notes as a list", () => {
  const rows = usageRows([member("b1", { derivations: 5, busySeconds: 30 }), member("b2", { derivations: 1 })]);
  assert.equal(
    usageMarkdown(rows, usageTotals(rows)),
    [
      "### dnb: farm utilization",
      "",
      "| builder | derivations | busy | claimed | utilization |",
      "|---|---:|---:|---:|---:|",
      "| b1 | 5 | 30s | 10m00s | 5.0% |",
      "| b2 | 1 | 0.0s | 10m00s | 0.0% |",
      "| **farm** | **6** | **0.50 min** | **20.0 min** | **2.5%** |",
      "",
      "Busy: time in which the builder ran at least one build, as the builder saw it (sampled every second). " +
      "Claimed: from the coordinator's claim to the builder's last reading.",
      "",
      "- the farm was busy 2.5% of its claimed time: fewer builders would do",
      "",
    ].join("\n"),
  );
});

Deno.test("notes say whether the farm is sized right", async (t) => {
  const cases: [string, ClusterMember[], string[]][] = [
    ["no readings", [member("old")], [
      "no builder reported its usage (builders running an older dnb, or lost before their first heartbeat)",
    ]],
    ["nothing built", [member("b1", { derivations: 0 })], [
      "the farm built nothing: check that builds run with --max-jobs 0 and were not all substituted",
    ]],
    ["mostly idle", [member("b1", { derivations: 2, busySeconds: 60 })], [
      "the farm was busy 10% of its claimed time: fewer builders would do",
    ]],
    ["sized about right", [member("b1", { derivations: 9, busySeconds: 300 })], []],
    ["one builder did all the work", [
      member("b1", { derivations: 9, busySeconds: 590 }),
      member("b2", { derivations: 0 }),
    ], ["b2 built nothing: the farm would have done as well without it"]],
    ["busy throughout", [member("b1", { derivations: 40, busySeconds: 570 })], [
      "the farm was busy 95% of its claimed time: more or larger builders may finish sooner",
    ]],
  ];
  for (const [name, members, notes] of cases) {
    await t.step(name, () => {
      const rows = usageRows(members);
      assert.deepEqual(usageNotes(rows, usageTotals(rows)), notes);
    });
  }
});
