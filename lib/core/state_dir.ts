import { dirname, normalize } from "node:path";
import { DnbError } from "./errors.ts";
import type { Context } from "./context.ts";

/** Every file and folder dnb keeps in its state folder (design.md section 3), by what it is for. */
export const STATE_FILES = {
  // The builder's side of the protocol (design.md section 4): the coordinator reads and writes these over ssh.
  info: "info.json",
  claim: "claim",
  lease: "lease",
  done: "done",
  usage: "usage.json",
  // The coordinator's farm.
  cluster: "cluster.json",
  stopped: "stopped.json",
  watchdogPid: "watchdog.pid",
  watchdogLog: "watchdog.log",
  knownHosts: "known_hosts",
  sshConfig: "ssh_config",
  // One socket per builder, `mux-<alias>`: the ssh master Nix's sessions to it share (ssh/master.ts).
  sshMasters: "mux-",
  stopCommand: "bin",
  // The tailnet node dnb runs, and the secrets `tailscale up` reads (0600, deleted after use).
  tailscaleSession: "tailscale.json",
  tailscaledSocket: "tailscaled.sock",
  tailscaledState: "tailscale",
  tailscaledLog: "tailscaled.log",
  tailscaleBin: "tailscale-bin",
  tailscaleBuild: "tailscale-build",
  authKey: "authkey",
  idToken: "idtoken",
  // System files dnb changed, with their originals.
  changes: "changes.json",
  backups: "backup",
} as const;

export type StateFile = keyof typeof STATE_FILES;

export function statePath(stateDir: string, file: StateFile): string {
  return `${stateDir}/${STATE_FILES[file]}`;
}

/** Links followed on the way to a state folder before dnb gives up (Linux's own limit is 40). */
const MAX_LINKS = 32;

type Checker = Pick<Context, "files" | "host">;

function refusal(stateDir: string, why: string): DnbError {
  return new DnbError(`state folder ${stateDir} ${why}`, {
    hint: "use --state-dir with a folder that only root or you can change",
  });
}

/**
 * One step of the way: everything on it must be root's or this user's, and no other user may write a
 * folder on it, except a sticky one such as /tmp, where others cannot rename or remove what is not
 * theirs. The state folder itself (the leaf) is a real folder, no link, writable by its owner alone.
 */
function checkStep(ctx: Checker, stateDir: string, path: string, info: Deno.FileInfo, leaf: boolean): void {
  const refuse = (why: string) => refusal(stateDir, leaf ? why : `is refused: ${path} ${why}`);
  if (info.uid !== null && info.uid !== 0 && info.uid !== ctx.host.uid()) {
    throw refuse(`is owned by uid ${info.uid}, not by root or this user`);
  }
  if (info.isSymlink) {
    if (leaf) throw refuse("is a symbolic link");
    return;
  }
  if (!info.isDirectory) throw refuse("is not a folder");
  const mode = info.mode ?? 0;
  if ((mode & 0o022) !== 0 && (leaf || (mode & 0o1000) === 0)) throw refuse("is writable by other users");
}

/**
 * Makes a missing folder of the way in its (already checked) parent. mkdir never follows a link in
 * the last place of a path, so a link planted since the lstat makes it fail, and the caller's check
 * sees that link; once the new folder is seen to be ours, no other user can swap it (its parent is
 * checked), so the chmod (which would follow a link) reaches this folder only.
 */
function makeStep(ctx: Checker, path: string): Deno.FileInfo {
  const created = ctx.files.createDir(path, 0o755);
  const info = ctx.files.lstat(path);
  if (info === undefined) throw new DnbError(`${path} vanished while dnb made it`);
  if (!created || info.isSymlink || !info.isDirectory || info.uid !== ctx.host.uid()) return info;
  // The umask may have narrowed 0755; other users (a non-root ssh user) read the builder's files.
  ctx.files.chmod(path, 0o755);
  return ctx.files.lstat(path) ?? info;
}

const components = (path: string) => path.split("/").filter((name) => name !== "" && name !== ".");

/**
 * Walks from `/` to the state folder one name at a time, as the kernel resolves the path, and checks
 * every step (links included, each followed from where it points); with `create`, makes what is
 * missing. Returns false when something on the way is not there (and `create` is off).
 */
function walk(ctx: Checker, stateDir: string, create: boolean): boolean {
  const pending = components(normalize(stateDir));
  let current = "/";
  checkStep(ctx, stateDir, "/", ctx.files.lstat("/")!, pending.length === 0);
  for (let links = 0; pending.length > 0;) {
    const name = pending.shift()!;
    if (name === "..") {
      current = dirname(current);
      continue;
    }
    const path = current === "/" ? `/${name}` : `${current}/${name}`;
    const info = ctx.files.lstat(path) ?? (create ? makeStep(ctx, path) : undefined);
    if (info === undefined) return false;
    checkStep(ctx, stateDir, path, info, pending.length === 0);
    if (!info.isSymlink) {
      current = path;
      continue;
    }
    if (++links > MAX_LINKS) throw refusal(stateDir, `is refused: more than ${MAX_LINKS} links on the way`);
    const target = ctx.files.readLink(path);
    pending.unshift(...components(target));
    if (target.startsWith("/")) current = "/";
  }
  return true;
}

/**
 * Creates dnb's state folder (0755, and any missing folder above it) or checks an existing one. It
 * holds files dnb trusts as root (what to restore, which tailscale to run, which pid to signal, the
 * ssh config for ssh -F), so a folder another user could have planted or could still swap is refused:
 * see checkStateDir. Nothing is made through a link: see makeStep.
 */
export function ensureStateDir(ctx: Checker, path: string): void {
  walk(ctx, path, true);
}

/**
 * Checks the state folder and every folder above it before a command reads it: each must be root's or
 * this user's and closed to other users' writes (a sticky folder such as /tmp may be open: its
 * entries stay their owners'), and the folder itself a real folder, not a link. Returns false when
 * there is no such folder (nothing to read); throws a DnbError naming the folder and why otherwise.
 */
export function checkStateDir(ctx: Checker, path: string): boolean {
  return walk(ctx, path, false);
}
