/** The watchdog's ticks with every effect faked: heartbeats, a lost builder, a late joiner, SIGTERM. */
import assert from "node:assert/strict";
import type { Cluster, ClusterMember } from "../../lib/farm/cluster.ts";
import { MISSES_TO_DROP, runWatchdog } from "../../lib/farm/watchdog.ts";
import { HEARTBEAT_SCRIPT } from "../../lib/protocol/scripts.ts";
import { builderInfo } from "../support/builder_info.ts";
import { flowContext, install, START, when } from "../support/flow.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuilderHostKeyForTests00000000000000000";
const member = (alias: string, address: string): ClusterMember => ({
  alias,
  address,
  hostKeys: [KEY],
  info: builderInfo({ hostname: alias }),
  readySeconds: 1,
  claimedAt: new Date(START).toISOString(),
  lastHeartbeat: new Date(START).toISOString(),
  missed: 0,
  state: "ready",
});
const cluster: Cluster = {
  version: 1,
  settings: {
    hostname: "coord",
    stateDir: "/tmp/dnb",
    sshUser: "root",
    jobsPerCore: 2,
    leaseSeconds: 8,
    builderStateDir: "/tmp/dnb",
    extraNixConfig: [],
    probeConcurrency: 16,
  },
  wanted: { kind: "names", names: ["b1", "b2", "b3"] },
  startedAt: new Date(START - 10_000).toISOString(),
  readyAt: new Date(START).toISOString(),
  builders: [member("b1", "100.64.0.11"), member("b2", "100.64.0.12")],
};

/** The tailnet as the coordinator sees it: b3 (a late builder) is online, with its host key. */
const lateJoiner = (() => {
  const status = JSON.parse(Deno.readTextFileSync(new URL("../testdata/status_two_builders.json", import.meta.url)));
  const [key, peer] = Object.entries(status.Peer)[0]!;
  status.Peer = { [key]: { ...(peer as object), HostName: "b3", DNSName: "b3.tail1a2b3c.ts.net." } };
  return JSON.stringify(status);
})();

const heartbeat = (alias: string) => (argv: readonly string[]) =>
  argv[0] === "ssh" && argv[3] === alias && argv[4] === HEARTBEAT_SCRIPT;

Deno.test("watchdog: renews leases, drops a builder after missed heartbeats, claims a late one, stops on SIGTERM", async () => {
  const usage = {
    version: 1,
    claimedAt: new Date(START).toISOString(),
    at: new Date(START + 9000).toISOString(),
    derivations: 2,
    busySeconds: 3,
  };
  const ctx = flowContext({
    script: [
      { when: heartbeat("b1"), stdout: JSON.stringify(usage) },
      { when: heartbeat("b2"), code: 255, stderr: "ssh: connect to host b2: No route to host" },
      { when: (argv) => argv.includes("status") && ctx.now() >= START + 3000, stdout: lateJoiner },
      when(["status"], { code: 1, stderr: "not yet" }),
      when(["ssh", "-F", "/tmp/dnb/ssh_config", "b3"], { stdout: JSON.stringify(builderInfo({ hostname: "b3" })) }),
      when(["store", "info"], { stderr: "Version: 2.24.9\nTrusted: 1\n" }),
      when(["--version"], { stdout: "nix (Nix) 2.24.9\n" }),
    ],
    files: {
      "/tmp/dnb/cluster.json": JSON.stringify(cluster),
      "/tmp/dnb/tailscale.json": JSON.stringify({
        bin: "/usr/bin/tailscale",
        socket: "/tmp/dnb/tailscaled.sock",
        ours: true,
      }),
    },
  });
  install(ctx, "/usr/bin/nix", "/usr/bin/tailscale");
  ctx.signalAt(11_000);
  assert.equal(await runWatchdog("/tmp/dnb", ctx), 0);

  const after: Cluster = JSON.parse(ctx.files.readText("/tmp/dnb/cluster.json")!);
  const byAlias = Object.fromEntries(after.builders.map((builder) => [builder.alias, builder]));
  assert.deepEqual(after.builders.map((builder) => [builder.alias, builder.state]), [
    ["b1", "ready"],
    ["b2", "lost"],
    ["b3", "ready"],
  ]);
  assert.deepEqual(byAlias.b1!.usage, usage);
  assert.equal(byAlias.b2!.missed, MISSES_TO_DROP);
  // A late builder's ready time counts from the coordinator's start, 10 s before the watchdog's.
  assert.ok(byAlias.b3!.readySeconds >= 13, String(byAlias.b3!.readySeconds));

  const machines = ctx.files.readText("/etc/nix/machines")!;
  assert.match(machines, /^ssh-ng:\/\/root@b1\?/m);
  assert.match(machines, /^ssh-ng:\/\/root@b3\?/m);
  assert.doesNotMatch(machines, /@b2\?/);
  // Heartbeats every lease/4 = 2 s: b2 is asked once a tick until it is dropped, then no more.
  const beats = (alias: string) => ctx.runner.calls.filter((call) => heartbeat(alias)(call.argv)).length;
  assert.equal(beats("b2"), MISSES_TO_DROP);
  assert.ok(beats("b1") >= 5, String(beats("b1")));
  const lines = ctx.stderr.join("\n");
  assert.match(lines, /watchdog: dropping b2: 3 heartbeats missed; removed from the machines file/);
  assert.match(lines, /watchdog: claimed late builder b3 \(x86_64-linux\)/);
  assert.match(lines, /watchdog: stopped by SIGTERM/);
});

Deno.test("watchdog: without a farm record it says so and exits 1", async () => {
  const ctx = flowContext();
  assert.equal(await runWatchdog("/tmp/dnb", ctx), 1);
  assert.deepEqual(ctx.stderr, ["dnb: watchdog: no coordinator state in /tmp/dnb; nothing to watch"]);
});
