import assert from "node:assert/strict";
import { ROLE_OPTIONS } from "../../lib/config/options.ts";

const action = Deno.readTextFileSync(new URL("../../action.yml", import.meta.url));
const workflows = [".github/workflows/ci.yml", ".github/workflows/release.yml", "examples/distributed-build.yml"]
  .map((path) => [path, Deno.readTextFileSync(new URL(`../../${path}`, import.meta.url))] as const);

Deno.test("the action runs dnb and wires `dnb post` as a post step that runs whatever happened", () => {
  const step =
    /uses: gacts\/run-and-post-run@[0-9a-f]{40} # v[\d.]+ \(node24\)\n\s+env:\n(?:\s+(?:[A-Z_]+: .*|#.*)\n)+\s+with:\n(?:\s+#.*\n)?\s+run: (.*)\n\s+post: (.*)\n/
      .exec(
        action,
      );
  assert.ok(step, "a run-and-post-run step pinned by SHA with run and post");
  assert.equal(step[1], 'sudo -E env "PATH=$PATH" dnb');
  assert.equal(step[2], 'sudo -E env "PATH=$PATH" dnb post');
});

Deno.test("every action input reaches dnb as its DNB_ twin or TS_AUTHKEY, and only through env", () => {
  const twins = new Set(ROLE_OPTIONS.map((option) => `DNB_${option.flag.slice(2).toUpperCase().replaceAll("-", "_")}`));
  const wired = [...action.matchAll(/^\s+([A-Z_]+): \$\{\{ inputs\.[a-z_]+ \}\}$/gm)].map(([, variable]) => variable!);
  // The role and the key at least: a pattern that matched nothing would check nothing.
  for (const needed of ["DNB_ROLE", "TS_AUTHKEY"]) {
    assert.ok(wired.includes(needed), `action.yml does not pass ${needed}`);
  }
  for (const variable of wired) {
    assert.ok(variable === "TS_AUTHKEY" || twins.has(variable), `${variable} is not an input dnb reads`);
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

/** action.yml's steps in order: name, condition and what each uses or runs. */
function actionSteps(): { name: string; if: string; body: string }[] {
  return action.split("\n    - name: ").slice(1).map((block) => ({
    name: block.split("\n")[0]!,
    if: /^ {6}if: (.*)$/m.exec(block)?.[1] ?? "",
    body: block,
  }));
}

Deno.test("nothing-but-nix runs only where no Nix is installed yet, which is looked for first", () => {
  const steps = actionSteps();
  const look = steps.findIndex((step) => step.name === "Look for Nix");
  const free = steps.findIndex((step) => step.body.includes("uses: wimpysworld/nothing-but-nix@"));
  assert.ok(look >= 0 && free > look, "Look for Nix comes before nothing-but-nix");
  assert.match(steps[free]!.if, /steps\.nix\.outputs\.present != 'true'/);
  // nothing-but-nix checks for the folder, not the command: both count as present.
  assert.match(steps[look]!.body, /command -v nix >\/dev\/null 2>&1 \|\| \[ -d \/nix \]/);
});

Deno.test("magic-nix-cache is skipped with a notice on Intel macOS, where it has no binary", () => {
  const steps = actionSteps();
  const cache = steps.find((step) => step.body.includes("uses: DeterminateSystems/magic-nix-cache-action@"))!;
  const intelMac = "runner.os == 'macOS' && runner.arch == 'X64'";
  assert.ok(cache.if.includes(`!(${intelMac})`), cache.if);
  const notice = steps.find((step) => step.if.includes(intelMac) && !step.if.includes("!("))!;
  assert.match(notice.body, /::notice title=dnb::magic-nix-cache has no Intel macOS build; skipped/);
  assert.ok(steps.indexOf(notice) < steps.indexOf(cache));
});

Deno.test("the release pins its checksums in release/, making the folder first", async () => {
  const workflow = workflows.find(([path]) => path.endsWith("release.yml"))![1];
  const script = /name: Pin the release[^\n]*\n(?: {8}.*\n)*? {8}run: \|\n((?: {10}.*\n)+)/.exec(workflow)?.[1]
    ?.replace(/^ {10}/gm, "");
  assert.ok(script, "the pin step's script");
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/dist`);
    Deno.mkdirSync(`${dir}/bin`);
    Deno.writeTextFileSync(`${dir}/dist/SHA256SUMS`, "abc  dnb-linux-x64\n");
    // git records what it is asked, so the script runs here without a repository or a remote.
    Deno.writeTextFileSync(`${dir}/bin/git`, '#!/bin/sh\necho "$*" >>"$GIT_LOG"\n', { mode: 0o755 });
    const run = await new Deno.Command("bash", {
      args: ["-euo", "pipefail", "-c", script],
      cwd: dir,
      env: { PATH: `${dir}/bin:/usr/bin:/bin`, TAG: "v0.2.1", GIT_LOG: `${dir}/git.log` },
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.equal(Deno.readTextFileSync(`${dir}/release/VERSION`), "v0.2.1\n");
    assert.equal(Deno.readTextFileSync(`${dir}/release/SHA256SUMS`), "abc  dnb-linux-x64\n");
    const git = Deno.readTextFileSync(`${dir}/git.log`);
    assert.match(git, /^add release\/VERSION release\/SHA256SUMS$/m);
    assert.match(git, /^tag -f v0$/m);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
