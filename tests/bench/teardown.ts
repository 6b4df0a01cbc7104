/**
 * Teardown latency on the farm: from `dnb stop` to the last builder process exiting, for 1, 4
 * and 16 builders; and from losing the coordinator (its watchdog killed) to the last builder
 * exiting, for leases of 8, 30 and 120 s. Run as root: deno task bench. Figures are printed, never asserted.
 */
import { createFarm } from "../e2e/harness/farm.ts";
import { runCoordinator, runDnb, startBuilder } from "../e2e/harness/dnb.ts";
import { BENCH_TAILNET, saveResults } from "./results.ts";

async function farmWith(count: number, lease: number) {
  const names = Array.from({ length: count }, (_, index) => `b${index + 1}`);
  const farm = await createFarm({
    hosts: [{ name: "coord" }, ...names.map((name) => ({ name }))],
    tailnet: BENCH_TAILNET,
  });
  const builders = names.map((name) => startBuilder(farm, name, ["--lease", String(lease)]));
  const coordinator = await runCoordinator(farm, "coord", ["--builders", names.join(" "), "--lease", String(lease)]);
  if (coordinator.code !== 0) {
    await farm.destroy();
    throw new Error(`coordinator failed:\n${coordinator.stderr}`);
  }
  return { farm, builders };
}

async function stopLatency(count: number): Promise<number> {
  const { farm, builders } = await farmWith(count, 120);
  try {
    const started = performance.now();
    const stop = await runDnb(farm, "coord", ["stop"]);
    if (stop.code !== 0) throw new Error(`stop failed:\n${stop.stderr}`);
    await Promise.all(builders.map((builder) => builder.status));
    return (performance.now() - started) / 1000;
  } finally {
    await farm.destroy();
  }
}

async function lossLatency(lease: number): Promise<number> {
  const { farm, builders } = await farmWith(2, lease);
  try {
    const pid = Number(Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/watchdog.pid`));
    const started = performance.now();
    Deno.kill(pid, "SIGKILL");
    await Promise.all(builders.map((builder) => builder.status));
    return (performance.now() - started) / 1000;
  } finally {
    await farm.destroy();
  }
}

const stops: [number, number][] = [];
for (const count of [1, 4, 16]) stops.push([count, await stopLatency(count)]);
const losses: [number, number][] = [];
for (const lease of [8, 30, 120]) losses.push([lease, await lossLatency(lease)]);

console.log(`\nteardown on ${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}`);
console.log("| builders | `dnb stop` to last builder exit (s) |\n|---:|---:|");
for (const [count, seconds] of stops) console.log(`| ${count} | ${seconds.toFixed(2)} |`);
console.log("| lease (s) | coordinator lost to last builder exit (s) |\n|---:|---:|");
for (const [lease, seconds] of losses) console.log(`| ${lease} | ${seconds.toFixed(2)} |`);
saveResults("teardown", {
  stopToLastExitSeconds: Object.fromEntries(stops.map(([count, seconds]) => [count, Number(seconds.toFixed(2))])),
  coordinatorLostToLastExitSeconds: Object.fromEntries(
    losses.map(([lease, seconds]) => [lease, Number(seconds.toFixed(2))]),
  ),
});
