/** A builder as discovery offers it to a claim: b1, online, tagged, with a host key and a route. */
import type { Candidate } from "../../lib/tailnet/discovery.ts";

export const CANDIDATE: Candidate = {
  alias: "b1",
  node: {
    id: "n1",
    hostName: "b1",
    dnsName: "b1.tail.ts.net.",
    shortName: "b1",
    ipv4: "100.64.0.11",
    tags: ["tag:nix-builder"],
    online: true,
    os: "linux",
    sshHostKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuilderKey"],
    path: "direct",
    routable: true,
  },
};
