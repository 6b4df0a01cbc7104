import assert from "node:assert/strict";
import type { Cluster } from "../../lib/farm/cluster.ts";
import { LINE_MAX, printable } from "../../lib/core/sanitize.ts";
import { statusText } from "../../lib/report/status.ts";
import { builderInfo } from "../support/builder_info.ts";
import { farmSettings } from "../support/cluster.ts";

Deno.test("printable leaves ordinary text as it is: tabs, accents, CJK, emoji, joiners", () => {
  for (
    const text of [
      "dnb: b1 100.64.0.11 x86_64-linux 4 cores 8 jobs features kvm link direct, ready in 1.2s",
      "a\tb",
      "é ü 日本 🚀 👩‍💻 e\u0301",
      "100% done: a,b:c [x](y) <z> | `q`",
    ]
  ) {
    assert.equal(printable(text), text);
    assert.equal(printable(text, { multiline: true }), text);
  }
});

Deno.test("printable shows control and bidirectional characters as escapes", () => {
  assert.equal(printable("a\nb\rc\0d\x1b[31m\x7f\x9b"), "a\\nb\\rc\\x00d\\x1b[31m\\x7f\\x9b");
  assert.equal(
    printable("\u202eexe.txt \u2066x\u2069 \u200f\u2028\u2029"),
    "\\u202eexe.txt \\u2066x\\u2069 \\u200f\\u2028\\u2029",
  );
  assert.equal(printable("lone \ud800 and \udfff"), "lone \ufffd and \ufffd");
});

Deno.test("printable multi-line keeps \\n, reads \\r\\n as \\n and escapes a bare \\r", () => {
  assert.equal(printable("one\r\ntwo\nthree\rfour", { multiline: true }), "one\ntwo\nthree\\rfour");
});

Deno.test("printable breaks the runner's command markers: a leading ::, and ##[ anywhere", () => {
  assert.equal(printable("::add-mask::x"), "\\::add-mask::x");
  assert.equal(printable(" \t::error::x"), " \t\\::error::x");
  assert.equal(printable("ok\n  ::warning::x", { multiline: true }), "ok\n  \\::warning::x");
  assert.equal(printable("a ##[stop-commands]t ###[x]"), "a ##\\[stop-commands]t ###\\[x]");
  // Not at the start of a line: no command, nothing to change.
  assert.equal(printable("a::b::c"), "a::b::c");
});

Deno.test("printable keeps at most max characters, never half a surrogate pair, and says how many went", () => {
  assert.equal(printable("x".repeat(LINE_MAX + 5)), `${"x".repeat(LINE_MAX)} … (5 more characters)`);
  assert.equal(printable("abc🚀def", { max: 4 }), "abc … (5 more characters)");
  assert.equal(printable("abcdef", { max: 6 }), "abcdef");
  assert.ok(printable("\0".repeat(1_000_000)).length < LINE_MAX * 4 + 100);
});

Deno.test("dnb status prints a builder's name with its escape sequences shown, not obeyed", () => {
  const member = {
    alias: "b1\x1b[2J\x1b[H\u202e",
    address: "100.64.0.11",
    hostKeys: [],
    info: builderInfo(),
    readySeconds: 1,
    claimedAt: "2026-11-25T05:00:00.000Z",
    lastHeartbeat: "2026-11-25T05:03:00.000Z",
    missed: 0,
    state: "ready" as const,
  };
  const cluster: Cluster = {
    version: 1,
    settings: farmSettings({ stateDir: "/state", jobsPerCore: 1 }),
    wanted: { kind: "names", names: ["b1"], tag: "tag:nix-builder" },
    readyAt: "2026-11-25T05:00:00.000Z",
    builders: [member],
  };
  const text = statusText({
    stateDir: "/state",
    cluster,
    stoppedAt: null,
    watchdog: { pid: null, running: false },
    links: new Map(),
  });
  assert.ok(!text.includes("\x1b") && !text.includes("\u202e"));
  assert.match(text, /^b1\\x1b\[2J\\x1b\[H\\u202e +ready/m);
});
