/** Each benchmark adds its section to bench/results.json, with the machine it ran on. */
export function saveResults(section: string, results: unknown): void {
  const path = new URL("./results.json", import.meta.url);
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    // First benchmark of this file.
  }
  all.machine = `${navigator.hardwareConcurrency} cores, ${
    Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
  } GiB, ${Deno.build.os}/${Deno.build.arch}`;
  all[section] = { at: new Date().toISOString(), ...results as Record<string, unknown> };
  Deno.writeTextFileSync(path, JSON.stringify(all, null, 2) + "\n");
}
