import { dirname, join } from "node:path";

/** Small input files (an auth key): anything else, such as a FIFO that would block for ever, is refused. */
const MAX_INPUT_FILE_BYTES = 64 * 1024;

/**
 * The machine's files, as dnb reads and changes them: every file effect in lib/ goes through one
 * of these. Paths are the machine's own (`/etc/nix/nix.conf`); `root` places them elsewhere, so
 * tests run the real code against a folder of their own ("/" on a real run).
 */
export class Files {
  readonly root: string;

  constructor(root = "/") {
    this.root = root;
  }

  /** Where a machine path is under this root. */
  at(path: string): string {
    return this.root === "/" ? path : join(this.root, path);
  }

  readText(path: string): string | undefined {
    try {
      return Deno.readTextFileSync(this.at(path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  readBytes(path: string): Uint8Array {
    return Deno.readFileSync(this.at(path));
  }

  /** A small regular file given as input (an auth key); a FIFO, a folder or a large file is refused. */
  readInput(path: string): string {
    const info = Deno.statSync(this.at(path));
    if (!info.isFile) throw new Error("not a regular file");
    if (info.size > MAX_INPUT_FILE_BYTES) throw new Error(`larger than ${MAX_INPUT_FILE_BYTES} bytes`);
    return Deno.readTextFileSync(this.at(path));
  }

  exists(path: string): boolean {
    return this.stat(path) !== undefined;
  }

  /** Follows links; undefined when nothing is there. */
  stat(path: string): Deno.FileInfo | undefined {
    try {
      return Deno.statSync(this.at(path));
    } catch {
      return undefined;
    }
  }

  /** Does not follow links; undefined when nothing is there. */
  lstat(path: string): Deno.FileInfo | undefined {
    try {
      return Deno.lstatSync(this.at(path));
    } catch {
      return undefined;
    }
  }

  /** Modification time in ms since the epoch, or undefined when the file is not there. */
  modifiedAt(path: string): number | undefined {
    return this.stat(path)?.mtime?.getTime();
  }

  /** The entries of a folder; none when it is not there. */
  list(path: string): Deno.DirEntry[] {
    try {
      return [...Deno.readDirSync(this.at(path))];
    } catch {
      return [];
    }
  }

  /** The path with links resolved, or the path itself when it is not there yet. */
  canonical(path: string): string {
    try {
      const real = Deno.realPathSync(this.at(path));
      return this.root === "/" ? real : `/${real.slice(this.root.length).replace(/^\/+/, "")}`;
    } catch {
      return path;
    }
  }

  /** Writes a file whole or not at all: a temporary file in the same folder, then a rename. */
  writeAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
    const target = this.at(path);
    Deno.mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.dnb-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    try {
      // createNew (O_EXCL): a link planted at the temporary name is never followed.
      if (typeof content === "string") Deno.writeTextFileSync(temporary, content, { mode, createNew: true });
      else Deno.writeFileSync(temporary, content, { mode, createNew: true });
      Deno.chmodSync(temporary, mode);
      Deno.renameSync(temporary, target);
    } catch (error) {
      try {
        Deno.removeSync(temporary);
      } catch {
        // Never created.
      }
      throw error;
    }
  }

  /** Adds to the end of a file, creating it; for files others read line by line (GitHub's step files). */
  append(path: string, content: string): void {
    Deno.writeTextFileSync(this.at(path), content, { append: true, create: true });
  }

  /** Removes a file (or a folder, with `recursive`); nothing there is fine. */
  remove(path: string, options: { recursive?: boolean } = {}): void {
    try {
      Deno.removeSync(this.at(path), options);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /** Makes a folder and its parents; `mode` is set on it even where the umask would narrow it. */
  makeDir(path: string, mode: number): void {
    Deno.mkdirSync(this.at(path), { recursive: true, mode });
    Deno.chmodSync(this.at(path), mode);
  }

  /**
   * Makes one folder, not its parents, and never through a link: mkdir(2) does not follow a link
   * in the last place of the path. False when anything (a folder, a file, a link) is already there.
   */
  createDir(path: string, mode: number): boolean {
    try {
      Deno.mkdirSync(this.at(path), { mode });
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      throw error;
    }
  }

  /** Where a link points, as written in it. */
  readLink(path: string): string {
    return Deno.readLinkSync(this.at(path));
  }

  chmod(path: string, mode: number): void {
    Deno.chmodSync(this.at(path), mode);
  }

  rename(from: string, to: string): void {
    Deno.renameSync(this.at(from), this.at(to));
  }

  symlink(target: string, path: string): void {
    Deno.symlinkSync(target, this.at(path));
  }
}
