/**
 * Workflow-command injection (issue 15): text from a builder, a peer or the tailnet reaches dnb's log lines
 * (claim failures, store checks, tailscale errors). The GitHub runner obeys a line that starts with `::`
 * after white space, and one that holds `##[` anywhere, and it ends a line at a bare `\r` as well as `\n`.
 * These tests read dnb's stderr as the runner does and check that it obeys only what dnb meant.
 */
import assert from "node:assert/strict";
import { annotate, notice, say, warn } from "../../lib/core/log.ts";
import { inGroup, maskInLogs } from "../../lib/core/actions.ts";
import { LINE_MAX, MESSAGE_MAX } from "../../lib/core/sanitize.ts";
import { actionsEnv } from "../support/github.ts";
import { testContext } from "../support/context.ts";
import { HOSTILE } from "./hostile_strings.ts";

interface Obeyed {
  readonly name: string;
  readonly data: string;
}

/** The runner's own unescaping of a command's data (ActionCommand.UnescapeData), in its order. */
function unescapeData(data: string): string {
  return data.replaceAll("%0D", "\r").replaceAll("%0A", "\n").replaceAll("%25", "%");
}

/**
 * The commands the runner would obey in `stream` (what dnb wrote to stderr, a line per ctx.err call): lines
 * end at `\r\n`, `\n` or `\r`; `::name …::data` after leading white space, else `##[name]data` anywhere.
 */
function obeyed(stream: string): Obeyed[] {
  return stream.split(/\r\n|\r|\n/).flatMap((line): Obeyed[] => {
    const trimmed = line.trimStart();
    const end = trimmed.startsWith("::") ? trimmed.indexOf("::", 2) : -1;
    if (end > 2) return [{ name: trimmed.slice(2, end).split(" ")[0]!, data: unescapeData(trimmed.slice(end + 2)) }];
    const legacy = /##\[([^\]\s]+)[^\]]*\](.*)/.exec(line);
    return legacy ? [{ name: legacy[1]!, data: legacy[2]! }] : [];
  });
}

const show = (text: string) => JSON.stringify(text.slice(0, 60));

// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

Deno.test("the runner model reads commands as the runner does (so the tests below can fail)", () => {
  assert.deepEqual(obeyed("dnb: x\r::stop-commands::tok\n  ::add-mask::s\nok ##[error]legacy").map((c) => c.name), [
    "stop-commands",
    "add-mask",
    "error",
  ]);
  assert.deepEqual(obeyed("::warning::a%0Ab%25"), [{ name: "warning", data: "a\nb%" }]);
});

Deno.test("a progress line holding a peer's text issues no workflow command (\\r::stop-commands::, ::add-mask::, ##[)", () => {
  for (const attack of HOSTILE) {
    const ctx = testContext({ env: actionsEnv() });
    say(ctx, `b1 is not ready yet: ${attack}`);
    assert.deepEqual(obeyed(ctx.stderr.join("\n")), [], show(attack));
    assert.equal(ctx.stderr.length, 1);
    assert.ok(!/[\r\n]/.test(ctx.stderr[0]!), `one line: ${show(attack)}`);
  }
});

Deno.test("a warning, notice or error holding a peer's text issues its own annotation and nothing else", () => {
  const kinds = [
    ["warning", (ctx, text) => warn(ctx, `refusing b1: ${text}`)],
    ["notice", (ctx, text) => notice(ctx, `no builder came: ${text}`)],
    ["error", (ctx, text) => annotate(ctx, "error", `dnb: tailscale up failed: ${text}`)],
  ] as const satisfies readonly (readonly [string, (ctx: ReturnType<typeof testContext>, text: string) => void])[];
  for (const attack of HOSTILE) {
    for (const [kind, print] of kinds) {
      const ctx = testContext({ env: actionsEnv() });
      print(ctx, attack);
      const commands = obeyed(ctx.stderr.join("\n"));
      assert.deepEqual(commands.map((command) => command.name), [kind], `${kind}: ${show(attack)}`);
      // The annotation says exactly what the plain line said.
      assert.equal(commands[0]!.data, ctx.stderr[0], `${kind}: ${show(attack)}`);
    }
  }
});

Deno.test("control characters, ESC sequences, NUL, RTL overrides and lone surrogates never reach the log raw", () => {
  for (const attack of HOSTILE) {
    const ctx = testContext({ env: actionsEnv() });
    say(ctx, attack);
    warn(ctx, attack);
    annotate(ctx, "error", `dnb: ${attack}\nsecond line`);
    for (const line of ctx.stderr) {
      assert.ok(!RAW_CONTROL.test(line), `a control character from ${show(attack)}: ${show(line)}`);
      assert.ok(!LONE_SURROGATE.test(line), `a lone surrogate from ${show(attack)}`);
    }
  }
  const ctx = testContext();
  say(ctx, "\x1b[31mred\x1b[0m \u202eexe.txt nul\0");
  assert.deepEqual(ctx.stderr, ["dnb: \\x1b[31mred\\x1b[0m \\u202eexe.txt nul\\x00"]);
});

Deno.test("a 1 MB line from a builder is cut, in the log and in the annotation", () => {
  const ctx = testContext({ env: actionsEnv() });
  say(ctx, `b1: ${"x".repeat(1_000_000)}`);
  warn(ctx, "y".repeat(1_000_000));
  assert.ok(ctx.stderr[0]!.length < LINE_MAX + 100, `a line of ${ctx.stderr[0]!.length}`);
  assert.match(ctx.stderr[0]!, /x … \(\d+ more characters\)$/);
  for (const line of ctx.stderr.slice(1)) assert.ok(line.length < MESSAGE_MAX + 100, `a line of ${line.length}`);
});

Deno.test("ordinary lines print as before; a message of several lines keeps them, escaped in its annotation", () => {
  const ctx = testContext({ env: actionsEnv() });
  say(ctx, "joined the tailnet as coord-1 (100.64.0.1)");
  warn(ctx, "b1 is 100% busy");
  annotate(ctx, "error", "dnb: ssh failed\nb1: connection refused");
  assert.deepEqual(ctx.stderr, [
    "dnb: joined the tailnet as coord-1 (100.64.0.1)",
    "dnb: warning: b1 is 100% busy",
    "::warning::dnb: warning: b1 is 100%25 busy",
    "dnb: ssh failed\nb1: connection refused",
    "::error::dnb: ssh failed%0Ab1: connection refused",
  ]);
});

Deno.test("a mask is one command whatever the secret holds; a group title cannot issue commands", async () => {
  const ctx = testContext({ env: actionsEnv() });
  maskInLogs(ctx, "tskey-auth-k\r\n::stop-commands::x%");
  assert.deepEqual(ctx.stdout, ["::add-mask::tskey-auth-k%0D%0A::stop-commands::x%25\n"]);
  await inGroup(ctx, "claim b1\r::stop-commands::x ##[add-mask]y", () => Promise.resolve());
  assert.deepEqual(obeyed(ctx.stderr.join("\n")).map((command) => command.name), ["group", "endgroup"]);
});
