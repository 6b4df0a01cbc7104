import assert from "node:assert/strict";
import { parseStatus } from "../../lib/tailnet/status.ts";

const fixture = (name: string) => Deno.readTextFileSync(new URL(`../testdata/${name}`, import.meta.url));

Deno.test("two tagged builders with Tailscale SSH: every field dnb uses", () => {
  const status = parseStatus(fixture("status_two_builders.json"));
  assert.equal(status.backendState, "Running");
  assert.equal(status.self?.hostName, "ci-coordinator-4711");
  assert.equal(status.self?.ipv4, "100.101.12.34");
  assert.deepEqual(status.self?.sshHostKeys, []);
  assert.equal(status.peers.length, 2);
  const [linux, mac] = status.peers;
  assert.equal(linux?.hostName, "ci-builder-linux-4711");
  assert.equal(linux?.dnsName, "ci-builder-linux-4711.tail1a2b3c.ts.net.");
  assert.equal(linux?.shortName, "ci-builder-linux-4711");
  assert.equal(linux?.ipv4, "100.88.3.71");
  assert.deepEqual(linux?.tags, ["tag:ci-builder"]);
  assert.equal(linux?.online, true);
  assert.equal(linux?.os, "linux");
  assert.equal(linux?.path, "unknown");
  assert.equal(linux?.sshHostKeys.length, 3);
  assert.match(linux!.sshHostKeys[0]!, /^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/]+=*$/);
  assert.match(linux!.sshHostKeys[2]!, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+$/);
  assert.equal(mac?.os, "macOS");
  assert.equal(mac?.ipv4, "100.77.140.9");
  assert.equal(mac?.path, "direct");
});

Deno.test("an untagged, offline peer without sshHostKeys, and a name collision suffix", () => {
  const status = parseStatus(fixture("status_untagged_offline_peer.json"));
  const builder = status.peers.find((peer) => peer.hostName.startsWith("nix-builder-"));
  const laptop = status.peers.find((peer) => peer.hostName === "alices-laptop");
  assert.equal(builder?.shortName, "nix-builder-77-1-linux-x64-a1b2c3-1");
  assert.equal(builder?.path, "direct");
  assert.deepEqual(laptop?.tags, []);
  assert.equal(laptop?.online, false);
  assert.deepEqual(laptop?.sshHostKeys, []);
  assert.equal(laptop?.ipv4, "100.70.1.2");
});

Deno.test("peers come in node-key order whatever order the JSON lists them in", () => {
  const data = JSON.parse(fixture("status_two_builders.json"));
  const reversed = Object.fromEntries(Object.entries(data.Peer).reverse());
  const status = parseStatus(JSON.stringify({ ...data, Peer: reversed }));
  assert.deepEqual(status.peers.map((peer) => peer.hostName), ["ci-builder-linux-4711", "ci-builder-macos-4711"]);
});

Deno.test("logged out: no self, no peers", () => {
  const status = parseStatus(fixture("status_logged_out.json"));
  assert.equal(status.backendState, "NeedsLogin");
  assert.equal(status.self, undefined);
  assert.deepEqual(status.peers, []);
});

Deno.test("a relayed path is reported once traffic flows", () => {
  const data = JSON.parse(fixture("status_two_builders.json"));
  const [firstKey] = Object.keys(data.Peer);
  data.Peer[firstKey].Active = true;
  assert.equal(parseStatus(JSON.stringify(data)).peers[0]?.path, "relay");
});

Deno.test("malformed host keys from a peer are dropped, not passed on", () => {
  const data = JSON.parse(fixture("status_two_builders.json"));
  const [firstKey] = Object.keys(data.Peer);
  data.Peer[firstKey].sshHostKeys = ["ssh-ed25519 AAAA...", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\nx y"];
  assert.deepEqual(parseStatus(JSON.stringify(data)).peers[0]?.sshHostKeys, []);
});

Deno.test("output that is not status JSON fails with a message that says so", () => {
  assert.throws(() => parseStatus("failed to connect to local tailscaled"), /not JSON/);
  assert.throws(() => parseStatus('{"BackendState": 3}'), /unexpected shape at BackendState/);
  assert.throws(
    () => parseStatus('{"BackendState":"Running","Peer":{"nodekey:1":{"ID":"x"}}}'),
    /Peer\.nodekey:1\.HostName/,
  );
});
