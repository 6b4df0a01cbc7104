import assert from "node:assert/strict";
import { ROLE_OPTIONS } from "../../lib/options.ts";

const action = Deno.readTextFileSync(new URL("../../action.yml", import.meta.url));
const workflows = [".github/workflows/ci.yml", ".github/workflows/release.yml", "examples/distributed-build.yml"]
  .map((path) => [path, Deno.readTextFileSync(new URL(`../../${path}`, import.meta.url))] as const);

Deno.test("the action runs dnb and wires `dnb post` as a post step that runs whatever happened", () => {
  const step =
    /uses: gacts\/run-and-post-run@[0-9a-f]{40} # v[\d.]+\n\s+env:\n(?:\s+(?:[A-Z_]+: .*|#.*)\n)+\s+with:\n(?:\s+#.*\n)?\s+run: (.*)\n\s+post: (.*)\n/
      .exec(
        action,
      );
  assert.ok(step, "a run-and-post-run step pinned by SHA with run and post");
  assert.equal(step[1], 'sudo -E env "PATH=$PATH" dnb');
  assert.equal(step[2], 'sudo -E env "PATH=$PATH" dnb post');
});

Deno.test("every action input reaches dnb as its DNB_ twin or TS_AUTHKEY, and only through env", () => {
  const twins = new Set(ROLE_OPTIONS.map((option) => `DNB_${option.flag.slice(2).toUpperCase().replaceAll("-", "_")}`));
  for (const [, variable] of action.matchAll(/^\s+([A-Z_]+): \$\{\{ inputs\.[a-z_]+ \}\}$/gm)) {
    assert.ok(variable === "TS_AUTHKEY" || twins.has(variable!), `${variable} is not an input dnb reads`);
  }
  for (const [path, text] of [["action.yml", action] as const, ...workflows]) {
    for (const line of scriptLines(text)) {
      assert.ok(!line.includes("${{"), `${path}: an expression inside a script: ${line.trim()}`);
    }
  }
});

/** The lines of every `run:` script, one-line or block. */
function scriptLines(text: string): string[] {
  const lines = text.split("\n");
  const scripts: string[] = [];
  lines.forEach((line, index) => {
    const run = /^(\s*)(?:- )?run: ?(.*)$/.exec(line);
    if (!run) return;
    if (run[2] !== "|" && run[2] !== ">") return void scripts.push(run[2]!);
    for (const next of lines.slice(index + 1)) {
      if (next.trim() !== "" && next.search(/\S/) <= run[1]!.length) break;
      scripts.push(next);
    }
  });
  return scripts;
}

Deno.test("every third-party action is pinned by a full commit SHA", () => {
  for (const [path, text] of [["action.yml", action] as const, ...workflows]) {
    for (const [, target] of text.matchAll(/^\s*(?:- )?uses: (\S+)/gm)) {
      if (target!.startsWith("./") || target === "dnb/dnb@v0") continue;
      assert.match(target!, /@[0-9a-f]{40}$/, `${path}: ${target} is not pinned by SHA`);
    }
  }
});
