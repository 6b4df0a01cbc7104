/** Running the real dnb (`deno run main.ts`) inside farm hosts. */
import type { CommandResult } from "../../../lib/core/exec.ts";
import { fromFileUrl } from "../../support/paths.ts";
import type { Farm, Spawned } from "./farm.ts";

const REPO = fromFileUrl(new URL("../../../", import.meta.url));

export function dnbArgv(args: readonly string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--frozen", "--config", `${REPO}deno.json`, `${REPO}main.ts`, ...args];
}

/** A builder in `host`, with the farm's builder key and control server unless told otherwise. */
export function startBuilder(
  farm: Farm,
  host: string,
  args: readonly string[] = [],
  env: Readonly<Record<string, string>> = { TS_AUTHKEY: farm.authKey("builder") },
): Spawned {
  return farm.spawn(host, dnbArgv(["--role", "builder", "--hostname", host, ...farm.dnbArgs("builder"), ...args]), {
    env,
    log: `${farm.host(host).dir}/logs/dnb-builder.log`,
  });
}

function coordinatorArgv(farm: Farm, host: string, args: readonly string[]): string[] {
  return dnbArgv(["--role", "coordinator", "--hostname", host, ...farm.dnbArgs("coordinator"), ...args]);
}

export function runCoordinator(
  farm: Farm,
  host: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = { TS_AUTHKEY: farm.authKey("coordinator") },
): Promise<CommandResult> {
  return farm.run(host, coordinatorArgv(farm, host, args), {
    env,
    timeoutMs: 180_000,
  });
}

/** Waits for a spawned process to end, or fails after `timeoutMs`. */
export async function exitWithin(spawned: Spawned, timeoutMs: number): Promise<{ code: number; seconds: number }> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${timeoutMs} ms; log:\n${log(spawned)}`)),
      timeoutMs,
    );
  });
  try {
    const status = await Promise.race([spawned.status, timeout]);
    return { code: status.code, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
  }
}

export function log(spawned: Spawned): string {
  try {
    return Deno.readTextFileSync(spawned.logFile);
  } catch {
    return "(no log)";
  }
}

/** Every process's command line, as any user of the machine can read it. */
export function allCommandLines(): string[] {
  const lines: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      lines.push(Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " "));
    } catch {
      // The process ended meanwhile.
    }
  }
  return lines;
}

/** Any dnb command inside a host (stop, post, status…). */
export function runDnb(farm: Farm, host: string, args: readonly string[]): Promise<CommandResult> {
  return farm.run(host, dnbArgv(args), { timeoutMs: 120_000 });
}

/** A coordinator as a process of its own, for tests that signal it. */
export function startCoordinator(farm: Farm, host: string, args: readonly string[]): Spawned {
  return farm.spawn(host, coordinatorArgv(farm, host, args), {
    env: { TS_AUTHKEY: farm.authKey("coordinator") },
    log: `${farm.host(host).dir}/logs/dnb-coordinator.log`,
  });
}

/** The files dnb changes on a coordinator, by path below its host folder: their bytes, or "(absent)". */
export function coordinatorFiles(farm: Farm, host = "coord"): Record<string, string> {
  return Object.fromEntries(["etc-nix/nix.conf", "etc-nix/machines", "ssh_config.d/dnb.conf"].map((path) => {
    try {
      return [path, Deno.readTextFileSync(`${farm.host(host).dir}/${path}`)];
    } catch {
      return [path, "(absent)"];
    }
  }));
}
