/**
 * Markdown injection in the step summary (issue 15): a builder chooses its name, systems, features and
 * build folder, and the summary is rendered as Markdown with HTML. Cells must stay text in their cell.
 */
import assert from "node:assert/strict";
import { farmSummary } from "../../lib/report/summary.ts";
import { usageMarkdown, type UsageRow, usageTotals } from "../../lib/report/usage.ts";
import { markdownItem, markdownText, mermaidText } from "../../lib/report/markdown.ts";
import type { BuilderRow } from "../../lib/report/builder_row.ts";
import { HOSTILE } from "./hostile_strings.ts";

function hostileRow(text: string): BuilderRow {
  return {
    name: text,
    address: text,
    systems: [text, "x86_64-linux"],
    cores: 4,
    maxJobs: 8,
    features: [text],
    readySeconds: 1.2,
    link: text,
    buildDir: text,
    buildDirFreeBytes: 1,
    storeFreeBytes: 1,
  };
}

/** The characters of `line` that Markdown would read as markup: those not escaped by a backslash. */
function markup(line: string): string {
  return line.replace(/\\./g, "").replace(/&(amp|lt|gt|quot);/g, "").replace(/[^|[\]`<>*~$&"\\]/g, "");
}

const show = (text: string) => JSON.stringify(text.slice(0, 60));

Deno.test("a builder's text in the summary table is text: no link, image, HTML, code span, or extra cell or row", () => {
  for (const attack of HOSTILE) {
    const summary = farmSummary("coord", [hostileRow(attack)], 1.2);
    const lines = summary.split("\n");
    const table = lines.filter((line) => line.startsWith("|"));
    assert.equal(table.length, 3, `one row: ${show(attack)}`);
    // Every pipe of the row is one of its ten cell borders; nothing else is markup.
    assert.equal(markup(table[2]!), "|".repeat(10), show(attack));
    assert.ok(table[2]!.length < 12 * 4096, `bounded: ${show(attack)}`);
  }
});

Deno.test("a builder's name in the diagram cannot close its label, add HTML or end the code block", () => {
  for (const attack of HOSTILE) {
    const lines = farmSummary(attack, [hostileRow(attack)], 1.2).split("\n");
    const start = lines.indexOf("```mermaid");
    const diagram = lines.slice(start + 1, lines.indexOf("```", start + 1));
    assert.equal(diagram.length, 3, `three lines of diagram: ${show(attack)}`);
    for (const line of diagram.slice(1)) {
      assert.equal(line.split('"').length, 3, `one quoted label: ${show(attack)}`);
      assert.deepEqual(line.replaceAll("<br/>", "").replace(" -->|ssh-ng| ", "").match(/[<>`]/g), null, show(attack));
    }
  }
});

Deno.test("the utilization table and its notes escape builders' names", () => {
  for (const attack of HOSTILE) {
    const usage = {
      derivations: 0,
      busySeconds: 0,
      claimedSeconds: 60,
      utilizationPercent: 0,
      at: "2026-01-01T00:00:00Z",
    };
    // b2 built something, so the notes name the builder that built nothing.
    const rows: UsageRow[] = [{ name: attack, usage }, { name: "b2", usage: { ...usage, derivations: 1 } }];
    const lines = usageMarkdown(rows, usageTotals(rows)).split("\n");
    const table = lines.filter((line) => line.startsWith("|"));
    assert.equal(table.length, 5, `one row per builder: ${show(attack)}`);
    assert.equal(markup(table[2]!), "|".repeat(6), show(attack));
    // Two notes, one line each: b1 built nothing, and the farm was mostly idle.
    const notes = lines.filter((line) => line.startsWith("- "));
    assert.equal(notes.length, 2, `a line per note: ${show(attack)}`);
    for (const note of notes) {
      assert.equal(markup(note), "", show(attack));
      // Nor does a note open a block of its own: a heading, a nested list.
      assert.doesNotMatch(note, /^- (?:[#+\-]|\d+[.)])/, show(attack));
    }
  }
});

Deno.test("markdownText escapes markup and HTML and leaves names, systems and paths as they are", () => {
  for (const plain of ["nix-builder-1", "x86_64-linux", "relayed (DERP iad)", "68.2 GiB free in /mnt/dnb-build", "-"]) {
    assert.equal(markdownText(plain), plain);
  }
  assert.equal(markdownText("![a](http://x)"), "!\\[a\\](http://x)");
  assert.equal(markdownText("<img src=x>"), "&lt;img src=x&gt;");
  assert.equal(markdownText("a | b `c` _d_ x_y"), "a \\| b \\`c\\` \\_d\\_ x_y");
  assert.equal(markdownText("&lt;"), "&amp;lt;");
  assert.equal(markdownItem("# heading"), "- \\# heading");
  assert.equal(markdownItem("1. item"), "- 1\\. item");
  assert.equal(mermaidText('a"]<b>`#lt;'), "a#quot;]#lt;b#gt;#96;#35;lt;");
});
