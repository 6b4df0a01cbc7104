import assert from "node:assert/strict";
import { breakdown } from "../bench/nix_log_breakdown.ts";

const U1 = "ssh-ng://root@b1?remote-program=/usr/bin/nix-daemon";
const U2 = "ssh-ng://root@b2?remote-program=/usr/bin/nix-daemon";
const D1 = "/nix/store/aaaa-work-0.drv";
const D2 = "/nix/store/bbbb-work-1.drv";

Deno.test("each remote derivation's phases come from the timestamped -vvv lines of its machine", () => {
  const log = [
    `100.000 hook reply is 'postpone'`,
    `100.100 connecting to '${U1}'`,
    `100.150 connecting to '${U2}'`,
    `100.400 building '${D1}' on '${U1}'`,
    `100.450 copying dependencies to '${U1}'`,
    `100.550 building '${D2}' on '${U2}'`,
    `100.900 copying outputs from '${U1}'`,
    `101.000 copying outputs from '${U2}'`,
    `101.100 builder process for '${D1}' finished`,
    `101.250 builder process for '${D2}' finished`,
    "not a timestamped line",
  ].join("\n");
  // Two slots for 1.5 s: 3000 ms, of which the two derivations kept them busy 1000 + 1100 ms.
  assert.deepEqual(breakdown(log, 2, 1.5), {
    derivations: 2,
    connectMs: 350, // 300 and 400
    copyInAndBuildMs: 475, // 500 and 450
    copyOutMs: 225, // 200 and 250
    idleMs: 450, // (3000 - 2100) / 2
    postpones: 1,
  });
});

Deno.test("a derivation whose markers are missing is left out, not counted as zero", () => {
  const log = [`1.000 connecting to '${U1}'`, `1.200 building '${D1}' on '${U1}'`].join("\n");
  assert.equal(breakdown(log, 1, 1).derivations, 0);
});
