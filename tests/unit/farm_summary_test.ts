import assert from "node:assert/strict";
import { renderOutputs } from "../../lib/core/actions.ts";
import { coordinatorOutputs, farmSummary } from "../../lib/report/summary.ts";
import { diskText } from "../../lib/report/ready_line.ts";

const rows = [
  {
    name: "nix-builder-1-1-linux-x64-a1",
    address: "100.64.0.11",
    systems: ["x86_64-linux"],
    cores: 4,
    maxJobs: 8,
    features: ["kvm"],
    readySeconds: 1.2,
    link: "direct",
    buildDir: "/mnt/dnb-build",
    buildDirFreeBytes: 68.2 * 2 ** 30,
    storeFreeBytes: 20 * 2 ** 30,
  },
  {
    name: "mac",
    address: "100.64.0.12",
    systems: ["aarch64-darwin", "x86_64-darwin"],
    cores: 3,
    maxJobs: 6,
    features: [],
    readySeconds: 2.5,
    link: "relayed (DERP iad)",
  },
];

Deno.test("the step summary has a row per builder and a diagram of the farm", () => {
  assert.equal(
    farmSummary("coord-1", rows, 2.54),
    [
      "### dnb: 2 builder(s) ready in 2.5 s",
      "",
      "| builder | address | systems | cores | max jobs | features | link | free for builds | ready after |",
      "|---|---|---|---:|---:|---|---|---|---:|",
      "| nix-builder-1-1-linux-x64-a1 | 100.64.0.11 | x86_64-linux | 4 | 8 | kvm | direct | " +
      "68.2 GiB free in /mnt/dnb-build, /nix 20.0 GiB free | 1.2 s |",
      "| mac | 100.64.0.12 | aarch64-darwin, x86_64-darwin | 3 | 6 | - | relayed (DERP iad) | - | 2.5 s |",
      "",
      "```mermaid",
      "graph LR",
      '  n_coord_1["coord-1<br/>coordinator"]',
      '  n_coord_1 -->|ssh-ng| n_nix_builder_1_1_linux_x64_a1["nix-builder-1-1-linux-x64-a1<br/>x86_64-linux, 4 cores"]',
      '  n_coord_1 -->|ssh-ng| n_mac["mac<br/>aarch64-darwin, 3 cores"]',
      "```",
      "",
    ].join("\n"),
  );
});

Deno.test("outputs: builders as JSON, every system once, the machines file, readiness and hostname", () => {
  const outputs = coordinatorOutputs("coord-1", rows, "line1\nline2\n", 2.54);
  assert.deepEqual(JSON.parse(outputs.builders!), rows);
  assert.equal(outputs.systems, "aarch64-darwin,x86_64-darwin,x86_64-linux");
  assert.equal(outputs.ready_seconds, "2.5");
  assert.equal(outputs.hostname, "coord-1");
  assert.equal(
    renderOutputs({ machines: outputs.machines!, hostname: "coord-1" }, "EOF_1"),
    "machines<<EOF_1\nline1\nline2\n\nEOF_1\nhostname<<EOF_1\ncoord-1\nEOF_1\n",
  );
});

Deno.test("a ready line names each builder's build folder and its free space, or says it is unknown", () => {
  const disk = { buildDir: "/mnt/dnb-build", buildDirFreeBytes: 68.2 * 2 ** 30, storeFreeBytes: 20 * 2 ** 30 };
  assert.equal(diskText({ disk }), "builds in /mnt/dnb-build (68.2 GiB free), /nix 20.0 GiB free");
  assert.equal(
    diskText({ disk: { buildDir: "/tmp" } }),
    "builds in /tmp (free space unknown), /nix free space unknown",
  );
  // A builder that does not say (an older dnb) adds nothing to its line.
  assert.equal(diskText({}), "");
});
