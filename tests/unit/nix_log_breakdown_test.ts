import assert from "node:assert/strict";
import { breakdown } from "../bench/nix_log_breakdown.ts";

const U1 = "ssh-ng://root@b1?remote-program=/usr/bin/nix-daemon";
const D1 = "/nix/store/aaaa-work-0.drv";
const D2 = "/nix/store/bbbb-work-1.drv";

Deno.test("each remote derivation's phases come from the timestamped -vvv lines that name it", () => {
  // As Nix 2.8 prints them (tests/bench/latency.ts): D2 waits for D1's slot, then has its own hook.
  const log = [
    `100.000 connecting to '${U1}'...`,
    `100.300 hook reply is 'accept'`,
    `100.300 building '${D1}' on '${U1}'...`,
    `100.310 hook reply is 'postpone'`,
    `100.310 waiting for a machine to build '${D2}'...`,
    `100.320 copying dependencies to '${U1}'...`,
    `100.500 copying outputs from '${U1}'...`,
    `100.600 builder process for '${D1}' finished`,
    `101.400 connecting to '${U1}'...`,
    `101.600 building '${D2}' on '${U1}'...`,
    `101.900 builder process for '${D2}' finished`,
    "not a timestamped line",
  ].join("\n");
  assert.deepEqual(breakdown(log), {
    derivations: 2,
    postponedMs: 645, // 0 and 1290
    connectMs: 250, // 300 and 200
    remoteMs: 300, // 300 and 300
    postpones: 1,
  });
});

Deno.test("a derivation whose markers are missing is left out, not counted as zero", () => {
  const log = [`1.000 connecting to '${U1}'...`, `1.200 building '${D1}' on '${U1}'...`].join("\n");
  assert.equal(breakdown(log).derivations, 0);
});
