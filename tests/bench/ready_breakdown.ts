/**
 * Where the ready time goes, for 16 builders starting 0.5 s apart (ready.ts's "dnb, pipelined" row):
 * for each builder, when the control server lists it online, when the coordinator's tailscaled lists
 * it online, when it lists a route to it (a home relay or a direct address), when dnb says it
 * claimed it, and when the coordinator was ready. The first two steps are the control plane's and
 * Tailscale's own; the rest is dnb's. Each look is a poll every 100 ms, so a step may read up to
 * that much late. Run as root: deno run -A tests/bench/ready_breakdown.ts. Printed and saved, never asserted.
 */
import { createFarm, type Farm } from "../e2e/harness/farm.ts";
import { log, startBuilder, startCoordinator } from "../e2e/harness/dnb.ts";
import { parseStatus } from "../../lib/tailnet/status.ts";
import { BENCH_TAILNET, saveResults } from "./results.ts";

const COUNT = 16;
const STAGGER_MS = 500;
const POLL_MS = 100;
const STEPS = ["online", "seen", "routable", "claimed"] as const;
type Step = typeof STEPS[number];

/** Records the first time each of `names` is in what `check` returns, polling until stopped. */
function firstTimes(names: readonly string[], check: () => Promise<Set<string>>) {
  const seen = new Map<string, number>();
  const look = async () => {
    const now = Date.now();
    for (const name of await check().catch(() => new Set<string>())) {
      if (names.includes(name) && !seen.has(name)) seen.set(name, now);
    }
  };
  let polling = true;
  const loop = (async () => {
    while (polling) {
      await look();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return async () => {
    polling = false;
    await loop;
    // One last look: what the coordinator wrote just before it exited.
    await look();
    return seen;
  };
}

async function coordinatorView(farm: Farm): Promise<{ online: Set<string>; routable: Set<string> }> {
  const status = await farm.run("coord", ["tailscale", "--socket=/tmp/dnb/tailscaled.sock", "status", "--json"]);
  if (status.code !== 0) return { online: new Set(), routable: new Set() };
  const peers = parseStatus(status.stdout).peers;
  return {
    online: new Set(peers.filter((peer) => peer.online).map((peer) => peer.hostName)),
    routable: new Set(peers.filter((peer) => peer.online && peer.routable).map((peer) => peer.hostName)),
  };
}

const names = Array.from({ length: COUNT }, (_, index) => `b${index + 1}`);
const farm = await createFarm({
  hosts: [{ name: "coord" }, ...names.map((name) => ({ name }))],
  tailnet: BENCH_TAILNET,
});
let times: Record<Step, Map<string, number>>;
let readyAt: number;
try {
  const coordinator = startCoordinator(farm, "coord", ["--builders", names.join(" "), "--wait-timeout", "240"]);
  const stops = {
    online: firstTimes(names, async () => {
      return new Set((await farm.nodes()).filter((node) => node.online).map((node) => node.hostName));
    }),
    seen: firstTimes(names, async () => (await coordinatorView(farm)).online),
    routable: firstTimes(names, async () => (await coordinatorView(farm)).routable),
    claimed: firstTimes(names, () => {
      return Promise.resolve(new Set([...log(coordinator).matchAll(/dnb: claimed (\S+) /g)].map((match) => match[1]!)));
    }),
  };
  for (const name of names) {
    startBuilder(farm, name, ["--builder-timeout", "300"]);
    await new Promise((resolve) => setTimeout(resolve, STAGGER_MS));
  }
  const status = await coordinator.status;
  if (status.code !== 0) throw new Error(`coordinator failed:\n${log(coordinator)}`);
  readyAt = Date.parse(JSON.parse(Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/cluster.json`)).readyAt);
  times = Object.fromEntries(await Promise.all(STEPS.map(async (step) => [step, await stops[step]()]))) as Record<
    Step,
    Map<string, number>
  >;
} finally {
  await farm.destroy();
}

/** ms from one step to the next for a builder. */
const segments = (name: string) => {
  const at = [...STEPS.map((step) => times[step].get(name) ?? NaN), readyAt];
  return at.slice(1).map((time, index) => time - at[index]!);
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const last = names.reduce((latest, name) => times.online.get(name)! > times.online.get(latest)! ? name : latest);
const labels = [
  "control server online → coordinator's tailscaled lists it",
  "→ a route to it (home relay or direct address)",
  "→ dnb claimed it",
  "→ coordinator ready",
];
const perBuilder = names.map(segments);
console.log(`\nwhere the ready time goes, ${COUNT} builders ${STAGGER_MS} ms apart, ${BENCH_TAILNET} tailnet (ms)`);
console.log(`| step | median builder | last builder online (${last}) |\n|---|---:|---:|`);
// Every builder but the last waits for the others before the coordinator is ready: no median for that step.
const rows = labels.map((label, index) => {
  const medianMs = index < labels.length - 1 ? median(perBuilder.map((parts) => parts[index]!)) : null;
  const row = { step: label, medianMs, lastMs: segments(last)[index]! };
  console.log(`| ${row.step} | ${row.medianMs ?? "–"} | ${row.lastMs} |`);
  return row;
});
const total = (readyAt - times.online.get(last)!) / 1000;
console.log(`last builder online → ready: ${total.toFixed(2)} s`);
saveResults("readyBreakdown", { builders: COUNT, staggerMs: STAGGER_MS, rows, lastOnlineToReadySeconds: total });
