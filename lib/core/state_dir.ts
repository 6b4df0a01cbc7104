import { DnbError } from "./errors.ts";

/**
 * Creates dnb's state folder (0755) or checks an existing one: it holds files other processes
 * trust (claim, lease, known_hosts), so a symlink, another owner or group/world write is refused.
 */
export function ensureStateDir(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    Deno.mkdirSync(path, { recursive: true, mode: 0o755 });
    Deno.chmodSync(path, 0o755);
    info = Deno.lstatSync(path);
  }
  const refuse = (why: string) =>
    new DnbError(`state folder ${path} ${why}`, { hint: "use --state-dir with a folder only you can write" });
  if (info.isSymlink) throw refuse("is a symbolic link");
  if (!info.isDirectory) throw refuse("is not a folder");
  if (info.uid !== null && info.uid !== Deno.uid()) throw refuse(`is owned by uid ${info.uid}, not by this user`);
  if (((info.mode ?? 0) & 0o022) !== 0) throw refuse("is writable by other users");
}
