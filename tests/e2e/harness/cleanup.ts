/**
 * What a farm leaves on the machine, and how it is taken back: each run records its namespaces,
 * mounts and processes in run.json before making them; teardown undoes a record; the sweeper
 * undoes the records of runs whose owner died; a reaper process sweeps when its owner dies even by
 * SIGKILL; the mount points a farm had to create on the machine go when the last farm ends.
 */
import { dirname } from "node:path";
import { DenoRunner } from "../../../lib/core/exec.ts";
import { fromFileUrl } from "../../support/paths.ts";
import { processAlive, writeJsonAtomic } from "./tailnet.ts";

export const FARM_BASE = "/var/tmp/dnb-e2e";
/** Every network namespace of ours starts so; the sweeper touches nothing else. */
export const NETNS_PREFIX = "dnbe2e-";
/** Folders each host binds its own over; Debian's nix-bin makes neither /nix nor /etc/nix. */
export const MOUNT_POINTS = ["/nix", "/etc/nix", "/root/.ssh", "/etc/ssh/ssh_config.d"];

/** Mount points farms need, and the file naming those farms created (absent ones only). */
export interface MountPoints {
  readonly paths: readonly string[];
  readonly madeList: string;
}

const MACHINE_MOUNT_POINTS: MountPoints = { paths: MOUNT_POINTS, madeList: `${FARM_BASE}/made-mount-points.json` };
const SWEEP_SCRIPT = fromFileUrl(new URL("./sweep.ts", import.meta.url));

export interface RunRecord {
  readonly runId: string;
  readonly ownerPid: number;
  readonly netns: string[];
  readonly mounts: string[];
  readonly pids: number[];
}

const runner = new DenoRunner();

/** Atomically, so a sweeper in another process never reads half a record and takes a live run for dead. */
export function writeRecord(runDir: string, record: RunRecord): void {
  writeJsonAtomic(`${runDir}/run.json`, record);
}

/** A run folder younger than this may not have its record yet: only an older one without a record is stale. */
const RECORDLESS_GRACE_MS = 60_000;

function recentlyMade(runDir: string): boolean {
  try {
    const info = Deno.statSync(runDir);
    return Date.now() - (info.birthtime ?? info.mtime ?? new Date(0)).getTime() < RECORDLESS_GRACE_MS;
  } catch {
    return false;
  }
}

export function readRecord(runDir: string): RunRecord | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(`${runDir}/run.json`));
  } catch {
    return undefined;
  }
}

function kill(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Gone already.
  }
}

/** Undoes what one run recorded, in reverse order of making; every step is allowed to fail. */
export async function teardownRecord(runDir: string, record: RunRecord): Promise<void> {
  for (const pid of record.pids) [-pid, pid].forEach(kill);
  // Anything else still running inside our namespaces (a daemon a test started) goes too.
  for (const netns of record.netns) {
    const pids = await runner.run({ argv: ["ip", "netns", "pids", netns], timeoutMs: 5000 });
    pids.stdout.split(/\s+/).filter((pid) => pid !== "").forEach((pid) => kill(Number(pid)));
  }
  for (const mount of [...record.mounts].reverse()) {
    await runner.run({ argv: ["umount", "-l", mount], timeoutMs: 5000 });
  }
  for (const netns of record.netns) await runner.run({ argv: ["ip", "netns", "del", netns], timeoutMs: 5000 });
  await runner.run({ argv: ["rm", "-rf", "--one-file-system", runDir], timeoutMs: 60_000 });
}

function runDirs(): string[] {
  try {
    return [...Deno.readDirSync(FARM_BASE)].filter((entry) => entry.isDirectory).map((entry) =>
      `${FARM_BASE}/${entry.name}`
    );
  } catch {
    return [];
  }
}

/** Whether a run's owner lives, or its folder is too new to have a record yet. */
function runAlive(runId: string): boolean {
  const runDir = `${FARM_BASE}/${runId}`;
  const record = readRecord(runDir);
  return record === undefined ? recentlyMade(runDir) : processAlive(record.ownerPid);
}

