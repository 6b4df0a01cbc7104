/** The watchdog's ticks with every effect faked: heartbeats, a lost builder, a late joiner, SIGTERM. */
import assert from "node:assert/strict";
import type { Cluster, ClusterMember } from "../../lib/farm/cluster.ts";
import { MISSES_TO_DROP, runWatchdog } from "../../lib/farm/watchdog.ts";
import { HEARTBEAT_SCRIPT } from "../../lib/protocol/scripts.ts";
import { builderInfo } from "../support/builder_info.ts";
import { flowContext, install, START, when } from "../support/flow.ts";
import { farmSettings } from "../support/cluster.ts";

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
/** A farm record as a coordinator wrote it before names mode carried the builder tag: it must still load. */
const cluster = {
  version: 1,
  settings: farmSettings({ stateDir: "/tmp/dnb", leaseSeconds: 8 }),
  wanted: { kind: "names", names: ["b1", "b2", "b3"] },
  startedAt: new Date(START - 10_000).toISOString(),
  readyAt: new Date(START).toISOString(),
  builders: [member("b1", "100.64.0.11"), member("b2", "100.64.0.12")],
} as unknown as Cluster;

/** `tailscale status --json` with these peers, each a copy of a real peer with its names, address, tags and keys. */
function tailnet(...peers: { name: string; ip: string; tags?: string[]; keys?: boolean }[]): string {
  const status = JSON.parse(Deno.readTextFileSync(new URL("../testdata/status_two_builders.json", import.meta.url)));
  const [, peer] = Object.entries(status.Peer)[0]!;
  status.Peer = Object.fromEntries(peers.map((late, index) => [`nodekey:${index}`, {
    ...(peer as Record<string, unknown>),
    ID: `nLate${index}CNTRL`,
    HostName: late.name,
    DNSName: `${late.name}.tail1a2b3c.ts.net.`,
    TailscaleIPs: [late.ip],
    Tags: late.tags ?? ["tag:nix-builder"],
    ...(late.keys === false && { sshHostKeys: undefined }),
  }]));
  return JSON.stringify(status);
}

/** The tailnet as the coordinator sees it: b3 (a late builder) is online, with its host key. */
const lateJoiner = tailnet({ name: "b3", ip: "100.64.0.13" });

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

