/**
 * Whether a pid is still a process dnb started, before dnb signals it: a pid file can outlive its
 * process, its pid can be reused by another, and a pid file names whatever its writer chose. The
 * command line comes from /proc/<pid>/cmdline on Linux (through the files, so tests plant it) and
 * from ps on macOS.
 */
import type { Context } from "./context.ts";
import { succeeded } from "./exec.ts";

type Effects = Pick<Context, "files" | "runner" | "platform" | "processes">;

/** The process's argv joined by spaces, or undefined when it is gone or cannot be read. */
export async function commandLine(ctx: Effects, pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (ctx.platform.os === "linux") {
    try {
      const text = ctx.files.readText(`/proc/${pid}/cmdline`)?.replace(/\0$/, "");
      return text ? text.replaceAll("\0", " ") : undefined;
    } catch {
      return undefined;
    }
  }
  const result = await ctx.runner.run({ argv: ["ps", "-ww", "-o", "command=", "-p", `${pid}`], timeoutMs: 5_000 });
  return succeeded(result) && result.stdout.trim() !== "" ? result.stdout.trim() : undefined;
}

/** Whether `pid` runs and its command line is what dnb started there (`expected` judges it). */
export async function isOwnProcess(
  ctx: Effects,
  pid: number,
  expected: (commandLine: string) => boolean,
): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0 || !ctx.processes.alive(pid)) return false;
  const line = await commandLine(ctx, pid);
  return line !== undefined && expected(line);
}
