/** One shared ssh connection per builder: which Nix can ride it, when it starts, and that it always ends. */
import assert from "node:assert/strict";
import { admitBuilder } from "../../lib/farm/admission.ts";
import type { LocalNix } from "../../lib/nix/probe.ts";
import { nixRidesSshMasters } from "../../lib/nix/ssh_masters.ts";
import { sshMasterPath } from "../../lib/ssh/master.ts";
import { CANDIDATE } from "../support/candidate.ts";
import { builderInfo } from "../support/builder_info.ts";
import { farmSettings } from "../support/cluster.ts";
import { type FlowContext, flowContext, SSH_MASTER_CONTROL, when } from "../support/flow.ts";
import { runCli } from "../../lib/cli.ts";
import type { Cluster } from "../../lib/farm/cluster.ts";
import { FakeRunner } from "../support/fake_runner.ts";
import { testContext } from "../support/context.ts";

const upstream = (version: string): LocalNix => ({ version, determinate: false });

Deno.test("Nix rides a master before 2.15 and from 2.16; never 2.15 (it waits for a line a master never prints) nor Determinate", () => {
  const cases: [LocalNix | undefined, boolean][] = [
    [upstream("2.8.0"), true],
    [upstream("2.14.1"), true],
    [upstream("2.15.0"), false],
    [upstream("2.15.3"), false],
    [upstream("2.16.0"), true],
    [upstream("2.31.2"), true],
    [upstream("2.32.0pre20251001_abcdef"), true],
    [{ version: "2.29.0", determinate: true }, false],
    [undefined, false],
  ];
  for (const [nix, rides] of cases) assert.equal(nixRidesSshMasters(nix), rides, JSON.stringify(nix));
});

Deno.test("a master's socket path that macOS could not bind (with ssh's suffix) is not used", () => {
  assert.equal(sshMasterPath("/tmp/dnb", "b1"), "/tmp/dnb/mux-b1");
  assert.equal(sshMasterPath(`/${"s".repeat(20)}`, "b".repeat(63)), undefined);
});

const candidate = CANDIDATE;

/** A builder that claims and answers as a store; `ctx` says whether its master comes up. */
function admit(ctx: FlowContext, nix: LocalNix, sshMaster: "auto" | "off" = "auto") {
  return admitBuilder(farmSettings({ sshMaster }), ctx, candidate, candidate.node.sshHostKeys, nix);
}

const script = [
  when(["store", "info"], { stderr: "Store URL: ssh-ng://root@b1\nVersion: 2.24.9\nTrusted: 1\n" }),
  when(["store", "ping"], { stderr: "Store URL: ssh-ng://root@b1\n" }),
  when(["ssh", "b1"], { stdout: JSON.stringify(builderInfo({ hostname: "b1" })) }),
];
const isStart = (argv: readonly string[]) => argv.includes("ControlMaster=yes");

Deno.test("a builder's master is up before its claim and Nix's store check, which ride it", async () => {
  const ctx = flowContext({ script });
  const admission = await admit(ctx, upstream("2.24.9"));
  assert.equal(admission.kind, "admitted");
  assert.deepEqual(admission.kind === "admitted" && admission.warnings, []);
  assert.ok(ctx.files.exists("/tmp/dnb/mux-b1"));
  assert.deepEqual(ctx.runner.started.map((start) => [start.argv.slice(-2), start.logFile]), [
    [["-N", "b1"], "/tmp/dnb/mux-b1.log"],
  ]);
  const calls = ctx.runner.calls.map((call) => call.argv.join(" "));
  assert.match(calls[0]!, /-O check b1$/);
  assert.ok(calls[1]!.endsWith("cat info.json"), "then the claim");
  assert.match(calls[2]!, /store info/);
});

Deno.test("a master an earlier run left is ended before the claim, which it would otherwise carry", async () => {
  const ctx = flowContext({ script, files: { "/tmp/dnb/mux-b1": "" } });
  await admit(ctx, upstream("2.24.9"));
  assert.match(ctx.runner.calls[0]!.argv.join(" "), /-O exit b1$/);
});

Deno.test("a master that does not come up is killed (it must not appear later) and the builder is still admitted", async () => {
  const ctx = flowContext({ script });
  const runner = new FakeRunner([...script, SSH_MASTER_CONTROL]);
  const killed: [number, string][] = [];
  const admission = await admitBuilder(
    farmSettings(),
    { ...ctx, runner, processes: { alive: () => true, signal: (pid, signal) => killed.push([pid, signal]) } },
    candidate,
    candidate.node.sshHostKeys,
    upstream("2.24.9"),
  );
  assert.equal(admission.kind, "admitted");
  assert.deepEqual(admission.kind === "admitted" && admission.warnings, [
    "b1: its shared ssh connection did not come up; Nix connects anew for each build",
  ]);
  assert.deepEqual(killed, [[4243, "SIGKILL"]]);
  assert.ok(runner.calls.some((call) => call.argv.includes("store")));
});

