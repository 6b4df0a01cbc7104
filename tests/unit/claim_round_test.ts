/** The coordinator's first round against hostile tailnets: look-alike nodes, two nodes for one name, too many. */
import assert from "node:assert/strict";
import { claimRound } from "../../lib/farm/claim_round.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";
import { builderInfo } from "../support/builder_info.ts";
import { flowConfig, flowContext, START, when } from "../support/flow.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuilderHostKeyForTests00000000000000000";

/** A tailnet status with these peers (name, DNS label, address, tags), each with a host key. */
function tailnet(...peers: { host: string; label?: string; ip: string; tags: string[]; relay?: string }[]) {
  return parseStatus(JSON.stringify({
    BackendState: "Running",
    Peer: Object.fromEntries(peers.map((peer, index) => [`nodekey:${index}`, {
      ID: `nPeer${index}CNTRL`,
      HostName: peer.host,
      DNSName: `${peer.label ?? peer.host}.tail.ts.net.`,
      OS: "linux",
      TailscaleIPs: [peer.ip],
      Tags: peer.tags,
      Online: true,
      Relay: peer.relay ?? "headscale",
      sshHostKeys: [KEY],
    }])),
  }));
}

const BUILDER = ["tag:nix-builder"];
const claimsOf = (ctx: ReturnType<typeof flowContext>) =>
  ctx.runner.calls.filter((call) => call.argv[0] === "ssh").map((call) => call.argv[3]);

function round(
  flags: Record<string, string>,
  status: ReturnType<typeof tailnet> | (() => ReturnType<typeof tailnet>),
) {
  const ctx = flowContext({
    script: [
      when(["ssh"], { stdout: JSON.stringify(builderInfo()) }),
      when(["store", "info"], { stderr: "Version: 2.24.9\nTrusted: 1\n" }),
    ],
  });
  const config = flowConfig({ "--role": "coordinator", "--hostname": "coord", "--wait-timeout": "10", ...flags });
  const result = claimRound(config, ctx, {
    status: () => Promise.resolve(typeof status === "function" ? status() : status),
    started: START,
    interrupted: () => false,
    coordinatorNix: undefined,
  });
  return { ctx, result };
}

Deno.test("by name: an untagged node that registered the name first is not claimed, and the coordinator says so", async () => {
  const { ctx, result } = round(
    { "--builders": "b1" },
    tailnet({ host: "b1", ip: "100.64.0.9", tags: [] }),
  );
  const { claimed, missing } = await result;
  assert.deepEqual([claimed, missing], [[], ["b1"]]);
  assert.deepEqual(claimsOf(ctx), []);
  const lines = ctx.stderr.join("\n");
  assert.match(lines, /not claiming b1\.tail\.ts\.net \(100\.64\.0\.9\): .* does not carry tag:nix-builder/);
  assert.equal(lines.match(/not claiming b1/g)?.length, 1, "said once");
});