/** Runs whose owner process is still alive. */
export function liveRunIds(): Set<string> {
  return new Set(
    runDirs().map(readRecord).filter((record) => record && processAlive(record.ownerPid)).map((record) =>
      record!.runId
    ),
  );
}

/**
 * Removes leftovers of earlier runs that died without cleaning up: run folders whose owner is
 * gone, and network namespaces with our prefix that no live run owns. Live runs are left alone.
 */
export async function sweepStaleRuns(): Promise<string[]> {
  const swept: string[] = [];
  // Each run is judged when it is reached, never from a list taken earlier: another test process
  // may start a farm while this one sweeps.
  for (const runDir of runDirs()) {
    const runId = runDir.slice(FARM_BASE.length + 1);
    if (runAlive(runId)) continue;
    const record = readRecord(runDir);
    await teardownRecord(runDir, record ?? { runId, ownerPid: 0, netns: [], mounts: [], pids: [] });
    swept.push(runId);
  }
  const namespaces = await runner.run({ argv: ["ip", "netns", "list"], timeoutMs: 5000 });
  for (const line of namespaces.stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const runId = name.startsWith(NETNS_PREFIX) ? name.slice(NETNS_PREFIX.length).split("-")[0] : undefined;
    if (runId !== undefined && !runAlive(runId)) {
      await runner.run({ argv: ["ip", "netns", "del", name], timeoutMs: 5000 });
      swept.push(name);
    }
  }
  releaseMountPoints();
  return swept;
}

function madeMountPoints(points: MountPoints): string[] {
  try {
    return JSON.parse(Deno.readTextFileSync(points.madeList));
  } catch {
    return [];
  }
}

/** Creates the mount points hosts bind over where the machine lacks them, and remembers which it made. */
export function ensureMountPoints(points = MACHINE_MOUNT_POINTS): void {
  const made = madeMountPoints(points);
  for (const path of points.paths) {
    try {
      Deno.lstatSync(path);
    } catch {
      Deno.mkdirSync(path, { recursive: true, mode: 0o700 });
      if (!made.includes(path)) made.push(path);
    }
  }
  if (made.length > 0) {
    Deno.mkdirSync(dirname(points.madeList), { recursive: true });
    Deno.writeTextFileSync(points.madeList, JSON.stringify(made));
  }
}

/**
 * Removes the mount points farms made, once no farm is live: removing one that another mount
 * namespace still uses would detach that farm's mount. Only empty folders go (rmdir).
 */
export function releaseMountPoints(points = MACHINE_MOUNT_POINTS, farmsLive = liveRunIds().size > 0): void {
  if (farmsLive) return;
  const made = madeMountPoints(points);
  // Deepest first, so /etc/ssh/ssh_config.d goes before a parent that was made with it.
  const left = [...made].sort((a, b) => b.length - a.length).filter((path) => {
    try {
      Deno.removeSync(path);
      return false;
    } catch (error) {
      return !(error instanceof Deno.errors.NotFound);
    }
  });
  if (left.length > 0) Deno.writeTextFileSync(points.madeList, JSON.stringify(left));
  else if (made.length > 0) Deno.removeSync(points.madeList);
}

const REAPER_NAME = "dnb-farm-reaper";

/** Whether a reaper already watches `pid` (test files load this module once each, in one process). */
function reaperWatching(pid: number): boolean {
  const marker = `\0${REAPER_NAME}\0${pid}\0`;
  return [...Deno.readDirSync("/proc")].some((entry) => {
    try {
      return /^\d+$/.test(entry.name) && Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).includes(marker);
    } catch {
      return false;
    }
  });
}

/**
 * Starts, once per process, a reaper in a session of its own that sweeps when this process is
 * gone, however it ended: SIGKILL runs no handler, and the farm's daemons would outlive it.
 */
export function startReaper(): void {
  if (reaperWatching(Deno.pid)) return;
  new Deno.Command("sh", {
    args: [
      "-c",
      'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; exec "$2" run -A --no-config --no-lock "$3"',
      REAPER_NAME,
      String(Deno.pid),
      Deno.execPath(),
      SWEEP_SCRIPT,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn().unref();
}
