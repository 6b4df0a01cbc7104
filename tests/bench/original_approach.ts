/**
 * A baseline that does what the original action's glue did, for comparison only: wait for each
 * named builder in turn (polling `tailscale status` every 5 s), then probe each in turn over ssh
 * (read its info, check it answers as a Nix store). It runs inside the coordinator host of a farm.
 */
import type { Farm } from "../e2e/harness/farm.ts";
import { HOST_SSH_KEY } from "../e2e/harness/farm.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";

const POLL_MS = 5000;
const SSH = [
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "BatchMode=yes",
  "-i",
  HOST_SSH_KEY,
];

/** Joins the coordinator host with the system tailscaled, as the original's setup step did. */
export function joinPlain(farm: Farm, host: string): Promise<void> {
  return farm.joinWithSystemDaemon(host, "coordinator");
}

/** Returns when the last builder has been probed. */
export async function originalApproach(farm: Farm, host: string, names: readonly string[]): Promise<number> {
  const addresses: string[] = [];
  for (const name of names) {
    for (;;) {
      const status = parseStatus((await farm.run(host, ["tailscale", "status", "--json"])).stdout);
      const peer = status.peers.find((candidate) => candidate.hostName === name && candidate.online);
      if (peer?.ipv4) {
        addresses.push(peer.ipv4);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  for (const address of addresses) {
    for (;;) {
      const info = await farm.run(host, ["ssh", ...SSH, `root@${address}`, "cat /tmp/dnb/info.json"]);
      if (info.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const ping = await farm.run(
      host,
      ["nix", "--extra-experimental-features", "nix-command", "store", "ping", "--store", `ssh-ng://root@${address}`],
      { env: { NIX_SSHOPTS: SSH.join(" ") } },
    );
    if (ping.code !== 0) throw new Error(`baseline probe of ${address} failed: ${ping.stderr}`);
  }
  return Date.now();
}
