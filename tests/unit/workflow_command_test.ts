/** dnb's workflow-command formatter against `@actions/core`'s, properties included (`:` and `,` escaped). */
import assert from "node:assert/strict";
import process from "node:process";
import * as core from "@actions/core";
import { workflowCommand } from "../../lib/core/actions.ts";
import { HOSTILE, LONG_MIX } from "./hostile_strings.ts";

function coreWrites(call: () => void): string {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
  try {
    call();
  } finally {
    process.stdout.write = write;
  }
  return written.join("").replace(/\n$/, "");
}

Deno.test("workflowCommand escapes data and properties exactly as @actions/core issueCommand does", () => {
  for (const text of [...HOSTILE, LONG_MIX]) {
    const annotation = { title: text, file: `lib/${text}.ts`, startLine: 3, endLine: 4, startColumn: 1, endColumn: 9 };
    const properties = { title: text, file: `lib/${text}.ts`, line: 3, endLine: 4, col: 1, endColumn: 9 };
    assert.equal(
      workflowCommand("warning", properties, text),
      coreWrites(() => core.warning(text, annotation)),
      JSON.stringify(text.slice(0, 60)),
    );
    assert.equal(workflowCommand("add-mask", {}, text), coreWrites(() => core.setSecret(text)));
  }
  // A property without a value is left out, as @actions/core leaves it out.
  assert.equal(workflowCommand("error", { title: "", file: "a,b:c" }, "x"), "::error file=a%2Cb%3Ac::x");
  assert.equal(workflowCommand("endgroup", {}, ""), coreWrites(() => core.endGroup()));
});