Deno.test("a builder refused after its claim (it does not trust us) leaves no master behind", async () => {
  const ctx = flowContext({
    script: [
      when(["store", "info"], { stderr: "Store URL: ssh-ng://root@b1\nVersion: 2.24.9\nTrusted: 0\n" }),
      ...script.slice(1),
    ],
  });
  assert.equal((await admit(ctx, upstream("2.24.9"))).kind, "refused");
  assert.equal(ctx.runner.started.length, 1);
  assert.match(ctx.runner.calls.at(-1)!.argv.join(" "), /-O exit b1$/);
  assert.equal(ctx.files.exists("/tmp/dnb/mux-b1"), false);
});

Deno.test("a master that speaks before it is up has failed: it is killed at once and the claim goes alone", async () => {
  const ctx = flowContext({ script });
  const killed: number[] = [];
  const runner = new FakeRunner(
    [...script, SSH_MASTER_CONTROL],
    (spec) => ctx.files.writeAtomic(spec.logFile, "ssh: connect to host 100.64.0.11 port 22: Connection refused\n"),
  );
  const admission = await admitBuilder(
    farmSettings(),
    { ...ctx, runner, processes: { alive: () => true, signal: (pid) => killed.push(pid) } },
    candidate,
    candidate.node.sshHostKeys,
    upstream("2.24.9"),
  );
  assert.equal(admission.kind, "admitted");
  assert.deepEqual(killed, [4243]);
  // Not one look at the master was needed: no wait for its deadline.
  assert.deepEqual(runner.calls.filter((call) => call.argv.includes("check")), []);
});

Deno.test("a builder not ready for its claim yet leaves no master behind until it is tried again", async () => {
  const ctx = flowContext({
    script: [
      {
        when: (argv) => argv.at(-1)!.endsWith("cat info.json"),
        code: 3,
        stderr: "dnb: no builder here: /tmp/dnb/info.json is missing",
      },
    ],
  });
  assert.equal((await admit(ctx, upstream("2.24.9"))).kind, "retry");
  assert.match(ctx.runner.calls.at(-1)!.argv.join(" "), /-O exit b1$/);
  assert.equal(ctx.files.exists("/tmp/dnb/mux-b1"), false);
});

Deno.test("no master for Nix 2.15, Determinate Nix, or --ssh-master off", async () => {
  for (
    const [nix, mode] of [
      [upstream("2.15.1"), "auto"],
      [{ version: "2.31.1", determinate: true }, "auto"],
      [upstream("2.24.9"), "off"],
    ] as const
  ) {
    const ctx = flowContext({ script });
    assert.equal((await admit(ctx, nix, mode)).kind, "admitted");
    assert.deepEqual(ctx.runner.started.filter((start) => isStart(start.argv)), [], JSON.stringify([nix, mode]));
  }
});

Deno.test("stop ends every builder's master after releasing it, lost ones too, and leaves no socket", async () => {
  const stateDir = Deno.makeTempDirSync({ prefix: "dnb-masters-" });
  try {
    const member = (alias: string, state: "ready" | "lost") => ({
      alias,
      address: "100.64.0.2",
      hostKeys: [],
      info: builderInfo({ hostname: alias }),
      readySeconds: 1,
      claimedAt: "2026-11-25T05:00:00.000Z",
      lastHeartbeat: "2026-11-25T05:00:00.000Z",
      missed: 0,
      state,
    });
    const cluster: Cluster = {
      version: 1,
      settings: farmSettings({ stateDir }),
      wanted: { kind: "names", names: ["b1", "b2"], tag: "tag:nix-builder" },
      readyAt: "2026-11-25T05:00:00.000Z",
      builders: [member("b1", "ready"), member("b2", "lost")],
    };
    Deno.writeTextFileSync(`${stateDir}/cluster.json`, JSON.stringify(cluster));
    for (const alias of ["b1", "b2"]) Deno.writeTextFileSync(`${stateDir}/mux-${alias}`, "");
    const runner = new FakeRunner([{ when: (argv) => argv[0] === "ssh" }]);
    const ctx = testContext({ env: { DNB_STATE_DIR: stateDir }, root: "/" });
    assert.equal(await runCli(["stop"], "dnb", { ...ctx, runner, sleep: () => Promise.resolve() }), 0);
    const lines = runner.calls.map((call) => call.argv.join(" "));
    assert.ok(lines[0]!.includes("touch done"), "the release rides the master, so it goes first");
    assert.deepEqual(lines.slice(1).map((line) => line.replaceAll(stateDir, "<state>")), [
      "ssh -F <state>/ssh_config -o ControlPath=<state>/mux-b1 -O exit b1",
      "ssh -F <state>/ssh_config -o ControlPath=<state>/mux-b2 -O exit b2",
    ]);
    assert.deepEqual([...Deno.readDirSync(stateDir)].filter((entry) => entry.name.startsWith("mux-")), []);
  } finally {
    Deno.removeSync(stateDir, { recursive: true });
  }
});
