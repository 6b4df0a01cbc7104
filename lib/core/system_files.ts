/**
 * System files dnb changes, and how teardown gives them back: the first write to a path keeps its
 * original (bytes and mode) in the state folder, and restoring puts every original back or
 * removes what dnb created. Idempotent: a second restore finds nothing to do. Only the paths dnb
 * manages are ever written or restored, never with setuid, setgid or sticky bits, and only from a
 * backup that is a regular file where dnb keeps it: a changes.json that says otherwise is refused.
 */
import { basename, dirname } from "node:path";
import type { Files } from "./files.ts";
import { statePath } from "./state_dir.ts";

/**
 * Every system file dnb writes: nix.conf or nix.custom.conf (nix/conf.ts), the machines file, root's
 * ssh_config or its drop-in (ssh/ssh_config.ts) and the kvm udev rule (nix/features.ts). Those
 * modules sit above this one; tests/unit/system_files_test.ts holds them to this list.
 */
export const MANAGED_SYSTEM_FILES: readonly string[] = [
  "/etc/nix/nix.conf",
  "/etc/nix/nix.custom.conf",
  "/etc/nix/machines",
  "/etc/ssh/ssh_config",
  "/etc/ssh/ssh_config.d/dnb.conf",
  "/etc/udev/rules.d/99-dnb-kvm.rules",
];

/** config/names.ts's STOP_ALIAS (that module sits above this one; a test holds them equal). */
export const STOP_COMMAND_NAME = "stop-nix-builders";

/** What dnb found at a system path before it first wrote there; teardown puts it back. */
export interface OriginalFile {
  readonly path: string;
  readonly existed: boolean;
  /** Copy of the original, byte for byte, in the state folder. */
  readonly backup?: string;
  readonly mode?: number;
}

/**
 * Whether dnb manages `path`: a file of the list, or the `stop-nix-builders` it installs: a script
 * in the state folder (from source), or a link next to the compiled dnb it points to.
 */
export function managedPath(files: Files, stateDir: string, path: unknown): path is string {
  if (typeof path !== "string") return false;
  if (MANAGED_SYSTEM_FILES.includes(path)) return true;
  if (path === `${statePath(stateDir, "stopCommand")}/${STOP_COMMAND_NAME}`) return true;
  if (basename(path) !== STOP_COMMAND_NAME || !path.startsWith("/") || !files.lstat(path)?.isSymlink) return false;
  const target = files.readLink(path);
  return target.startsWith("/") && dirname(target) === dirname(path);
}

/** Where the first original of `path` is kept. */
export function backupPath(stateDir: string, path: string): string {
  return `${statePath(stateDir, "backups")}/${path.replaceAll("/", "%")}`;
}

export function readChanges(files: Files, stateDir: string): OriginalFile[] {
  const text = files.readText(statePath(stateDir, "changes"));
  if (text === undefined) return [];
  const changes: unknown = JSON.parse(text);
  return Array.isArray(changes) ? changes : [];
}

function recordChange(files: Files, stateDir: string, change: OriginalFile): void {
  const changes = [...readChanges(files, stateDir), change];
  files.writeAtomic(statePath(stateDir, "changes"), JSON.stringify(changes, null, 2) + "\n", 0o600);
}

/** Permission bits only: a file dnb writes or puts back is never setuid, setgid or sticky. */
const PERMISSIONS = 0o777;

const modeOf = (files: Files, path: string) => (files.stat(path)?.mode ?? 0o644) & PERMISSIONS;

function requireManaged(files: Files, stateDir: string, path: string): void {
  if (!managedPath(files, stateDir, path)) throw new Error(`internal: ${path} is not a file dnb manages`);
}

/**
 * Writes a system file, keeping its original the first time dnb touches it. A re-run keeps the
 * first backup, so teardown always restores what was there before dnb ever ran.
 */
export function writeSystemFile(files: Files, stateDir: string, path: string, content: string): void {
  requireManaged(files, stateDir, path);
  if (!readChanges(files, stateDir).some((change) => change.path === path)) {
    const original = files.exists(path) ? files.readBytes(path) : undefined;
    if (original === undefined) {
      recordChange(files, stateDir, { path, existed: false });
    } else {
      const backup = backupPath(stateDir, path);
      files.makeDir(statePath(stateDir, "backups"), 0o700);
      files.writeAtomic(backup, original, 0o600);
      recordChange(files, stateDir, { path, existed: true, backup, mode: modeOf(files, path) });
    }
  }
  files.writeAtomic(path, content, files.exists(path) ? modeOf(files, path) : 0o644);
}

/** Records a file dnb created (a link, a script) so teardown removes it. */
export function recordCreated(files: Files, stateDir: string, path: string): void {
  requireManaged(files, stateDir, path);
  if (readChanges(files, stateDir).some((change) => change.path === path)) return;
  recordChange(files, stateDir, { path, existed: false });
}

/** What restoreSystemFiles did; `refused` names entries of changes.json it would not act on, and why. */
export interface Restore {
  readonly restored: string[];
  readonly removed: string[];
  readonly refused: string[];
}

/** `put back /etc/nix/nix.conf; removed /etc/nix/machines`: what restoreSystemFiles did, for a log line. */
export function describeRestore({ restored, removed }: Pick<Restore, "restored" | "removed">): string {
  return `put back ${restored.join(", ") || "nothing"}; removed ${removed.join(", ") || "nothing"}`;
}

/** Why an entry of changes.json is not acted on, or undefined when it is one dnb could have written. */
function refusedChange(files: Files, stateDir: string, change: OriginalFile): string | undefined {
  if (typeof change !== "object" || change === null) return "not an entry";
  if (!managedPath(files, stateDir, change.path)) return "not a file dnb manages";
  if (change.existed === false) return undefined;
  if (change.existed !== true) return "no existed flag";
  if (change.mode !== undefined && !Number.isInteger(change.mode)) return "a mode that is not a number";
  if (change.backup !== backupPath(stateDir, change.path)) return "a backup that is not where dnb keeps it";
  const folder = files.lstat(statePath(stateDir, "backups"));
  const backup = files.lstat(change.backup);
  if (!folder?.isDirectory || folder.isSymlink || !backup?.isFile || backup.isSymlink) {
    return "a backup that is not a regular file in the state folder";
  }
  return undefined;
}

/**
 * Puts back every system file dnb changed: originals byte for byte (and permission bits), files that
 * did not exist are removed. Returns what it did, and what it refused; safe to call when nothing
 * was changed.
 */
export function restoreSystemFiles(files: Files, stateDir: string): Restore {
  const restore: Restore = { restored: [], removed: [], refused: [] };
  for (const change of readChanges(files, stateDir).reverse()) {
    const refused = refusedChange(files, stateDir, change);
    if (refused !== undefined) {
      restore.refused.push(`${JSON.stringify(String(change?.path).slice(0, 200))} (${refused})`);
    } else if (change.existed) {
      files.writeAtomic(change.path, files.readBytes(change.backup!), (change.mode ?? 0o644) & PERMISSIONS);
      restore.restored.push(change.path);
    } else {
      files.remove(change.path);
      restore.removed.push(change.path);
    }
  }
  files.remove(statePath(stateDir, "changes"));
  files.remove(statePath(stateDir, "backups"), { recursive: true });
  return restore;
}
