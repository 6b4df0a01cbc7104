import assert from "node:assert/strict";
import { describeLink, relayWarning } from "../../lib/tailnet/link_quality.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";

/** A peer as `tailscale status --json` prints it, with only the fields that decide the path. */
function peer(fields: { CurAddr: string; Relay: string; PeerRelay: string; Active: boolean }) {
  const status = {
    BackendState: "Running",
    Peer: {
      "nodekey:1": {
        ID: "n1",
        HostName: "b1",
        DNSName: "b1.tail0.ts.net.",
        OS: "linux",
        TailscaleIPs: ["100.64.0.11"],
        Online: true,
        ...fields,
      },
    },
  };
  return parseStatus(JSON.stringify(status)).peers[0];
}

Deno.test("a builder's link: direct, relayed through DERP or a peer relay, or unknown before traffic", () => {
  const direct = peer({ CurAddr: "13.105.117.22:41641", Relay: "iad", PeerRelay: "", Active: true });
  const derp = peer({ CurAddr: "", Relay: "iad", PeerRelay: "", Active: true });
  const peerRelay = peer({ CurAddr: "", Relay: "iad", PeerRelay: "relay-1", Active: true });
  const idle = peer({ CurAddr: "", Relay: "iad", PeerRelay: "", Active: false });
  assert.equal(describeLink(direct), "direct");
  assert.equal(describeLink(derp), "relayed (DERP iad)");
  assert.equal(describeLink(peerRelay), "relayed (peer relay relay-1)");
  assert.equal(describeLink(idle), "unknown");
  assert.equal(describeLink(undefined), "unknown");
  assert.equal(relayWarning("b1", direct), undefined);
  assert.equal(relayWarning("b1", idle), undefined);
  assert.match(relayWarning("b1", derp)!, /^b1 is reached through DERP iad, not directly: .*UDP/);
});
