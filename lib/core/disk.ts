/**
 * Free space, read once and one way for every caller: `df` with POSIX columns (-P) in KiB (-k).
 * Pure parsers for its output, and the two questions dnb asks it.
 */
import type { Context } from "./context.ts";
import { failureLine, succeeded } from "./exec.ts";

/** One row of `df -PkT`. */
export interface Mount {
  readonly type: string;
  readonly availableBytes: number;
  readonly mountPoint: string;
}

/** Parses `df -PkT` (POSIX columns plus the type): file system, type, size, used, available, capacity, mount. */
export function parseDfTable(text: string): Mount[] {
  return text.split("\n").slice(1).flatMap((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 7) return [];
    const available = Number(fields[4]);
    // A mount point with spaces spreads over several fields; joined, it fails PLAIN_PATH and is skipped.
    const mountPoint = fields.slice(6).join(" ");
    return Number.isFinite(available) ? [{ type: fields[1]!, availableBytes: available * 1024, mountPoint }] : [];
  });
}

/** Free bytes from `df -Pk <path>` (the available column), or undefined. */
export function parseDfAvailable(text: string): number | undefined {
  const line = text.trim().split("\n")[1];
  // Anchored on the numbers, so a file system or mount point with spaces in its name still parses.
  const available = line === undefined ? undefined : /\s(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s/.exec(`${line} `)?.[3];
  return available === undefined ? undefined : Number(available) * 1024;
}

/** Free bytes on the file system holding `path`, or why df could not tell. */
export async function readFree(ctx: Context, path: string): Promise<{ bytes?: number; problem?: string }> {
  const df = await ctx.runner.run({ argv: ["df", "-Pk", path], timeoutMs: 10_000 });
  if (!succeeded(df)) return { problem: failureLine(df) };
  const bytes = parseDfAvailable(df.stdout);
  return bytes === undefined ? { problem: "unreadable df output" } : { bytes };
}

/** Free bytes on the file system holding `path`, or undefined where df cannot tell. */
export async function freeBytes(ctx: Context, path: string): Promise<number | undefined> {
  return (await readFree(ctx, path)).bytes;
}

/** Every mounted file system with its type and free bytes; empty where df fails. */
export async function mountedFileSystems(ctx: Context): Promise<Mount[]> {
  const df = await ctx.runner.run({ argv: ["df", "-PkT"], timeoutMs: 10_000 });
  return succeeded(df) ? parseDfTable(df.stdout) : [];
}
