/**
 * Time from the last builder coming online to the coordinator being ready, for 1, 4 and 16
 * builders: claims pipelined and in parallel (the default) against one at a time
 * (--probe-concurrency 1), side by side in one run. Run as root: deno task bench.
 */
import { createFarm } from "../tests/e2e/harness/farm.ts";
import { runCoordinator, startBuilder } from "../tests/e2e/harness/dnb.ts";
import { listNodes } from "../tests/e2e/harness/tailnet.ts";

const COUNTS = [1, 4, 16];
const MODES = [{ name: "pipelined", args: [] as string[] }, {
  name: "--probe-concurrency 1",
  args: ["--probe-concurrency", "1"],
}];

async function measure(count: number, extraArgs: readonly string[]): Promise<number> {
  const names = Array.from({ length: count }, (_, index) => `b${index + 1}`);
  const farm = await createFarm({ hosts: [{ name: "coord" }, ...names.map((name) => ({ name }))] });
  try {
    // Builders start first and the coordinator at once: discovery and claims overlap the joins, as on CI.
    for (const name of names) startBuilder(farm, name, ["--builder-timeout", "300"]);
    const coordinator = await runCoordinator(farm, "coord", [
      "--builders",
      names.join(" "),
      "--wait-timeout",
      "240",
      ...extraArgs,
    ]);
    if (coordinator.code !== 0) throw new Error(`coordinator failed:\n${coordinator.stderr}`);
    const cluster = JSON.parse(Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/cluster.json`));
    const lastOnline = Math.max(
      ...listNodes(farm.tailnet).filter((node) => names.includes(node.hostName)).map((node) =>
        Date.parse(node.created)
      ),
    );
    return (Date.parse(cluster.readyAt) - lastOnline) / 1000;
  } finally {
    await farm.destroy();
  }
}

const results: Record<string, Record<number, number>> = {};
for (const mode of MODES) {
  results[mode.name] = {};
  for (const count of COUNTS) results[mode.name]![count] = await measure(count, mode.args);
}

console.log(
  `\ntime from last builder online to coordinator ready (s), ${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}`,
);
console.log(`| builders | ${MODES.map((mode) => mode.name).join(" | ")} |`);
console.log(`|---:|${MODES.map(() => "---:").join("|")}|`);
for (const count of COUNTS) {
  console.log(`| ${count} | ${MODES.map((mode) => results[mode.name]![count]!.toFixed(2)).join(" | ")} |`);
}
const pipelined = results.pipelined!;
console.log(`t(16)/t(1), pipelined: ${(pipelined[16]! / pipelined[1]!).toFixed(2)}`);
