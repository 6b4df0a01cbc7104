import assert from "node:assert/strict";
import { findCandidates, missingNames } from "../../lib/tailnet/discovery.ts";
import type { TailnetNode, TailnetStatus } from "../../lib/tailnet/status.ts";

const node = (hostName: string, extra: Partial<TailnetNode> = {}): TailnetNode => ({
  id: `n-${hostName}`,
  hostName,
  dnsName: `${extra.shortName ?? hostName}.tail.ts.net.`,
  shortName: hostName,
  ipv4: "100.64.0.2",
  tags: ["tag:nix-builder"],
  online: true,
  os: "linux",
  sshHostKeys: [],
  path: "unknown",
  ...extra,
});
const status = (...peers: TailnetNode[]): TailnetStatus => ({ backendState: "Running", peers });

Deno.test("by name: HostName or DNS label match, offline and address-less peers wait", () => {
  const found = findCandidates(
    status(node("b1"), node("b2", { online: false }), node("b3", { ipv4: undefined }), node("x", { shortName: "b4" })),
    { kind: "names", names: ["b1", "b2", "b3", "b4"] },
  );
  assert.deepEqual(found.map((c) => [c.alias, c.node.hostName, c.note]), [["b1", "b1", undefined], [
    "b4",
    "x",
    undefined,
  ]]);
});

Deno.test("by name: a `-1` DNS name given on a collision is used and reported", () => {
  const found = findCandidates(status(node("b1", { shortName: "b1-1" })), { kind: "names", names: ["b1"] });
  assert.equal(found[0]?.alias, "b1");
  assert.equal(found[0]?.note, "b1 is registered as b1-1 (another node had the name)");
  const both = findCandidates(status(node("b1", { shortName: "b1-1" }), node("b1")), { kind: "names", names: ["b1"] });
  assert.equal(both[0]?.node.shortName, "b1");
  assert.match(both[0]?.note ?? "", /2 online nodes answer to b1/);
});

Deno.test("by prefix: the name prefix and the builder tag are both required; the alias is the DNS label", () => {
  const found = findCandidates(
    status(
      node("run-1-a"),
      node("run-1-b", { tags: [] }),
      node("run-2-a"),
      node("run-1-c", { shortName: "run-1-c-1" }),
    ),
    { kind: "prefix", prefix: "run-1-", tag: "tag:nix-builder", expect: 3 },
  );
  assert.deepEqual(found.map((c) => c.alias), ["run-1-a", "run-1-c-1"]);
});

Deno.test("what is still missing, by name or by count", () => {
  assert.deepEqual(missingNames({ kind: "names", names: ["a", "b", "c"] }, new Set(["b"])), ["a", "c"]);
  assert.deepEqual(missingNames({ kind: "prefix", prefix: "p-", tag: "tag:t", expect: 3 }, new Set(["x"])), [
    "2 more p-* builders",
  ]);
  assert.deepEqual(missingNames({ kind: "prefix", prefix: "p-", tag: "tag:t", expect: 1 }, new Set(["x"])), []);
});
