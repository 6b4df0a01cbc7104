/**
 * Distributed build speed-up on the farm: 32 independent derivations that each sleep 2 s, over 1, 2
 * and 4 builders with one job each (wall(K)/wall(1); goal ≤ 0.35 at K=4), and 64 cheap derivations
 * over 4 builders for the per-derivation overhead (copy + ssh). Run as root: deno task bench.
 */
import { createFarm } from "../e2e/harness/farm.ts";
import { runCoordinator, startBuilder } from "../e2e/harness/dnb.ts";
import { BENCH_TAILNET, saveResults } from "./results.ts";
import { derivations } from "./workloads.ts";

async function wall(builders: number, count: number, sleepSeconds: number): Promise<number> {
  const names = Array.from({ length: builders }, (_, index) => `b${index + 1}`);
  const farm = await createFarm({
    hosts: [{ name: "coord" }, ...names.map((name) => ({ name, cores: 1 }))],
    tailnet: BENCH_TAILNET,
  });
  try {
    for (const name of names) startBuilder(farm, name);
    const coordinator = await runCoordinator(farm, "coord", ["--builders", names.join(" "), "--jobs-per-core", "1"]);
    if (coordinator.code !== 0) throw new Error(coordinator.stderr);
    Deno.writeTextFileSync(`${farm.host("coord").dir}/tmp/work.nix`, derivations(count, sleepSeconds));
    const started = performance.now();
    const build = await farm.run("coord", ["nix-build", "--max-jobs", "0", "--no-out-link", "/tmp/work.nix"], {
      timeoutMs: 600_000,
    });
    if (build.code !== 0) throw new Error(build.stderr);
    return (performance.now() - started) / 1000;
  } finally {
    await farm.destroy();
  }
}

const sleepy: Record<number, number> = {};
for (const builders of [1, 2, 4]) sleepy[builders] = Number((await wall(builders, 32, 2)).toFixed(2));
const cheapSeconds = await wall(4, 64, 0);
const overheadMs = (cheapSeconds * 1000 * 4) / 64;

console.log(`\ndistributed build on ${navigator.hardwareConcurrency} cores, builders with 1 job each`);
console.log("| builders | 32 × sleep 2 s, wall (s) | wall(K)/wall(1) |\n|---:|---:|---:|");
for (const builders of [1, 2, 4]) {
  console.log(`| ${builders} | ${sleepy[builders]!.toFixed(2)} | ${(sleepy[builders]! / sleepy[1]!).toFixed(2)} |`);
}
console.log(
  `64 cheap derivations over 4 builders: ${cheapSeconds.toFixed(2)} s wall, ${
    overheadMs.toFixed(0)
  } ms per derivation per builder slot (copy + ssh + build)`,
);
saveResults("build", {
  sleepyWallSeconds: sleepy,
  cheapWallSeconds: Number(cheapSeconds.toFixed(2)),
  overheadMsPerDerivation: Math.round(overheadMs),
});
