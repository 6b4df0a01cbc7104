/** What a farm run left on the machine, as the machine shows it: for tests that check clean-up. */
import { FARM_BASE } from "./cleanup.ts";

async function output(program: string, args: string[]): Promise<string> {
  return new TextDecoder().decode((await new Deno.Command(program, { args }).output()).stdout);
}

export interface Leftovers {
  readonly netns: string[];
  readonly mounts: string[];
  /** Live (not zombie) processes whose command line names the run. */
  readonly processes: string[];
  /** Every veth on the machine: a run's links leave with its namespaces. */
  readonly veths: number;
  readonly folder: boolean;
}

export async function leftovers(runId: string): Promise<Leftovers> {
  const [netns, links, processes] = await Promise.all([
    output("ip", ["netns", "list"]),
    output("ip", ["-o", "link", "show", "type", "veth"]),
    output("ps", ["-eo", "stat=,args="]),
  ]);
  let folder = true;
  try {
    Deno.statSync(`${FARM_BASE}/${runId}`);
  } catch {
    folder = false;
  }
  return {
    netns: netns.split("\n").filter((line) => line.includes(runId)),
    mounts: Deno.readTextFileSync("/proc/mounts").split("\n").filter((line) => line.includes(`${FARM_BASE}/${runId}`)),
    processes: processes.split("\n").filter((line) => line.includes(runId) && !line.startsWith("Z")),
    veths: links.split("\n").filter((line) => line.trim() !== "").length,
    folder,
  };
}

/** Whether a process is running (a zombie has ended: it only waits to be reaped). */
export function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
