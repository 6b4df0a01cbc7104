import assert from "node:assert/strict";
import { MAX_STATUS_BYTES, parseStatus } from "../../lib/tailnet/status.ts";

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

Deno.test("a peer whose control-plane name is not a DNS name is left out and reported, never passed on", () => {
  const data = JSON.parse(fixture("status_two_builders.json"));
  const [firstKey, secondKey] = Object.keys(data.Peer);
  // The alias would become an ssh `Host` line and a machines-file URL host: `b1 *`, `%h`, a newline, `?`.
  data.Peer[firstKey].DNSName = "b1\nProxyCommand sh -c 'id>/tmp/x'.tail1a2b3c.ts.net.";
  data.Peer[secondKey].DNSName = "b2?remote-program=/bin/sh.tail1a2b3c.ts.net.";
  const status = parseStatus(JSON.stringify(data));
  assert.deepEqual(status.peers, []);
  assert.equal(status.ignored.length, 2);
  assert.match(
    status.ignored[0]!,
    /^ignoring a tailnet peer: its DNS name "b1\?ProxyCommand sh -c \?id\?\/tmp\/x.*" is not a DNS name$/,
  );
  for (const line of status.ignored) assert.doesNotMatch(line, /[\n'>]/);
});

Deno.test("a HostName that is not a DNS label is not passed on; tags, addresses and words shown are held to grammar", () => {
  const data = JSON.parse(fixture("status_two_builders.json"));
  const [firstKey] = Object.keys(data.Peer);
  Object.assign(data.Peer[firstKey], {
    HostName: "b1;@/etc/shadow#",
    Tags: ["tag:nix-builder", "tag:x y", "tag:nix-builder\n"],
    TailscaleIPs: ["100.64.0.999", "100.64.0.7"],
    OS: "linux\u001b[31m",
    Relay: "iad\r::add-mask::x",
  });
  const peer = parseStatus(JSON.stringify(data)).peers[0]!;
  assert.equal(peer.hostName, peer.shortName);
  assert.deepEqual(peer.tags, ["tag:nix-builder"]);
  assert.equal(peer.ipv4, "100.64.0.7");
  assert.equal(peer.os, "unknown");
  assert.equal(peer.relayVia, undefined);
});

Deno.test("status output larger than any tailnet's is refused before it is parsed", () => {
  assert.throws(() => parseStatus(" ".repeat(MAX_STATUS_BYTES + 1)), /more than \d+ bytes/);
});
