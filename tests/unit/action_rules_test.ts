import assert from "node:assert/strict";
import { ACTION_PLACEHOLDER, retiredRunnerLabels, stalePins } from "../tools/action_rules.ts";
import { fromFileUrl } from "../support/paths.ts";

const REPO = fromFileUrl(new URL("../../", import.meta.url));
const CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1";

Deno.test("retired runner labels are findings wherever a job names them, comments aside", () => {
  const workflow = [
    "jobs:",
    "  a:",
    "    runs-on: macos-13",
    "  b:",
    "    strategy: { matrix: { runner: [ubuntu-latest, macos-14, macos-26-intel, macos-15-intel] } }",
    "    runs-on: ubuntu-20.04 # was ubuntu-18.04",
  ].join("\n");
  assert.deepEqual(retiredRunnerLabels(workflow).map((finding) => [finding.line, finding.message.split(" was")[0]]), [
    [3, "runner label macos-13"],
    [5, "runner label macos-14"],
    [6, "runner label ubuntu-20.04"],
  ]);
});

Deno.test("a pin must be a full SHA with its release and a runtime GitHub still runs", () => {
  const findings = stalePins([
    `      - uses: ${CHECKOUT} # v7.0.1 (node24)`,
    "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2 (node20)",
    "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2",
    "      - uses: actions/cache@v4",
    "      uses: cachix/install-nix-action@630ae543ea3a38a9a4166f03376c02c50f408342 # v31.11.0 (composite)",
    "      - uses: old/thing@0123456789012345678901234567890123456789 # v1 (node16)",
    "      - uses: ./",
    `      - uses: ${ACTION_PLACEHOLDER}`,
  ].join("\n"));
  assert.deepEqual(findings.map((finding) => finding.line), [2, 3, 4, 6]);
  assert.match(findings[0]!.message, /\(v4\.2\.2\) declares node20, which GitHub no longer runs/);
  assert.match(findings[1]!.message, /say the release and its runtime beside the pin/);
  assert.match(findings[2]!.message, /actions\/cache@v4 is not pinned by a full commit SHA/);
  assert.match(findings[3]!.message, /declares node16/);
});

Deno.test("the placeholder for dnb's own action can never name somebody's repository", () => {
  // GitHub account names hold letters, digits and single hyphens only.
  assert.doesNotMatch(ACTION_PLACEHOLDER.split("/")[0]!, /^[A-Za-z0-9](?:-?[A-Za-z0-9])*$/);
  for (const path of ["README.md", "examples/distributed-build.yml"]) {
    const text = Deno.readTextFileSync(`${REPO}${path}`);
    const targets = [...text.matchAll(/uses: ([\w.-]+\/dnb@\S+)/g)].map(([, target]) => target);
    assert.ok(targets.length > 0, `${path} shows no use of dnb's action`);
    for (const target of targets) assert.equal(target, ACTION_PLACEHOLDER, path);
  }
});

async function lint(root: string): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--frozen", "--config", `${REPO}deno.json`, `${REPO}tests/tools/lint_actions.ts`, root],
  }).output();
  const decoder = new TextDecoder();
  return { code: result.code, output: decoder.decode(result.stdout) + decoder.decode(result.stderr) };
}

Deno.test("deno task check's action lint passes on today's files and fails on a retired label or a node20 pin", async () => {
  assert.deepEqual(await lint(REPO), {
    code: 0,
    output: "lint_actions: action.yml, 3 workflow(s), 2 shell script(s): 0 problem(s)\n",
  });
  const copy = Deno.makeTempDirSync({ prefix: "dnb-lint-" });
  try {
    for (const entry of ["action.yml", ".github", "examples", ".ci", "scripts"]) {
      await new Deno.Command("cp", { args: ["-a", `${REPO}${entry}`, copy] }).output();
    }
    const ci = `${copy}/.github/workflows/ci.yml`;
    const today = Deno.readTextFileSync(ci);
    Deno.writeTextFileSync(ci, today.replace("macos-26-intel", "macos-13"));
    const retired = await lint(copy);
    assert.equal(retired.code, 1);
    assert.match(retired.output, /\.github\/workflows\/ci\.yml:\d+: runner label macos-13 was retired in 2025-12/);

    Deno.writeTextFileSync(
      ci,
      today.replace(
        /actions\/checkout@[0-9a-f]{40} # v7\.0\.1 \(node24\)/,
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2 (node20)",
      ),
    );
    const node20 = await lint(copy);
    assert.equal(node20.code, 1);
    assert.match(node20.output, /ci\.yml:\d+: actions\/checkout@11bd7\S+ \(v4\.2\.2\) declares node20/);
  } finally {
    Deno.removeSync(copy, { recursive: true });
  }
});
