import assert from "node:assert/strict";
import { Redactor } from "../../lib/core/redact.ts";

Deno.test("every registered secret is masked, the longest first", () => {
  const redactor = new Redactor();
  redactor.add("tskey-client-abc123");
  redactor.add("tskey-client-abc123?ephemeral=true");
  redactor.add(undefined);
  assert.equal(
    redactor.redact("key tskey-client-abc123?ephemeral=true and tskey-client-abc123 twice tskey-client-abc123"),
    "key *** and *** twice ***",
  );
});

Deno.test("text without secrets is untouched, and very short values are never treated as secrets", () => {
  const redactor = new Redactor();
  redactor.add("abc");
  assert.equal(redactor.redact("abc def"), "abc def");
});
