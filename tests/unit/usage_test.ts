import assert from "node:assert/strict";
import { parseUsage, recordSample, startMeter, usageOf } from "../../lib/protocol/usage.ts";

const CLAIMED = Date.parse("2026-11-25T05:00:00.000Z");

Deno.test("a meter counts new logs as derivations and only the intervals in which something was building", () => {
  const samples = [
    { at: CLAIMED + 1000, newLogs: 0, running: 0 }, // idle
    { at: CLAIMED + 2000, newLogs: 2, running: 2 }, // two builds start
    { at: CLAIMED + 3000, newLogs: 0, running: 1 }, // one still runs
    { at: CLAIMED + 4000, newLogs: 1, running: 0 }, // a build shorter than a sample: only its log shows
    { at: CLAIMED + 6500, newLogs: 0, running: 0 }, // idle again
  ];
  const meter = samples.reduce(recordSample, startMeter(CLAIMED));
  assert.deepEqual(meter, { claimedAt: CLAIMED, lastSampleAt: CLAIMED + 6500, derivations: 3, busyMs: 3000 });
  assert.deepEqual(usageOf(meter), {
    version: 1,
    claimedAt: "2026-11-25T05:00:00.000Z",
    at: "2026-11-25T05:00:06.500Z",
    derivations: 3,
    busySeconds: 3,
  });
});

Deno.test("a sample from before the last one (a clock step back) adds no time", () => {
  const meter = recordSample(startMeter(CLAIMED), { at: CLAIMED + 2000, newLogs: 0, running: 1 });
  const stepped = recordSample(meter, { at: CLAIMED + 1000, newLogs: 0, running: 1 });
  assert.deepEqual(stepped, { ...meter });
});

Deno.test("the coordinator accepts a builder's reading only in the exact shape, and drops unknown fields", async (t) => {
  const valid = {
    version: 1,
    claimedAt: "2026-11-25T05:00:00.000Z",
    at: "2026-11-25T05:01:00.000Z",
    derivations: 3,
    busySeconds: 42.5,
  };
  await t.step("valid", () => {
    assert.deepEqual(parseUsage(JSON.stringify({ ...valid, note: "$(reboot)" }) + "\n"), valid);
    assert.deepEqual(parseUsage(JSON.stringify(usageOf(startMeter(CLAIMED)))), {
      ...valid,
      at: valid.claimedAt,
      derivations: 0,
      busySeconds: 0,
    });
  });
  const invalid: [string, string][] = [
    ["nothing (an older builder)", ""],
    ["not JSON", "dnb: hello"],
    ["another version", JSON.stringify({ ...valid, version: 2 })],
    ["a negative count", JSON.stringify({ ...valid, derivations: -1 })],
    ["a fractional count", JSON.stringify({ ...valid, derivations: 1.5 })],
    ["a time that is not ISO 8601", JSON.stringify({ ...valid, at: "$(touch /tmp/pwned)" })],
    ["more busy time than claimed time", JSON.stringify({ ...valid, busySeconds: 75 })],
    ["a huge reading", JSON.stringify({ ...valid, padding: "x".repeat(5000) })],
  ];
  for (const [name, text] of invalid) {
    await t.step(name, () => assert.equal(parseUsage(text), undefined));
  }
});
