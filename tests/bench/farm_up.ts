/**
 * How long a farm of namespaced hosts takes to come up and go away on this machine.
 * Run as root: deno task bench. Figures are printed, never asserted.
 */
import { createFarm } from "../e2e/harness/farm.ts";
import { BENCH_TAILNET, describeMachine, saveResults } from "./results.ts";

const SIZES = [3, 16];

console.log(`machine: ${describeMachine()}\n\nfarm up/down`);
console.log("| hosts | up (s) | destroy (s) |");
console.log("|---:|---:|---:|");
const figures: Record<number, { upSeconds: number; destroySeconds: number }> = {};
for (const size of SIZES) {
  const hosts = Array.from({ length: size }, (_, index) => ({ name: index === 0 ? "coord" : `b${index}` }));
  const started = performance.now();
  const farm = await createFarm({ hosts, tailnet: BENCH_TAILNET });
  const up = (performance.now() - started) / 1000;
  const destroyStarted = performance.now();
  await farm.destroy();
  const down = (performance.now() - destroyStarted) / 1000;
  console.log(`| ${size} | ${up.toFixed(2)} | ${down.toFixed(2)} |`);
  figures[size] = { upSeconds: Number(up.toFixed(2)), destroySeconds: Number(down.toFixed(2)) };
}
saveResults("farm", figures);
