import assert from "node:assert/strict";
import { discover, findCandidates, missingNames, wantedFromRecord } from "../../lib/tailnet/discovery.ts";
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
  routable: true,
  ...extra,
});
const status = (...peers: TailnetNode[]): TailnetStatus => ({ backendState: "Running", peers, ignored: [] });
const names = (...wanted: string[]) => ({ kind: "names" as const, names: wanted, tag: "tag:nix-builder" });

Deno.test("by name: HostName or DNS label match, offline and address-less peers wait", () => {
  const found = findCandidates(
    status(node("b1"), node("b2", { online: false }), node("b3", { ipv4: undefined }), node("x", { shortName: "b4" })),
    names("b1", "b2", "b3", "b4"),
  );
  assert.deepEqual(found.map((c) => [c.alias, c.node.hostName, c.note]), [["b1", "b1", undefined], [
    "b4",
    "x",
    undefined,
  ]]);
});

Deno.test("by name: a `-1` DNS name given on a collision is used and reported", () => {
  const found = findCandidates(status(node("b1", { shortName: "b1-1" })), names("b1"));
  assert.equal(found[0]?.alias, "b1");
  assert.equal(found[0]?.note, "b1 is registered as b1-1 (another node had the name)");
});

Deno.test("by name: a node without the builder tag is never a candidate, and the coordinator says so", () => {
  // A laptop (or another repository's node) that registered b1 first: untagged, so it is not claimed.
  const laptop = node("b1", { id: "nLaptop", tags: [], ipv4: "100.64.0.9" });
  const found = discover(status(laptop, node("b2", { tags: ["tag:other"] })), names("b1", "b2"));
  assert.deepEqual(found.candidates, []);
  assert.deepEqual([...found.refused], []);
  assert.deepEqual([...found.notes.values()], [
    "not claiming b1.tail.ts.net (100.64.0.9): it is named like a wanted builder but does not carry tag:nix-builder",
    "not claiming b2.tail.ts.net (100.64.0.2): it is named like a wanted builder but does not carry tag:nix-builder",
  ]);
  // Beside a tagged b1 that got `-1`, the untagged one holding the plain name is still not taken.
  const both = discover(status(laptop, node("b1", { shortName: "b1-1", ipv4: "100.64.0.3" })), names("b1"));
  assert.deepEqual(both.candidates.map((c) => [c.alias, c.node.ipv4]), [["b1", "100.64.0.3"]]);
});

Deno.test("by name: two tagged nodes answering to one name are refused, naming both", () => {
  const found = discover(
    status(node("b1", { ipv4: "100.64.0.2" }), node("b1", { id: "n-other", shortName: "b1-1", ipv4: "100.64.0.3" })),
    names("b1"),
  );
  assert.deepEqual(found.candidates, []);
  assert.equal(
    found.refused.get("b1"),
    "2 nodes tagged tag:nix-builder answer to b1 (b1.tail.ts.net (100.64.0.2), b1-1.tail.ts.net (100.64.0.3)); " +
      "dnb will not guess which is the builder",
  );
});

Deno.test("by prefix: the name prefix and the builder tag are both required; the alias is the DNS label", () => {
  const found = discover(
    status(
      node("run-1-a"),
      node("run-1-b", { tags: [] }),
      node("run-2-a"),
      node("run-1-c", { shortName: "run-1-c-1" }),
    ),
    { kind: "prefix", prefix: "run-1-", tag: "tag:nix-builder", expect: 3 },
  );
  assert.deepEqual(found.candidates.map((c) => c.alias), ["run-1-a", "run-1-c-1"]);
  assert.equal(found.notes.size, 1);
});

Deno.test("peers the status parser left out are reported once each", () => {
  const found = discover({ ...status(), ignored: ["ignoring a tailnet peer: x"] }, names("b1"));
  assert.deepEqual([...found.notes.values()], ["ignoring a tailnet peer: x"]);
});

Deno.test("a farm record from before names carried the tag gets the default builder tag", () => {
  assert.deepEqual(wantedFromRecord({ kind: "names", names: ["b1"] }), names("b1"));
  assert.deepEqual(wantedFromRecord({ kind: "names", names: ["b1"], tag: "tag:x" }), {
    kind: "names",
    names: ["b1"],
    tag: "tag:x",
  });
});

Deno.test("what is still missing, by name or by count", () => {
  assert.deepEqual(missingNames(names("a", "b", "c"), new Set(["b"])), ["a", "c"]);
  assert.deepEqual(missingNames({ kind: "prefix", prefix: "p-", tag: "tag:t", expect: 3 }, new Set(["x"])), [
    "2 more p-* builders",
  ]);
  assert.deepEqual(missingNames({ kind: "prefix", prefix: "p-", tag: "tag:t", expect: 1 }, new Set(["x"])), []);
});
