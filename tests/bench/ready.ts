/**
 * Time from the last builder coming online to a ready coordinator, for 1, 4, 8 and 16 builders,
 * side by side in one run: dnb with pipelined, parallel claims; dnb one claim at a time
 * (--probe-concurrency 1); and a baseline doing what the original action did (each named builder in
 * turn, polled every 5 s, then each probed in turn). Builders start 0.5 s apart, as the runners of
 * one workflow come up; dnb is also measured with all builders starting at once (its worst case).
 * "Online" is when the control server first lists the builder's node online (Headscale's node list
 * on the real tailnet, polled every 100 ms). Run as root: deno task bench. Figures are printed and
 * saved, never asserted.
 */
import { createFarm, type Farm } from "../e2e/harness/farm.ts";
import { runCoordinator, startBuilder } from "../e2e/harness/dnb.ts";
import { joinPlain, originalApproach } from "./original_approach.ts";
import { BENCH_TAILNET, saveResults } from "./results.ts";

const COUNTS = [1, 4, 8, 16];
type Mode = { name: string; staggerMs: number; run: "dnb" | "original"; args: string[] };
const MODES: Mode[] = [
  { name: "dnb, pipelined", staggerMs: 500, run: "dnb", args: [] },
  { name: "dnb, one claim at a time", staggerMs: 500, run: "dnb", args: ["--probe-concurrency", "1"] },
  { name: "original approach", staggerMs: 500, run: "original", args: [] },
  { name: "dnb, pipelined, all at once", staggerMs: 0, run: "dnb", args: [] },
];

/** When each named node is first listed online by the control server; `stop` ends the polling. */
function watchOnline(farm: Farm, names: readonly string[]): { stop: () => Promise<number[]> } {
  const firstOnline = new Map<string, number>();
  let watching = true;
  const polling = (async () => {
    while (watching) {
      const now = Date.now();
      for (const node of await farm.nodes()) {
        if (node.online && names.includes(node.hostName) && !firstOnline.has(node.hostName)) {
          firstOnline.set(node.hostName, now);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      watching = false;
      await polling;
      return names.map((name) => firstOnline.get(name) ?? NaN);
    },
  };
}

async function measure(count: number, mode: Mode): Promise<number> {
  const names = Array.from({ length: count }, (_, index) => `b${index + 1}`);
  const farm = await createFarm({
    hosts: [{ name: "coord" }, ...names.map((name) => ({ name }))],
    tailnet: BENCH_TAILNET,
  });
  try {
    let ready: Promise<number>;
    if (mode.run === "dnb") {
      ready = runCoordinator(farm, "coord", ["--builders", names.join(" "), "--wait-timeout", "240", ...mode.args])
        .then((result) => {
          if (result.code !== 0) throw new Error(`coordinator failed:\n${result.stderr}`);
          const cluster = JSON.parse(Deno.readTextFileSync(`${farm.host("coord").dir}/tmp/dnb/cluster.json`));
          return Date.parse(cluster.readyAt);
        });
    } else {
      await joinPlain(farm, "coord");
      ready = originalApproach(farm, "coord", names);
    }
    const online = watchOnline(farm, names);
    for (const name of names) {
      startBuilder(farm, name, ["--builder-timeout", "300"]);
      await new Promise((resolve) => setTimeout(resolve, mode.staggerMs));
    }
    const readyAt = await ready;
    const lastOnline = Math.max(...await online.stop());
    return (readyAt - lastOnline) / 1000;
  } finally {
    await farm.destroy();
  }
}

const results: Record<string, Record<number, number>> = {};
for (const mode of MODES) {
  results[mode.name] = {};
  for (const count of COUNTS) results[mode.name]![count] = Number((await measure(count, mode)).toFixed(2));
}

console.log(
  `\ntime from last builder online to ready coordinator (s), ${BENCH_TAILNET} tailnet, ` +
    `${navigator.hardwareConcurrency} cores, all hosts on this machine`,
);
console.log(`| builders | ${MODES.map((mode) => mode.name).join(" | ")} | original ÷ dnb |`);
console.log(`|---:|${MODES.map(() => "---:").join("|")}|---:|`);
for (const count of COUNTS) {
  const ratio = results["original approach"]![count]! / results["dnb, pipelined"]![count]!;
  console.log(
    `| ${count} | ${MODES.map((mode) => results[mode.name]![count]!.toFixed(2)).join(" | ")} | ${ratio.toFixed(1)} |`,
  );
}
for (const name of ["dnb, pipelined", "dnb, pipelined, all at once"]) {
  console.log(`t(16)/t(1), ${name}: ${(results[name]![16]! / results[name]![1]!).toFixed(2)}`);
}
saveResults("ready", { seconds: results });