Deno.test("by name: a name two tagged nodes answer to waits, and is refused naming both at the deadline", async () => {
  const { ctx, result } = round(
    { "--builders": "b1 b2" },
    tailnet(
      { host: "b1", ip: "100.64.0.11", tags: BUILDER },
      { host: "b1", label: "b1-1", ip: "100.64.0.12", tags: BUILDER },
      { host: "b2", ip: "100.64.0.13", tags: BUILDER },
    ),
  );
  const { claimed, refused } = await result;
  assert.deepEqual(claimed.map((member) => member.alias), ["b2"]);
  assert.match(refused.get("b1")!, /2 nodes tagged tag:nix-builder answer to b1 \(.*100\.64\.0\.11.*100\.64\.0\.12/);
  assert.deepEqual(claimsOf(ctx), ["b2"]);
  assert.match(ctx.stderr.join("\n"), /b1 is not ready yet: 2 nodes tagged/);
});

Deno.test("by name: once the stale one of two nodes answering to a name leaves, the other is claimed", async () => {
  // A builder restarted under its name: the control server lists its first run's node online for a while.
  const stale = { host: "b1", ip: "100.64.0.11", tags: BUILDER };
  const restarted = { host: "b1", label: "b1-1", ip: "100.64.0.12", tags: BUILDER };
  let looks = 0;
  const { ctx, result } = round(
    { "--builders": "b1" },
    () => ++looks <= 3 ? tailnet(stale, restarted) : tailnet(restarted),
  );
  const { claimed, refused } = await result;
  assert.deepEqual(claimed.map((member) => [member.alias, member.address]), [["b1", "100.64.0.12"]]);
  assert.deepEqual(refused, new Map());
  assert.equal(ctx.stderr.join("\n").match(/b1 is not ready yet: 2 nodes/g)?.length, 1, "said once");
});

Deno.test("a builder that just joined is claimed once its route is known, not before", async () => {
  const joined = { host: "b1", ip: "100.64.0.11", tags: BUILDER, relay: "" };
  let looks = 0;
  const claimsAtLook: number[] = [];
  // The round takes its first look before round() returns its context.
  const known: { ctx?: ReturnType<typeof flowContext> } = {};
  const { ctx, result } = round({ "--builders": "b1" }, () => {
    claimsAtLook.push(known.ctx ? claimsOf(known.ctx).length : 0);
    return ++looks <= 3 ? tailnet(joined) : tailnet({ ...joined, relay: "headscale" });
  });
  known.ctx = ctx;
  assert.deepEqual((await result).claimed.map((member) => member.alias), ["b1"]);
  // No claim went out while b1 had no home relay: it would be lost in a WireGuard retry.
  assert.deepEqual(claimsAtLook.slice(0, 4), [0, 0, 0, 0]);
  // Meanwhile the tailnet is looked at often, since tailscaled announces no route change.
  assert.ok(ctx.sleeps.slice(0, 3).every((ms) => ms <= 200), `waits ${ctx.sleeps.slice(0, 3)}`);
});

Deno.test("a builder whose route never shows (a tailnet without relays) is claimed after the grace", async () => {
  const { ctx, result } = round(
    { "--builders": "b1" },
    tailnet({ host: "b1", ip: "100.64.0.11", tags: BUILDER, relay: "" }),
  );
  const { claimed } = await result;
  assert.deepEqual(claimed.map((member) => member.alias), ["b1"]);
  assert.ok(claimed[0]!.readySeconds >= 5, `claimed after ${claimed[0]!.readySeconds}s`);
  assert.equal(claimsOf(ctx).length, 1);
});

Deno.test("by prefix: never more than --expect builders are claimed, however many match", async () => {
  const { ctx, result } = round(
    { "--discover-prefix": "p-", "--expect": "2" },
    tailnet(
      { host: "p-1", ip: "100.64.0.11", tags: BUILDER },
      { host: "p-2", ip: "100.64.0.12", tags: BUILDER },
      { host: "p-3", ip: "100.64.0.13", tags: BUILDER },
      { host: "p-4", ip: "100.64.0.14", tags: BUILDER },
    ),
  );
  assert.equal((await result).claimed.length, 2);
  assert.equal(claimsOf(ctx).length, 2);
});

Deno.test("a stop during the round starts no claim after it; a claim already on its way finishes and is returned", async () => {
  const ctx = flowContext({
    script: [
      when(["ssh"], { stdout: JSON.stringify(builderInfo()) }),
      when(["store", "info"], { stderr: "Version: 2.24.9\nTrusted: 1\n" }),
    ],
  });
  let stopped = false;
  // b1 is on the tailnet at the first look; the stop comes while the second look is under way, when b2 appears.
  let looks = 0;
  const result = await claimRound(
    flowConfig({ "--role": "coordinator", "--hostname": "coord", "--wait-timeout": "10", "--builders": "b1 b2" }),
    ctx,
    {
      status: () => {
        looks += 1;
        if (looks === 1) return Promise.resolve(tailnet({ host: "b1", ip: "100.64.0.11", tags: BUILDER }));
        stopped = true;
        return Promise.resolve(tailnet(
          { host: "b1", ip: "100.64.0.11", tags: BUILDER },
          { host: "b2", ip: "100.64.0.12", tags: BUILDER },
        ));
      },
      started: START,
      interrupted: () => stopped,
      coordinatorNix: undefined,
    },
  );
  assert.deepEqual(result.claimed.map((member) => member.alias), ["b1"]);
  assert.deepEqual(claimsOf(ctx), ["b1"]);
  assert.deepEqual(result.missing, ["b2"]);
});
