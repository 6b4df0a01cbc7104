/**
 * The GitHub Actions experience of a real farm run on the real tailnet (Headscale, tailscaled,
 * Tailscale SSH): masks, groups, outputs and the step summary. The OAuth client secret's masks are
 * the double's to show (secrets_test.ts): Headscale has no OAuth clients.
 */
import assert from "node:assert/strict";
import { createFarm, TWO_SYSTEM_HOSTS } from "./harness/farm.ts";
import { runCoordinator, startBuilder } from "./harness/dnb.ts";
import { realTailnetTest } from "./harness/prerequisites.ts";
import { actionsEnv, HOST_STEP_FILES } from "../support/github.ts";

/** Parses $GITHUB_OUTPUT's `name<<delimiter` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const header = /^([a-z_]+)<<(.+)$/.exec(lines[index]!);
    if (!header) continue;
    const end = lines.indexOf(header[2]!, index + 1);
    outputs[header[1]!] = lines.slice(index + 1, end).join("\n");
    index = end;
  }
  return outputs;
}

realTailnetTest(
  "on Actions: outputs, a summary table and diagram, log groups, and the auth key masked everywhere",
  async () => {
    await using farm = await createFarm({ hosts: TWO_SYSTEM_HOSTS });
    const secret = farm.authKey("coordinator");
    const env = { TS_AUTHKEY: secret, ...actionsEnv(HOST_STEP_FILES) };
    for (const name of ["b1", "b2"]) startBuilder(farm, name);
    const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1 b2", "--wait-timeout", "60"], env);
    assert.equal(coordinator.code, 0, coordinator.stderr);
    const dir = farm.host("coord").dir;
    const outputText = Deno.readTextFileSync(`${dir}${HOST_STEP_FILES.output}`);
    const summary = Deno.readTextFileSync(`${dir}${HOST_STEP_FILES.summary}`);

    const outputs = parseOutputs(outputText);
    assert.deepEqual(Object.keys(outputs), ["builders", "systems", "machines", "ready_seconds", "hostname"]);
    assert.deepEqual(JSON.parse(outputs.builders!).map((b: { name: string }) => b.name), ["b1", "b2"]);
    assert.ok(
      outputs.systems!.split(",").includes("aarch64-linux") && outputs.systems!.split(",").includes("x86_64-linux"),
    );
    assert.equal(outputs.machines!.split("\n").filter((line) => line.startsWith("ssh-ng://")).length, 2);
    assert.match(outputs.ready_seconds!, /^\d+\.\d$/);
    assert.equal(outputs.hostname, "coord");

    assert.match(
      summary,
      /\| builder \| address \| systems \| cores \| max jobs \| features \| link \| free for builds \| ready after \|/,
    );
    // Each builder's free space, where its builds go (Nix 2.8: /tmp) and in /nix.
    assert.match(
      summary,
      /\| b1 \| .* \| direct \| \d+\.\d GiB free in \/tmp, \/nix \d+\.\d GiB free \| [\d.]+ s \|/,
    );
    const rows = JSON.parse(outputs.builders!) as { buildDir?: string; buildDirFreeBytes?: number }[];
    assert.ok(rows.every((row) => row.buildDir === "/tmp" && row.buildDirFreeBytes! > 0));
    assert.match(summary, /\| b1 \| 100\.64\.0\.\d+ \| x86_64-linux/);
    assert.match(summary, /\| b2 \| 100\.64\.0\.\d+ \| aarch64-linux \|/);
    assert.match(summary, /```mermaid\ngraph LR\n/);

    // The key is masked for the runner, and written nowhere else.
    assert.ok(coordinator.stdout.includes(`::add-mask::${secret}\n`));
    const stdoutWithoutMasks = coordinator.stdout.split("\n").filter((line) => !line.startsWith("::add-mask::")).join(
      "\n",
    );
    for (const text of [outputText, summary, coordinator.stderr, stdoutWithoutMasks]) {
      assert.ok(!text.includes(secret), "the secret appears");
    }
    for (const group of ["Join the tailnet", "Find and claim builders", "Configure Nix"]) {
      assert.match(coordinator.stderr, new RegExp(`::group::${group}\\n[\\s\\S]*?::endgroup::`));
    }
  },
);
