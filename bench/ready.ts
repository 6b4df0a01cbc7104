/**
 * Time from the last builder coming online to the coordinator being ready, for 1, 4 and 16
 * builders: claims pipelined and in parallel (the default) against one at a time
 * (--probe-concurrency 1), side by side in one run. Two arrival patterns: every builder starting
 * at once (the worst case: all claim work falls after the last one is online), and builders
 * starting 0.5 s apart, as the runners of one workflow come up. Run as root: deno task bench.
 */
import { createFarm } from "../tests/e2e/harness/farm.ts";
import { runCoordinator, startBuilder } from "../tests/e2e/harness/dnb.ts";
import { listNodes } from "../tests/e2e/harness/tailnet.ts";

const COUNTS = [1, 4, 16];
const MODES = [
  { name: "pipelined, all at once", args: [] as string[], staggerMs: 0 },
  { name: "one at a time, all at once", args: ["--probe-concurrency", "1"], staggerMs: 0 },
  { name: "pipelined, 0.5 s apart", args: [] as string[], staggerMs: 500 },
  { name: "one at a time, 0.5 s apart", args: ["--probe-concurrency", "1"], staggerMs: 500 },
];

async function measure(count: number, extraArgs: readonly string[], staggerMs: number): Promise<number> {
  const names = Array.from({ length: count }, (_, index) => `b${index + 1}`);
  const farm = await createFarm({ hosts: [{ name: "coord" }, ...names.map((name) => ({ name }))] });
  try {
    const coordinator = runCoordinator(farm, "coord", [
      "--builders",
      names.join(" "),
      "--wait-timeout",
      "240",
      ...extraArgs,
    ]);
    for (const name of names) {
      startBuilder(farm, name, ["--builder-timeout", "300"]);
      await new Promise((resolve) => setTimeout(resolve, staggerMs));
    }
    const result = await coordinator;
    if (result.code !== 0) throw new Error(`coordinator failed:\n${result.stderr}`);
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

const results = new Map<string, Map<number, number>>();
for (const mode of MODES) {
  const times = new Map<number, number>();
  for (const count of COUNTS) times.set(count, await measure(count, mode.args, mode.staggerMs));
  results.set(mode.name, times);
}

console.log(
  `\ntime from last builder online to coordinator ready (s), ${navigator.hardwareConcurrency} cores, ` +
    `${Deno.build.os}/${Deno.build.arch}, every host of the farm on this one machine`,
);
console.log(`| builders | ${MODES.map((mode) => mode.name).join(" | ")} |`);
console.log(`|---:|${MODES.map(() => "---:").join("|")}|`);
for (const count of COUNTS) {
  console.log(`| ${count} | ${MODES.map((mode) => results.get(mode.name)!.get(count)!.toFixed(2)).join(" | ")} |`);
}
for (const mode of MODES.filter((candidate) => candidate.args.length === 0)) {
  const times = results.get(mode.name)!;
  console.log(`t(16)/t(1), ${mode.name}: ${(times.get(16)! / times.get(1)!).toFixed(2)}`);
}