/** Runs the watchdog, failing (not hanging) when it has not returned after `ms` of real time. */
async function watchdogWithin(ctx: Parameters<typeof runWatchdog>[1], ms = 5000): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the watchdog is stuck (its clock at ${ctx.now() - START} ms)`)), ms);
  });
  try {
    return await Promise.race([runWatchdog("/tmp/dnb", ctx), hung]);
  } finally {
    clearTimeout(timer);
  }
}

const SESSION = JSON.stringify({ bin: "/usr/bin/tailscale", socket: "/tmp/dnb/tailscaled.sock", ours: true });
const usageOk = when(["--version"], { stdout: "nix (Nix) 2.24.9\n" });

Deno.test("watchdog: heartbeats keep their beat while a late joiner's claim hangs, and a stop does not wait for it", async () => {
  const ctx = flowContext({
    script: [
      { when: heartbeat("b1") },
      { when: heartbeat("b2") },
      when(["status"], { stdout: lateJoiner }),
      // b3 takes the claim's ssh connection and never answers.
      { when: (argv) => argv[0] === "ssh" && argv[3] === "b3", hang: true },
      usageOk,
    ],
    files: { "/tmp/dnb/cluster.json": JSON.stringify(cluster), "/tmp/dnb/tailscale.json": SESSION },
  });
  install(ctx, "/usr/bin/nix", "/usr/bin/tailscale");
  ctx.signalAt(20_000);
  assert.equal(await watchdogWithin(ctx), 0);
  // Every lease/4 = 2 s, from 0 to 20 s: ten beats each, the hanging claim notwithstanding.
  const beats = (alias: string) => ctx.runner.calls.filter((call) => heartbeat(alias)(call.argv)).length;
  assert.ok(beats("b1") >= 10, String(beats("b1")));
  assert.ok(beats("b2") >= 10, String(beats("b2")));
  const after: Cluster = JSON.parse(ctx.files.readText("/tmp/dnb/cluster.json")!);
  assert.deepEqual(after.builders.map((builder) => [builder.alias, builder.state]), [["b1", "ready"], ["b2", "ready"]]);
  assert.match(ctx.stderr.join("\n"), /watchdog: stopped by SIGTERM/);
});

Deno.test("watchdog: a tailscale status or a host-key scan that hangs costs no heartbeat", async () => {
  let looks = 0;
  const ctx = flowContext({
    script: [
      { when: heartbeat("b1") },
      { when: heartbeat("b2") },
      // The first look finds b3 without advertised keys (so it is scanned, and the scan hangs); later looks hang.
      {
        when: (argv) => argv.includes("status") && looks++ === 0,
        stdout: tailnet({ name: "b3", ip: "100.64.0.13", keys: false }),
      },
      { when: (argv) => argv.includes("status"), hang: true },
      { when: (argv) => argv[0] === "ssh-keyscan", hang: true },
      usageOk,
    ],
    files: {
      "/tmp/dnb/cluster.json": JSON.stringify({
        ...cluster,
        settings: { ...cluster.settings, sshKey: "/root/.ssh/id" },
      }),
      "/tmp/dnb/tailscale.json": SESSION,
    },
  });
  install(ctx, "/usr/bin/nix", "/usr/bin/tailscale");
  ctx.signalAt(20_000);
  assert.equal(await watchdogWithin(ctx), 0);
  const beats = (alias: string) => ctx.runner.calls.filter((call) => heartbeat(alias)(call.argv)).length;
  assert.ok(beats("b1") >= 10, String(beats("b1")));
  assert.ok(ctx.runner.calls.some((call) => call.argv[0] === "ssh-keyscan"), "b3 was never scanned");
});

Deno.test("watchdog: by prefix, never more builders than expect, however many late ones come", async () => {
  const byPrefix = {
    ...cluster,
    wanted: { kind: "prefix", prefix: "p-", tag: "tag:nix-builder", expect: 2 },
    builders: [member("p-1", "100.64.0.11")],
  };
  const late = tailnet(
    { name: "p-2", ip: "100.64.0.12" },
    { name: "p-3", ip: "100.64.0.13" },
    { name: "p-4", ip: "100.64.0.14" },
  );
  const ctx = flowContext({
    script: [
      { when: heartbeat("p-1") },
      { when: heartbeat("p-2") },
      { when: heartbeat("p-3") },
      { when: heartbeat("p-4") },
      when(["status"], { stdout: late }),
      when(["ssh", "-F", "/tmp/dnb/ssh_config"], { stdout: JSON.stringify(builderInfo()) }),
      when(["store", "info"], { stderr: "Version: 2.24.9\nTrusted: 1\n" }),
      usageOk,
    ],
    files: { "/tmp/dnb/cluster.json": JSON.stringify(byPrefix), "/tmp/dnb/tailscale.json": SESSION },
  });
  install(ctx, "/usr/bin/nix", "/usr/bin/tailscale");
  ctx.signalAt(11_000);
  assert.equal(await watchdogWithin(ctx), 0);
  const after: Cluster = JSON.parse(ctx.files.readText("/tmp/dnb/cluster.json")!);
  assert.equal(after.builders.length, 2, JSON.stringify(after.builders.map((builder) => builder.alias)));
  const claims = ctx.runner.calls.filter((call) => call.argv[0] === "ssh" && call.argv[4]?.includes("read -r claim"));
  assert.equal(claims.length, 1);
});

Deno.test("watchdog: by name (an older farm record without the tag), an untagged node named like a builder is not claimed", async () => {
  const ctx = flowContext({
    script: [
      { when: heartbeat("b1") },
      { when: heartbeat("b2") },
      when(["status"], {
        stdout: tailnet({ name: "b3", ip: "100.64.0.13", tags: [] }, { name: "b9", ip: "100.64.0.19" }),
      }),
      usageOk,
    ],
    files: { "/tmp/dnb/cluster.json": JSON.stringify(cluster), "/tmp/dnb/tailscale.json": SESSION },
  });
  install(ctx, "/usr/bin/nix", "/usr/bin/tailscale");
  ctx.signalAt(7_000);
  assert.equal(await watchdogWithin(ctx), 0);
  assert.deepEqual(
    ctx.runner.calls.filter((call) =>
      call.argv[0] === "ssh" && !heartbeat("b1")(call.argv) && !heartbeat("b2")(call.argv)
    ),
    [],
  );
});

Deno.test("watchdog: a late joiner that is not ready is tried again after a growing pause", async () => {
  const ctx = flowContext({
    script: [
      { when: heartbeat("b1") },
      { when: heartbeat("b2") },
      when(["status"], { stdout: lateJoiner }),
      when(["ssh", "-F", "/tmp/dnb/ssh_config", "b3"], {
        code: 255,
        stderr: "ssh: connect to host b3: Connection refused",
      }),
      usageOk,
    ],
    files: { "/tmp/dnb/cluster.json": JSON.stringify(cluster), "/tmp/dnb/tailscale.json": SESSION },
  });
  install(ctx, "/usr/bin/nix", "/usr/bin/tailscale");
  ctx.signalAt(120_000);
  assert.equal(await watchdogWithin(ctx), 0);
  const tries = ctx.runner.calls.filter((call) => call.argv[3] === "b3").length;
  // Every 2 s tick for two minutes would be 60 tries; doubling pauses up to 30 s make it about ten.
  assert.ok(tries >= 4 && tries <= 12, String(tries));
});
