import { dirname } from "node:path";
import { statePath } from "./state_dir.ts";

/** Writes a file whole or not at all: a temporary file in the same folder, then a rename. */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.dnb-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof content === "string") Deno.writeTextFileSync(temporary, content, { mode });
    else Deno.writeFileSync(temporary, content, { mode });
    Deno.chmodSync(temporary, mode);
    Deno.renameSync(temporary, path);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch {
      // Never created.
    }
    throw error;
  }
}

export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Small input files (an auth key): anything else, such as a FIFO that would block for ever, is refused. */
const MAX_INPUT_FILE_BYTES = 64 * 1024;

export function readInputFile(path: string): string {
  const info = Deno.statSync(path);
  if (!info.isFile) throw new Error("not a regular file");
  if (info.size > MAX_INPUT_FILE_BYTES) throw new Error(`larger than ${MAX_INPUT_FILE_BYTES} bytes`);
  return Deno.readTextFileSync(path);
}

/** A file's modification time in ms since the epoch, or undefined when it is not there. */
export function modifiedAt(path: string): number | undefined {
  try {
    return Deno.statSync(path).mtime?.getTime();
  } catch {
    return undefined;
  }
}

export function readIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** What dnb found at a system path before it first wrote there; teardown puts it back. */
export interface OriginalFile {
  readonly path: string;
  readonly existed: boolean;
  /** Copy of the original, byte for byte, in the state folder. */
  readonly backup?: string;
  readonly mode?: number;
}

export function readChanges(stateDir: string): OriginalFile[] {
  const text = readIfExists(statePath(stateDir, "changes"));
  return text === undefined ? [] : JSON.parse(text);
}

/**
 * Writes a system file, keeping its original the first time dnb touches it. A re-run keeps the
 * first backup, so teardown always restores what was there before dnb ever ran.
 */
export function writeSystemFile(stateDir: string, path: string, content: string): void {
  const changes = readChanges(stateDir);
  if (!changes.some((change) => change.path === path)) {
    let original: OriginalFile = { path, existed: false };
    try {
      const bytes = Deno.readFileSync(path);
      const backup = `${statePath(stateDir, "backups")}/${path.replaceAll("/", "%")}`;
      Deno.mkdirSync(statePath(stateDir, "backups"), { recursive: true, mode: 0o700 });
      Deno.writeFileSync(backup, bytes, { mode: 0o600 });
      original = { path, existed: true, backup, mode: (Deno.statSync(path).mode ?? 0o644) & 0o7777 };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    writeFileAtomic(statePath(stateDir, "changes"), JSON.stringify([...changes, original], null, 2) + "\n", 0o600);
  }
  const mode = (() => {
    try {
      return (Deno.statSync(path).mode ?? 0o644) & 0o7777;
    } catch {
      return 0o644;
    }
  })();
  writeFileAtomic(path, content, mode);
}

/** Records a file dnb created (a link, a script) so teardown removes it. */
export function recordCreated(stateDir: string, path: string): void {
  const changes = readChanges(stateDir);
  if (changes.some((change) => change.path === path)) return;
  writeFileAtomic(
    statePath(stateDir, "changes"),
    JSON.stringify([...changes, { path, existed: false }], null, 2) + "\n",
    0o600,
  );
}

export function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** `put back /etc/nix/nix.conf; removed /etc/nix/machines`: what restoreSystemFiles did, for a log line. */
export function describeRestore({ restored, removed }: { restored: string[]; removed: string[] }): string {
  return `put back ${restored.join(", ") || "nothing"}; removed ${removed.join(", ") || "nothing"}`;
}

/**
 * Puts back every system file dnb changed: originals byte for byte (and mode), files that did not
 * exist are removed. Returns what it did; safe to call when nothing was changed.
 */
export function restoreSystemFiles(stateDir: string): { restored: string[]; removed: string[] } {
  const restored: string[] = [];
  const removed: string[] = [];
  for (const change of readChanges(stateDir).reverse()) {
    if (change.existed && change.backup !== undefined) {
      writeFileAtomic(change.path, Deno.readFileSync(change.backup), change.mode ?? 0o644);
      restored.push(change.path);
    } else {
      removeIfPresent(change.path);
      removed.push(change.path);
    }
  }
  for (const path of [statePath(stateDir, "changes"), statePath(stateDir, "backups")]) {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Nothing was changed.
    }
  }
  return { restored, removed };
}
