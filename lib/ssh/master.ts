/**
 * One ssh connection per builder that every session to it shares (OpenSSH multiplexing). Nix opens
 * a session per derivation it sends; on its own each is a TCP handshake, a key exchange and an
 * authentication, round trips that cost most of a cheap derivation across the internet. The master
 * is dnb's: started detached (its output goes to a log, so it holds no caller's pipes open), up
 * before Nix hears of the builder, and stopped at teardown. Sessions find it through ssh_config's
 * `ControlPath` with `ControlMaster no`: where it is gone they connect on their own.
 */
import type { Context } from "../core/context.ts";
import { succeeded } from "../core/exec.ts";
import { statePath } from "../core/state_dir.ts";

/** macOS's 104-byte socket address, less its NUL and the 17 characters ssh appends while it binds. */
const MAX_CONTROL_PATH = 86;
/** A reachable builder's master is up within one ssh handshake; one not up by then is not coming. */
const MASTER_UP_MS = 5_000;
/** A look is a stat of the socket and of the log: cheap enough to keep the wait close to the handshake. */
const MASTER_POLL_MS = 10;

type Effects = Pick<Context, "runner" | "files" | "processes" | "sleep" | "now">;

/** A builder's master socket in the state folder (no other user may write there), or undefined if too long. */
export function sshMasterPath(stateDir: string, alias: string): string | undefined {
  const path = `${statePath(stateDir, "sshMasters")}${alias}`;
  return path.length <= MAX_CONTROL_PATH ? path : undefined;
}

/** The socket sessions to this builder look for: none with `--ssh-master off` (ssh_config then says `none`). */
export function controlPathFor(
  settings: { readonly stateDir: string; readonly sshMaster: "auto" | "off" },
  alias: string,
): string | undefined {
  return settings.sshMaster === "auto" ? sshMasterPath(settings.stateDir, alias) : undefined;
}

/** Where a master's own words go: beside its socket. */
function masterLog(path: string): string {
  return `${path}.log`;
}

function controlArgv(sshConfig: string, path: string, command: "check" | "exit", alias: string): string[] {
  return ["ssh", "-F", sshConfig, "-o", `ControlPath=${path}`, "-O", command, alias];
}

async function answers(ctx: Effects, sshConfig: string, path: string, alias: string): Promise<boolean> {
  if (!ctx.files.exists(path)) return false;
  return succeeded(await ctx.runner.run({ argv: controlArgv(sshConfig, path, "check", alias), timeoutMs: 5_000 }));
}

/**
 * Starts the builder's master (after ending one an earlier run left) and waits until it takes
 * sessions. A master that says anything before it is up has failed (a successful one is silent),
 * and one not up in time is killed: appearing later, it would take a session whose Nix had already
 * found no master and waits for a line that only a connection of its own prints.
 */
export async function startSshMaster(ctx: Effects, sshConfig: string, alias: string, path: string): Promise<boolean> {
  await stopSshMaster(ctx, sshConfig, alias, path);
  const logged = () => ctx.files.stat(masterLog(path))?.size ?? 0;
  const quiet = logged();
  // LogLevel ERROR: a login banner is not a failure; anything else the master says is.
  const options = [`ControlPath=${path}`, "ControlMaster=yes", "ControlPersist=no", "LogLevel=ERROR"];
  const pid = ctx.runner.start({
    argv: ["ssh", "-F", sshConfig, ...options.flatMap((option) => ["-o", option]), "-N", alias],
    logFile: masterLog(path),
  });
  const deadline = ctx.now() + MASTER_UP_MS;
  while (ctx.now() < deadline && logged() === quiet) {
    if (await answers(ctx, sshConfig, path, alias)) return true;
    await ctx.sleep(MASTER_POLL_MS);
  }
  ctx.processes.signal(pid, "SIGKILL");
  ctx.files.remove(path);
  return false;
}

/** Ends the builder's master, if one runs; a socket left by one that died goes too (a new master could not bind). */
export async function stopSshMaster(ctx: Effects, sshConfig: string, alias: string, path: string): Promise<void> {
  if (!ctx.files.exists(path)) return;
  await ctx.runner.run({ argv: controlArgv(sshConfig, path, "exit", alias), timeoutMs: 5_000 });
  ctx.files.remove(path);
}
