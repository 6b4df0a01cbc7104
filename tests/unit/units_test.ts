import assert from "node:assert/strict";
import { freeText, GIB, gib } from "../../lib/core/units.ts";

Deno.test("gib: bytes in GiB to one decimal, without the unit", () => {
  assert.equal(GIB, 1024 ** 3);
  assert.equal(gib(0), "0.0");
  assert.equal(gib(GIB), "1.0");
  assert.equal(gib(68.2 * GIB), "68.2");
  assert.equal(gib(20 * GIB + 1), "20.0");
  // Rounds to the nearest tenth: 0.05 GiB and up shows as 0.1.
  assert.equal(gib(0.04 * GIB), "0.0");
  assert.equal(gib(0.06 * GIB), "0.1");
  assert.equal(gib(16e9), "14.9");
  // KiB from df, scaled to bytes, reads the same as the KiB in GiB.
  assert.equal(gib(83375884 * 1024), (83375884 / 1024 / 1024).toFixed(1));
});

Deno.test("freeText: free space in GiB, or that it is not known", () => {
  assert.equal(freeText(68.2 * GIB), "68.2 GiB free");
  assert.equal(freeText(0), "0.0 GiB free");
  assert.equal(freeText(undefined), "free space unknown");
});
