/**
 * System files dnb changes, and how teardown gives them back: the first write to a path keeps its
 * original (bytes and mode) in the state folder, and restoring puts every original back or
 * removes what dnb created. Idempotent: a second restore finds nothing to do.
 */
import type { Files } from "./files.ts";
import { statePath } from "./state_dir.ts";

/** What dnb found at a system path before it first wrote there; teardown puts it back. */
export interface OriginalFile {
  readonly path: string;
  readonly existed: boolean;
  /** Copy of the original, byte for byte, in the state folder. */
  readonly backup?: string;
  readonly mode?: number;
}

export function readChanges(files: Files, stateDir: string): OriginalFile[] {
  const text = files.readText(statePath(stateDir, "changes"));
  return text === undefined ? [] : JSON.parse(text);
}

function recordChange(files: Files, stateDir: string, change: OriginalFile): void {
  const changes = [...readChanges(files, stateDir), change];
  files.writeAtomic(statePath(stateDir, "changes"), JSON.stringify(changes, null, 2) + "\n", 0o600);
}

const modeOf = (files: Files, path: string) => (files.stat(path)?.mode ?? 0o644) & 0o7777;

/**
 * Writes a system file, keeping its original the first time dnb touches it. A re-run keeps the
 * first backup, so teardown always restores what was there before dnb ever ran.
 */
export function writeSystemFile(files: Files, stateDir: string, path: string, content: string): void {
  if (!readChanges(files, stateDir).some((change) => change.path === path)) {
    const original = files.exists(path) ? files.readBytes(path) : undefined;
    if (original === undefined) {
      recordChange(files, stateDir, { path, existed: false });
    } else {
      const backup = `${statePath(stateDir, "backups")}/${path.replaceAll("/", "%")}`;
      files.makeDir(statePath(stateDir, "backups"), 0o700);
      files.writeAtomic(backup, original, 0o600);
      recordChange(files, stateDir, { path, existed: true, backup, mode: modeOf(files, path) });
    }
  }
  files.writeAtomic(path, content, files.exists(path) ? modeOf(files, path) : 0o644);
}

/** Records a file dnb created (a link, a script) so teardown removes it. */
export function recordCreated(files: Files, stateDir: string, path: string): void {
  if (readChanges(files, stateDir).some((change) => change.path === path)) return;
  recordChange(files, stateDir, { path, existed: false });
}

/** `put back /etc/nix/nix.conf; removed /etc/nix/machines`: what restoreSystemFiles did, for a log line. */
export function describeRestore({ restored, removed }: { restored: string[]; removed: string[] }): string {
  return `put back ${restored.join(", ") || "nothing"}; removed ${removed.join(", ") || "nothing"}`;
}

/**
 * Puts back every system file dnb changed: originals byte for byte (and mode), files that did not
 * exist are removed. Returns what it did; safe to call when nothing was changed.
 */
export function restoreSystemFiles(files: Files, stateDir: string): { restored: string[]; removed: string[] } {
  const restored: string[] = [];
  const removed: string[] = [];
  for (const change of readChanges(files, stateDir).reverse()) {
    if (change.existed && change.backup !== undefined) {
      files.writeAtomic(change.path, files.readBytes(change.backup), change.mode ?? 0o644);
      restored.push(change.path);
    } else {
      files.remove(change.path);
      removed.push(change.path);
    }
  }
  files.remove(statePath(stateDir, "changes"));
  files.remove(statePath(stateDir, "backups"), { recursive: true });
  return { restored, removed };
}
