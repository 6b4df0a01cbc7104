/**
 * Peak resident memory and idle CPU of a builder's idle loop and of the coordinator's watchdog,
 * read from /proc over 20 s of an idle farm. Run as root: deno task bench.
 */
import { createFarm, type Farm } from "../e2e/harness/farm.ts";
import { runCoordinator, startBuilder } from "../e2e/harness/dnb.ts";
import { BENCH_TAILNET, saveResults } from "./results.ts";

const TICKS_PER_SECOND = 100;
const IDLE_SECONDS = 20;

async function pidOf(farm: Farm, host: string, needle: string): Promise<number> {
  const pids = new TextDecoder().decode(
    (await new Deno.Command("ip", { args: ["netns", "pids", farm.host(host).netns] }).output()).stdout,
  ).split(/\s+/).filter((pid) => pid !== "");
  const pid = pids.find((candidate) => {
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${candidate}/cmdline`).replaceAll("\0", " ");
      return cmdline.includes(needle) && !cmdline.startsWith("sh ");
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error(`no process matching ${needle} on ${host}`);
  return Number(pid);
}

function cpuTicks(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function peakRssMiB(pid: number): number {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).split("\n").find((l) => l.startsWith("VmHWM:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

const farm = await createFarm({ hosts: [{ name: "coord" }, { name: "b1" }], tailnet: BENCH_TAILNET });
try {
  startBuilder(farm, "b1");
  const coordinator = await runCoordinator(farm, "coord", ["--builders", "b1"]);
  if (coordinator.code !== 0) throw new Error(coordinator.stderr);
  const processes = {
    "builder idle loop": await pidOf(farm, "b1", "--role builder"),
    "watchdog (lease 120 s)": await pidOf(farm, "coord", " watchdog "),
    "tailscaled (builder)": await pidOf(farm, "b1", "tailscaled --state=mem:"),
  };
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuTicks(pid)]));
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  console.log(`\nidle over ${IDLE_SECONDS} s\n| process | peak RSS (MiB) | CPU (% of one core) |\n|---|---:|---:|`);
  const results: Record<string, { peakRssMiB: number; cpuPercent: number }> = {};
  for (const [name, pid] of Object.entries(processes)) {
    const cpu = ((cpuTicks(pid) - before[name]!) / TICKS_PER_SECOND / IDLE_SECONDS) * 100;
    results[name] = { peakRssMiB: Number(peakRssMiB(pid).toFixed(1)), cpuPercent: Number(cpu.toFixed(2)) };
    console.log(`| ${name} | ${results[name]!.peakRssMiB} | ${results[name]!.cpuPercent} |`);
  }
  saveResults("memory", results);
} finally {
  await farm.destroy();
}
