import type { TailnetKind } from "../e2e/harness/farm.ts";

/** The tailnet the benchmarks run on: the real one (Headscale, tailscaled), or the double with DNB_BENCH_TAILNET=double. */
export const BENCH_TAILNET: TailnetKind = Deno.env.get("DNB_BENCH_TAILNET") === "double" ? "double" : "real";

/** Each benchmark adds its section to tests/bench/results.json under its tailnet, with the machine it ran on. */
export function saveResults(section: string, results: unknown): void {
  const path = new URL("./results.json", import.meta.url);
  let all: Record<string, Record<string, unknown> | string> = {};
  try {
    all = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    // First benchmark of this file.
  }
  all.machine = describeMachine();
  const sections = typeof all[BENCH_TAILNET] === "object" ? all[BENCH_TAILNET] as Record<string, unknown> : {};
  sections[section] = { at: new Date().toISOString(), ...results as Record<string, unknown> };
  all[BENCH_TAILNET] = sections;
  Deno.writeTextFileSync(path, JSON.stringify(all, null, 2) + "\n");
}

/** e.g. "Intel(R) Xeon(R) Processor, 2 cores, 24 GiB, linux 6.18.44/x86_64". */
export function describeMachine(): string {
  let cpu = "unknown CPU";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  const gib = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${gib} GiB, ${Deno.build.os} ${Deno.osRelease()}/${Deno.build.arch}`;
}
